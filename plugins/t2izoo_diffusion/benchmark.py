"""Time per image of the ``diffusion-sr`` samplers, side by side in one process.

The paper's 1000-step DDPM costs about 2.5 s per image on its (unstated) hardware; this measures
our refiner with any config and samplers on the machine at hand.

Example:
    $ python -m t2izoo_diffusion.benchmark                       # tiny config, ddpm:1000 vs dpm-solver++:20
    $ python -m t2izoo_diffusion.benchmark --runs ddpm:1000 ddim:50 dpm-solver++:20 --batch 4 --device cuda
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any


def measure(runs: list[tuple[str, int]], *, config: dict[str, Any] | None = None, batch: int = 1,
            device: str = "cpu", repeats: int = 1, seed: int = 0) -> list[dict[str, Any]]:
    """Seconds per image for each ``(sampler, steps)`` on one refiner (same weights, same inputs).

    Example:
        >>> rows = measure([("ddim", 2)])  # doctest: +SKIP
        >>> rows[0]["sampler"]                 # doctest: +SKIP
        'ddim'
    """
    import torch

    import t2izoo
    from t2izoo.testing import make_text_features
    from t2izoo_diffusion.configs import DiffusionSRConfig

    cfg = {"name": "diffusion-sr", **DiffusionSRConfig.tiny(), "word_dim": 64, "sentence_dim": 64, **(config or {})}
    torch.manual_seed(seed)
    sr = t2izoo.create_component("refiner", cfg).to(device).eval()
    lr = torch.rand(batch, 3, sr.config.lr_size, sr.config.lr_size, generator=torch.Generator().manual_seed(seed)) * 2 - 1
    text = make_text_features(batch, 64, 64).to(device)
    rows = []
    with torch.inference_mode():
        sr(lr.to(device), text, generator=torch.Generator().manual_seed(0), sampler="ddim", num_inference_steps=2)  # warm-up
        for sampler, steps in runs:
            times = []
            for r in range(repeats):
                if device.startswith("cuda"):
                    torch.cuda.synchronize()
                t0 = time.perf_counter()
                sr(lr.to(device), text, generator=torch.Generator().manual_seed(r), sampler=sampler,
                   num_inference_steps=steps, progress=False)
                if device.startswith("cuda"):
                    torch.cuda.synchronize()
                times.append(time.perf_counter() - t0)
            best = min(times)
            rows.append({"sampler": sampler, "steps": steps, "batch": batch, "device": device,
                         "seconds_per_image": best / batch, "seconds_per_step": best / steps,
                         "lr_size": sr.config.lr_size, "image_size": sr.config.image_size,
                         "parameters": sum(p.numel() for p in sr.parameters())})
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", nargs="+", default=["ddpm:1000", "dpm-solver++:20"], help="sampler:steps ...")
    p.add_argument("--config", default="{}", help="JSON overrides of the refiner config (default: tiny 16->32 px)")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--device", default="cpu")
    args = p.parse_args(argv)
    runs = [(r.rsplit(":", 1)[0], int(r.rsplit(":", 1)[1])) for r in args.runs]
    rows = measure(runs, config=json.loads(args.config), batch=args.batch, device=args.device, repeats=args.repeats)
    base = rows[0]["seconds_per_image"]
    print(f"diffusion-sr {rows[0]['lr_size']}->{rows[0]['image_size']} px, {rows[0]['parameters']:,} parameters, "
          f"batch {args.batch}, {args.device}")
    print(f"{'sampler':>16} {'steps':>6} {'s/image':>10} {'ms/step':>9} {'speed-up':>9}")
    for row in rows:
        print(f"{row['sampler']:>16} {row['steps']:>6} {row['seconds_per_image']:>10.3f} "
              f"{1000 * row['seconds_per_step']:>9.2f} {base / row['seconds_per_image']:>8.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
