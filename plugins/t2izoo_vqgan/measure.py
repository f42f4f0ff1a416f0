"""Measure a shapes VQGAN+CLIP: VQGAN reconstruction (MSE/PSNR) and CLIP score before/after.

    python -m t2izoo_vqgan.measure --clip runs/shapes-clip-tiny.pt --vqgan runs/shapes-vqgan/vqmodel \\
        --out runs/vqgan-measure [--iterations 100] [--recon-images 256]

``--clip`` is an open_clip checkpoint of ``shapes-clip-tiny`` (``export_open_clip``), used both as
the pipeline's encoder and as the guide; ``--vqgan`` a VQModel directory (``export_vqmodel`` or
``t2izoo convert vqgan``). Writes ``metrics.json``, a grid of the optimisation
(``grid.png``: start, intermediate frames, final, one real image of the caption) and
reconstructions (``recon.png``).

CLIP score = raw cosine between the guide's embedding of the whole image and of the prompt (the
seed paper's measure; the guide is also the optimiser's target, so an independent check is added:
the project's shapes classifier, ``shapes-accuracy``, on the same images).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

PROMPTS = (
    "a big red circle",
    "a big blue square",
    "a big green triangle",
    "a big yellow circle",
    "a red circle left of a blue square",
    "a big purple square | red:-0.5",
)


def _pipeline(clip: str, vqgan: str, overrides: dict[str, Any]) -> Any:
    import t2izoo

    return t2izoo.build("shapes-vqgan-clip", {
        "encoder.pretrained": clip, "generator.clip.pretrained": clip, "generator.vqgan_weights": vqgan, **overrides,
    })


def reconstruction(pipe: Any, count: int, seed: int = 1) -> tuple[dict[str, float], Any, Any]:
    """MSE and PSNR (images in [0, 1], data range 1) of encode-quantise-decode on shapes test images."""
    import torch
    from tqdm.auto import tqdm

    from t2izoo.data import load_dataset

    gen = pipe.generator
    size = gen.config.resolution
    ds = load_dataset("shapes", split="test", resolutions=(size,), size=count, seed=seed)
    mse_sum, psnr_sum, n, first = 0.0, 0.0, 0, None
    with torch.no_grad():
        for start in tqdm(range(0, len(ds), 32), desc="reconstruction", leave=False):
            x = torch.stack([ds[i].images[size] for i in range(start, min(start + 32, len(ds)))])
            rec, _ = gen.reconstruct(x)
            err = ((rec.clamp(-1, 1) - x) / 2).pow(2).flatten(1).mean(1)  # in [0, 1] units
            mse_sum += float(err.sum())
            psnr_sum += float((10 * torch.log10(1 / err.clamp_min(1e-10))).sum())
            n += x.shape[0]
            if first is None:
                first = (x[:8], rec[:8].clamp(-1, 1))
    return {"mse": mse_sum / n, "psnr_db": psnr_sum / n, "images": n, "resolution": size}, *first


def main(argv: list[str] | None = None) -> int:
    import torch

    from t2izoo.pipeline import tensor_to_pil

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clip", required=True)
    p.add_argument("--vqgan", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--iterations", type=int, default=100)
    p.add_argument("--recon-images", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--lr", type=float, default=None, help="AdamW lr on z (default: the preset's 0.5)")
    p.add_argument("--prompts", nargs="*", default=list(PROMPTS))
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)
    overrides: dict[str, Any] = {"generator.iterations": args.iterations}
    if args.lr is not None:
        overrides["generator.lr"] = args.lr
    pipe = _pipeline(args.clip, args.vqgan, overrides)
    gen = pipe.generator
    metrics: dict[str, Any] = {"reconstruction": None, "prompts": {}}
    metrics["reconstruction"], real, rec = reconstruction(pipe, args.recon_images)
    tensor_to_pil(torch.cat([torch.cat(list(real), -1), torch.cat(list(rec), -1)], -2)[None])[0].save(out / "recon.png")

    every = max(1, args.iterations // 4)
    rows, starts, ends, finals = [], [], [], []
    for i, prompt in enumerate(args.prompts):
        text = pipe.encoder.encode([prompt])
        result = gen(text, generator=torch.Generator().manual_seed(args.seed + i), prompts=[prompt], frame_every=every)
        # the same seed draws the same starting latent
        start = gen.decode_latents(gen.sample_noise(1, torch.Generator().manual_seed(args.seed + i)))
        s0, s1 = float(result.extras["similarity_start"][0]), float(result.extras["similarity_end"][0])
        starts.append(s0)
        ends.append(s1)
        finals.append(result.image)
        metrics["prompts"][prompt] = {"clip_cos_start": s0, "clip_cos_end": s1}
        frames = [f for _, f in result.extras["frames"][:-1]]
        rows.append((prompt, [start.detach().cpu(), *frames, result.image.cpu()]))
    metrics["clip_cos_start_mean"] = sum(starts) / len(starts)
    metrics["clip_cos_end_mean"] = sum(ends) / len(ends)
    metrics["accuracy"] = _shapes_accuracy(torch.cat(finals), args.prompts)
    metrics["protocol"] = {
        "clip": "shapes-clip-tiny (" + args.clip + ")", "vqgan": args.vqgan, "iterations": args.iterations,
        "cutn": gen.config.cutn, "lr": gen.config.lr, "seed": args.seed,
        "clip_score": "raw cosine, guide CLIP, whole 64 px image vs first prompt part",
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    _grid(rows, every, out / "grid.png")
    print(json.dumps(metrics, indent=2))
    return 0


def _shapes_accuracy(images: Any, prompts: list[str]) -> dict[str, Any] | None:
    """The shapes classifier's attribute accuracy on the final images (an error note if unavailable)."""
    import t2izoo

    try:
        ev = t2izoo.create_component("evaluator", "shapes-accuracy")
    except Exception as err:  # weights not shipped in this install
        return {"error": f"{type(err).__name__}: {err}"}
    plain = [p.split("|")[0].strip() for p in prompts]
    ev.update(images, prompts=plain)
    res = ev.compute()
    return {"value": res.value, "protocol": res.protocol}


def _grid(rows: list[tuple[str, list[Any]]], every: int, path: Path) -> None:
    import torch
    from PIL import Image, ImageDraw

    from t2izoo.pipeline import tensor_to_pil

    cols = len(rows[0][1])
    size = rows[0][1][0].shape[-1] * 2
    label_h = 14
    canvas = Image.new("RGB", (cols * size, len(rows) * (size + label_h) + label_h), "white")
    draw = ImageDraw.Draw(canvas)
    heads = ["start"] + [f"step {every * (k + 1)}" for k in range(cols - 2)] + ["final"]
    for c, head in enumerate(heads):
        draw.text((c * size + 2, 1), head, fill="black")
    for r, (prompt, images) in enumerate(rows):
        y = label_h + r * (size + label_h)
        draw.text((2, y + 1), prompt[: 8 * cols], fill="black")
        for c, img in enumerate(images):
            pil = tensor_to_pil(torch.nn.functional.interpolate(img, scale_factor=2, mode="nearest"))[0]
            canvas.paste(pil, (c * size, y + label_h))
    canvas.save(path)


if __name__ == "__main__":
    raise SystemExit(main())
