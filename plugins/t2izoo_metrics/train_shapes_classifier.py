"""Train the ``shapes`` attribute classifier used by ``shapes-fid``, ``shapes-accuracy`` and the
``shapes-attributes`` R-precision space.

Example:
    $ python -m t2izoo_metrics.train_shapes_classifier --out runs/shapes-clf --steps 1500
    $ t2izoo evaluate ... --metrics shapes-accuracy   # with weights=runs/shapes-clf/shapes-classifier.safetensors

The training set is rendered once into memory (uint8) from the ``train`` split; held-out accuracy
is measured on the ``test`` split (other scenes from the same rules) and written, with the
budget, into the JSON record next to the weights.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

__all__ = ["train", "evaluate_classifier", "render_split", "main"]


def render_split(split: str, size: int, seed: int = 0, resolution: int = 64,
                 progress: bool = True) -> tuple[torch.Tensor, list[dict[str, Any]]]:
    """(``[N, 3, r, r]`` uint8 images, attributes) of the first ``size`` items of a shapes split."""
    from tqdm.auto import tqdm

    from t2izoo.data import ShapesDataset

    ds = ShapesDataset(split, size=size, seed=seed, resolutions=(resolution,), n_captions=1)
    images = torch.empty(size, 3, resolution, resolution, dtype=torch.uint8)
    attrs = []
    for i in tqdm(range(size), desc=f"render shapes/{split}", disable=not progress, leave=False):
        s = ds[i]
        images[i] = ((s.images[resolution] + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)
        attrs.append(s.attributes)
    return images, attrs


def _to_float(images: torch.Tensor) -> torch.Tensor:
    return images.float() / 127.5 - 1


def _loss(out: dict[str, torch.Tensor], tgt: dict[str, torch.Tensor]) -> torch.Tensor:
    loss = F.cross_entropy(out["cell_shape"].flatten(0, 1), tgt["cell_shape"].flatten())
    for key in ("cell_colour", "cell_texture", "cell_size"):  # only where an object is
        loss = loss + F.cross_entropy(out[key].flatten(0, 1), tgt[key].flatten(), ignore_index=-1)
    loss = loss + F.cross_entropy(out["background"], tgt["background"])
    return loss + F.binary_cross_entropy_with_logits(out["pairs"], tgt["pairs"]) * 10


@torch.no_grad()
def evaluate_classifier(net: torch.nn.Module, images: torch.Tensor, attrs: list[dict[str, Any]],
                        batch_size: int = 256) -> dict[str, float]:
    """Held-out accuracies: per-cell occupancy, per-object shape/colour/texture/size/all, pairs."""
    from .shapes_classifier import scene_targets

    net.eval()
    hits: dict[str, float] = {k: 0.0 for k in ("cell", "shape", "colour", "texture", "size", "object", "background", "pairs")}
    n_obj = n_img = 0
    for start in range(0, len(images), batch_size):
        out = net(_to_float(images[start:start + batch_size]))
        tgt = scene_targets(attrs[start:start + batch_size])
        occupied = tgt["cell_shape"] > 0
        pred_shape = out["cell_shape"].argmax(-1)
        hits["cell"] += ((pred_shape > 0) == occupied).float().sum().item()
        ok_all = occupied.clone()
        for key, name in (("cell_shape", "shape"), ("cell_colour", "colour"), ("cell_texture", "texture"),
                          ("cell_size", "size")):
            ok = (out[key].argmax(-1) == tgt[key]) & occupied
            hits[name] += ok.float().sum().item()
            ok_all &= ok
        hits["object"] += ok_all.float().sum().item()
        hits["background"] += (out["background"].argmax(-1) == tgt["background"]).float().sum().item()
        hits["pairs"] += ((out["pairs"] > 0).float() == tgt["pairs"]).all(1).float().sum().item()
        n_obj += int(occupied.sum())
        n_img += len(tgt["background"])
    return {
        "cell_occupancy": hits["cell"] / (9 * n_img),
        "shape": hits["shape"] / n_obj,
        "colour": hits["colour"] / n_obj,
        "texture": hits["texture"] / n_obj,
        "size": hits["size"] / n_obj,
        "object_all_attributes": hits["object"] / n_obj,
        "background": hits["background"] / n_img,
        "pair_set_exact": hits["pairs"] / n_img,
        "images": n_img,
        "objects": n_obj,
    }


def train(out: str | Path, steps: int = 1500, batch_size: int = 32, lr: float = 2e-3, train_size: int = 8000,
          eval_size: int = 1000, width: int = 16, seed: int = 0, progress: bool = True) -> dict[str, Any]:
    """Train, evaluate on held-out scenes, save weights + record; returns the record."""
    from tqdm.auto import tqdm

    from .shapes_classifier import ShapesClassifierNet, save_classifier, scene_targets

    torch.manual_seed(seed)
    t0 = time.perf_counter()
    images, attrs = render_split("train", train_size, progress=progress)
    test_images, test_attrs = render_split("test", eval_size, progress=progress)
    render_s = time.perf_counter() - t0
    net = ShapesClassifierNet(width=width)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.15)
    gen = torch.Generator().manual_seed(seed)
    t1 = time.perf_counter()
    bar = tqdm(range(steps), desc="train shapes classifier", disable=not progress)
    for _ in bar:
        net.train()
        idx = torch.randint(len(images), (batch_size,), generator=gen)
        loss = _loss(net(_to_float(images[idx])), scene_targets([attrs[int(i)] for i in idx]))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        bar.set_postfix(loss=f"{loss.item():.3f}")
    train_s = time.perf_counter() - t1
    heldout = evaluate_classifier(net, test_images, test_attrs)
    record = {
        "trained_on": f"shapes/train[:{train_size}] at 64px, seed {seed}",
        "heldout_split": f"shapes/test[:{eval_size}]",
        "heldout": heldout,
        "budget": {"steps": steps, "batch_size": batch_size, "lr": lr, "train_seconds": round(train_s, 1),
                   "render_seconds": round(render_s, 1), "threads": torch.get_num_threads(),
                   "device": "cpu"},
    }
    path = save_classifier(net, Path(out), record)
    record["weights"] = str(path)
    return record


def main(argv: list[str] | None = None) -> int:
    import json

    p = argparse.ArgumentParser(prog="python -m t2izoo_metrics.train_shapes_classifier",
                                description="Train the shapes attribute classifier (metric backbone).")
    p.add_argument("--out", required=True, help="output directory (gets shapes-classifier.safetensors + .json)")
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--train-size", type=int, default=8000, help="training scenes rendered into memory")
    p.add_argument("--eval-size", type=int, default=1000, help="held-out test scenes")
    p.add_argument("--width", type=int, default=16, help="channel width of the first layer")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    record = train(args.out, steps=args.steps, batch_size=args.batch_size, lr=args.lr, train_size=args.train_size,
                   eval_size=args.eval_size, width=args.width, seed=args.seed)
    print(json.dumps(record, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
