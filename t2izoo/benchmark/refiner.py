"""The ``diffusion-sr`` refiner: time per image for each sampler and step count, in one process.

One refiner (the same weights, inputs and seeds for every run) samples with each
``(sampler, steps)``; the runs are interleaved and compared to the first (DDPM-1000 by default).
A step costs one U-Net call whatever the sampler, so a run longer than ``max_steps`` is timed on
``max_steps`` steps and scaled (the row says ``extrapolated_from_steps``): that keeps a
1000-step DDPM measurable on a CPU.

With a trained refiner (a ``save_pretrained`` directory whose refiner is ``diffusion-sr``, e.g.
under ``runs/``), each run is also scored: SSIM (the ``ssim`` evaluator's protocol) of the super-resolved
shapes images against the true high-resolution ones, so samplers are compared at equal quality.
Without one, weights are random and only speed is measured (the report says so).

Example:
    >>> rows = bench_refiner([("ddpm", 1000), ("dpm-solver++", 20)], max_steps=20)  # doctest: +SKIP
    >>> rows["runs"][1]["ratio_to_first"] > 1                                        # doctest: +SKIP
    True
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from .measure import PeakMemory, interleaved

__all__ = ["DEFAULT_RUNS", "bench_refiner", "find_trained_refiner", "parse_runs"]

DEFAULT_RUNS: tuple[tuple[str, int], ...] = (("ddpm", 1000), ("ddim", 50), ("dpm-solver++", 20))


def parse_runs(specs: Sequence[str]) -> list[tuple[str, int]]:
    """``["ddpm:1000", "dpm-solver++:20"]`` -> ``[("ddpm", 1000), ("dpm-solver++", 20)]``."""
    out = []
    for spec in specs:
        name, _, steps = spec.rpartition(":")
        if not name or not steps.isdigit() or int(steps) < 1:
            raise ValueError(f"refiner run {spec!r} must be SAMPLER:STEPS, e.g. dpm-solver++:20")
        out.append((name, int(steps)))
    return out


def find_trained_refiner(root: str | Path = "runs") -> Path | None:
    """The newest ``RUN/final`` directory under ``root`` whose refiner is ``diffusion-sr``.

    Only training runs' final exports (``root/*/final``) count: nested directories (ablation
    cells, smoke tests) hold barely trained models whose SSIM would mean nothing.
    """
    root = Path(root)
    if not root.is_dir():
        return None
    found = []
    for cfg in root.glob("*/final/pipeline.json"):
        try:
            refiner = json.loads(cfg.read_text()).get("refiner") or {}
        except (OSError, ValueError):
            continue
        if refiner.get("name") == "diffusion-sr" and (cfg.parent / "refiner" / "model.safetensors").is_file():
            found.append(cfg.parent)
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def _random_refiner(config: Mapping[str, Any], device: torch.device, seed: int) -> tuple[Any, Any]:
    import t2izoo

    cfg = {"name": "diffusion-sr", "word_dim": 64, "sentence_dim": 64, **config}
    torch.manual_seed(seed)
    sr = t2izoo.create_component("refiner", cfg).to(device).eval()
    return sr, None


def _inputs(sr: Any, encoder: Any, batch: int, device: torch.device, seed: int) -> tuple[torch.Tensor, Any, torch.Tensor | None]:
    """(low-res images, text features, high-res truth or None)."""
    cfg = sr.config
    if encoder is None:
        from t2izoo.testing import make_text_features

        g = torch.Generator().manual_seed(seed)
        lr = torch.rand(batch, cfg.image_channels, cfg.lr_size, cfg.lr_size, generator=g) * 2 - 1
        return lr.to(device), make_text_features(batch, cfg.word_dim, cfg.sentence_dim).to(device), None
    from t2izoo.data.shapes import ShapesDataset

    data = ShapesDataset("test", size=batch, resolutions=(cfg.image_size,), seed=seed)
    items = [data[i] for i in range(batch)]
    hr = torch.stack([item.images[cfg.image_size] for item in items]).to(device)
    with torch.inference_mode():
        text = encoder.encode([item.caption for item in items])
    return sr.degrade(hr), text, hr


def _ssim(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean SSIM by the zoo's own ``ssim`` evaluator (the protocol `t2izoo evaluate` reports)."""
    from .._build import create_component

    ev = create_component("evaluator", "ssim")
    ev.update(a.float().cpu().clamp(-1, 1), real_images=b.float().cpu())
    return float(ev.compute().value)


def bench_refiner(
    runs: Sequence[tuple[str, int]] = DEFAULT_RUNS,
    *,
    config: Mapping[str, Any] | None = None,
    trained: str | Path | None = None,
    batch: int = 1,
    device: str | torch.device = "cpu",
    rounds: int = 2,
    max_steps: int | None = 50,
    ssim_max_steps: int | None = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Seconds per image and ratio to the first run for each ``(sampler, steps)``.

    Args:
        runs: ``(sampler, steps)`` pairs; the first is the reference (ratio 1).
        config: refiner config fields for a random-weight refiner (ignored with ``trained``).
        trained: a ``save_pretrained`` directory with a trained ``diffusion-sr`` refiner: its
            encoder makes the text features and each run is scored by SSIM on shapes images.
        batch: images per call.
        rounds: timed calls per run (interleaved).
        max_steps: time at most this many steps per call and scale (``None``: never scale).
        ssim_max_steps: with a trained refiner, score (by a full-length run) only the runs of at
            most this many steps (``None``: all); SSIM needs the real run, not a scaled one.
    """
    import t2izoo

    device = torch.device(device)
    encoder = None
    if trained is not None:
        pipe = t2izoo.build(str(trained), pretrained=trained, device=device)
        sr, encoder = pipe.refiner, pipe.encoder
        source = f"trained: {trained}"
    else:
        sr, _ = _random_refiner(config or {}, device, seed)
        source = "random weights (speed only)"
    lr, text, hr = _inputs(sr, encoder, batch, device, seed)

    def call(sampler: str, steps: int) -> torch.Tensor:
        with torch.inference_mode():
            return sr(lr, text, generator=torch.Generator(device=device).manual_seed(seed), sampler=sampler,
                      num_inference_steps=steps, progress=False)

    timed_steps = {(s, n): (min(n, max_steps) if max_steps else n) for s, n in runs}
    labels = {f"{s}-{n}": (s, n) for s, n in runs}
    timing = interleaved(
        {label: (lambda s=s, n=n: call(s, timed_steps[(s, n)])) for label, (s, n) in labels.items()},
        rounds=rounds, warmup=1, device=device,
    )
    with PeakMemory(device) as pm:
        call(*runs[-1])
    rows = []
    base_per_image = None
    for label, (sampler, steps) in labels.items():
        t = timing[label]["median_s"] * steps / timed_steps[(sampler, steps)]
        per_image = t / batch
        base_per_image = base_per_image or per_image
        row: dict[str, Any] = {
            "sampler": sampler, "steps": steps, "seconds_per_image": per_image,
            "ms_per_step": 1000 * timing[label]["median_s"] / timed_steps[(sampler, steps)],
            "ratio_to_first": base_per_image / per_image,
            "extrapolated_from_steps": timed_steps[(sampler, steps)] if timed_steps[(sampler, steps)] != steps else None,
        }
        if hr is not None:
            scored = ssim_max_steps is None or steps <= ssim_max_steps
            row["ssim"] = _ssim(call(sampler, steps), hr) if scored else None
        rows.append(row)
    cfg = sr.config
    return {
        "weights": source,
        "lr_size": cfg.lr_size,
        "image_size": cfg.image_size,
        "parameters": sum(p.numel() for p in sr.parameters()),
        "batch": batch,
        "device": str(device),
        "peak_memory_mib": pm.mib,
        "peak_memory_run": f"{runs[-1][0]}-{runs[-1][1]}",
        "memory_method": pm.method,
        "runs": rows,
    }
