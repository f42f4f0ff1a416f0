"""Measure a trained shapes CLIP and write it as the ``shapes-clip`` preset's weights.

The tiny ``shapes-clip-tiny`` architecture trained with the ``shapes-clip`` recipe is what makes
CLIP features mean something offline (CLIP score on shapes, CD-AttnGAN's CLIP guidance,
VQGAN+CLIP on shapes). This script takes the run's exported pipeline, measures held-out
retrieval on the ``test`` split (top-1 among groups of 64 captions, both directions), and writes
the encoder in component layout (``config.json`` + float16 ``model.safetensors``) with a
``training.json`` record of how it was made. ``t2izoo publish`` then copies it under hub/ and
pins it in the card; ``pretrained: shapes`` of ``shapes-clip-tiny`` loads that pin.

Example:
    $ t2izoo train shapes-clip-diffusion --recipe shapes-clip encoder.frozen=false \\
          --steps 1500 --batch-size 64 --out runs/shapes-clip
    $ python -m t2izoo_clip.bundle_shapes_clip runs/shapes-clip/final --out runs/shapes-clip/bundle
    $ t2izoo publish runs/shapes-clip/bundle --preset shapes-clip
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import torch

__all__ = ["retrieval_accuracy", "bundle", "main"]


@torch.no_grad()
def retrieval_accuracy(encoder: Any, n: int = 512, group: int = 64, seed: int = 0) -> dict[str, float]:
    """Top-1 retrieval on the shapes ``test`` split, in groups of ``group`` image/caption pairs.

    Chance is ``1 / group``. Captions are the first of each sample's five.

    Example:
        >>> retrieval_accuracy(pipe.encoder, n=128)  # doctest: +SKIP
        {'image_to_text': 0.61, 'text_to_image': 0.58, 'group': 64, 'n': 128}
    """
    from t2izoo.data import ShapesDataset

    resolution = int(getattr(encoder.clip.visual, "image_size", (64, 64))[0])
    ds = ShapesDataset("test", size=n, seed=seed, resolutions=(resolution,), n_captions=1)
    hits_i2t = hits_t2i = total = 0
    for start in range(0, n - group + 1, group):
        samples = [ds[i] for i in range(start, start + group)]
        images = torch.stack([s.images[resolution] for s in samples])
        img = encoder.image_features(images, normalize=True)
        txt = encoder.text_features([s.captions[0] for s in samples], normalize=True)
        sim = img @ txt.T
        target = torch.arange(group)
        hits_i2t += int((sim.argmax(1) == target).sum())
        hits_t2i += int((sim.argmax(0) == target).sum())
        total += group
    return {"image_to_text": hits_i2t / total, "text_to_image": hits_t2i / total, "group": group, "n": total}


def bundle(run_final: str | Path, out_dir: str | Path, n_eval: int = 512) -> dict[str, Any]:
    """Write the encoder (component layout, fp16 weights) and ``training.json`` into ``out_dir``.

    The config written is the one the ``shapes-clip`` card builds: frozen, weights from the folder
    (``pretrained: null``), whatever the run trained with.
    """
    from safetensors.torch import save_file

    import t2izoo

    run_final = Path(run_final)
    pipe = t2izoo.build(str(run_final), pretrained=str(run_final))
    encoder = pipe.encoder.eval()
    if encoder.config.model != "shapes-clip-tiny":
        raise ValueError(f"{run_final}/encoder is clip.model={encoder.config.model!r}, not 'shapes-clip-tiny'")
    scores = retrieval_accuracy(encoder, n=n_eval)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in encoder.state_dict().items()}
    save_file(state, str(out_dir / "model.safetensors"), metadata={"format": "pt", "t2izoo": "encoder"})
    config = encoder.config.model_copy(update={"pretrained": None, "frozen": True})
    (out_dir / "config.json").write_text(json.dumps(config.model_dump(mode="json"), indent=2) + "\n")
    run = json.loads((run_final.parent / "run.json").read_text()) if (run_final.parent / "run.json").exists() else {}
    # the steps actually trained: the newest checkpoint (a run may be stopped early and resumed to export)
    checkpoints = sorted((run_final.parent / "checkpoints").glob("step-*"))
    steps = int(checkpoints[-1].name.split("-")[1]) if checkpoints else run.get("train", {}).get("steps")
    record = {
        "model": "shapes-clip-tiny",
        "pretrained_tag": "shapes",
        "dtype": "float16 (loaded as the model's dtype)",
        "trained_by": run.get("command"),
        "steps": steps,
        "held_out_retrieval": scores,
    }
    (out_dir / "training.json").write_text(json.dumps(record, indent=2) + "\n")
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_final", help="the run's final/ pipeline directory")
    parser.add_argument("--out", required=True, help="folder to write; then `t2izoo publish OUT --preset shapes-clip`")
    parser.add_argument("--n-eval", type=int, default=512)
    args = parser.parse_args(argv)
    print(json.dumps(bundle(args.run_final, args.out, args.n_eval), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
