"""Training speed: optimizer steps per second of a preset's recipe on shapes batches.

The recipe is the one ``t2izoo train`` would use (``make_recipe``), prepared by Accelerate the
way the `Trainer` does, and stepped on batches of the built-in shapes world. The first steps
(lazy initialisation) are not timed. No checkpoints or samples are written.

Example:
    >>> row = bench_training("shapes-tiny", steps=3, batch_size=4)   # doctest: +SKIP
    >>> row["steps_per_s"] > 0                                        # doctest: +SKIP
    True
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import torch

from .measure import synchronize

__all__ = ["bench_training"]


def _reset_accelerate() -> None:
    from accelerate.state import AcceleratorState, GradientState

    AcceleratorState._reset_state(reset_partial_state=True)
    GradientState._reset_state()


def bench_training(
    preset: str,
    *,
    overrides: Mapping[str, Any] | None = None,
    recipe: str | None = None,
    recipe_options: Mapping[str, Any] | None = None,
    steps: int = 5,
    warmup: int = 1,
    batch_size: int = 8,
    device: str | torch.device = "cpu",
    mixed_precision: str = "no",
    seed: int = 0,
) -> dict[str, Any]:
    """Optimizer steps/s (and samples/s) of ``preset``'s training recipe.

    Args:
        preset: a model card name (or anything `t2izoo.build` takes); random initial weights.
        overrides: config overrides (tests shrink a preset with them).
        recipe: a registered recipe name; default: the pipeline's own (``make_recipe``).
        steps: timed optimizer steps (after ``warmup`` untimed ones).
        batch_size: samples per step.
        mixed_precision: ``"no"``, ``"bf16"`` or ``"fp16"`` (Accelerate).
    """
    from accelerate import Accelerator
    from accelerate.utils import set_seed

    import t2izoo
    from t2izoo.data import make_dataloader
    from t2izoo.data.shapes import ShapesDataset
    from t2izoo.training import make_recipe
    from t2izoo.training.data import BatchStream

    device = torch.device(device)
    _reset_accelerate()
    set_seed(seed)
    pipe = t2izoo.build(preset, dict(overrides or {}))
    rec = make_recipe(pipe, recipe, **dict(recipe_options or {}))
    acc = Accelerator(cpu=device.type == "cpu", mixed_precision=mixed_precision)
    pipe.to(acc.device)
    rec.setup(acc)
    resolutions = rec.data_resolutions() or _pipeline_resolutions(pipe)
    data = ShapesDataset("train", size=batch_size * (steps + warmup), resolutions=tuple(resolutions), seed=seed)
    tokenizer = getattr(pipe.encoder, "tokenizer", None)
    loader = make_dataloader(data, batch_size, shuffle=True, seed=seed, tokenizer=tokenizer, resolutions=resolutions)
    stream = BatchStream(loader, 1, 0)
    batches = [next(stream) for _ in range(steps + warmup)]  # rendering stays out of the timing
    models = rec.prepared_modules() or [pipe]
    rec.train(True)
    logs: dict[str, float] = {}

    def one_step(step: int) -> None:
        nonlocal logs
        batch = batches[step].to(acc.device)
        with acc.accumulate(*models), acc.autocast():
            logs = rec.training_step(batch, step)

    for step in range(warmup):
        one_step(step)
    synchronize(acc.device)
    t0 = time.perf_counter()
    for step in range(warmup, warmup + steps):
        one_step(step)
    synchronize(acc.device)
    seconds = time.perf_counter() - t0
    where = str(acc.device)
    _reset_accelerate()
    return {
        "preset": preset,
        "recipe": type(rec).__name__,
        "batch_size": batch_size,
        "steps": steps,
        "device": where,
        "mixed_precision": mixed_precision,
        "seconds": seconds,
        "steps_per_s": steps / seconds,
        "samples_per_s": steps * batch_size / seconds,
        "trainable_parameters": sum(p.numel() for m in rec.modules().values() for p in m.parameters() if p.requires_grad),
        "last_losses": {k: float(v) for k, v in logs.items()},
    }


def _pipeline_resolutions(pipe: Any) -> list[int]:
    """Image sides the generator emits (what ``t2izoo train`` feeds a recipe without its own)."""
    with torch.no_grad():
        text = pipe.encoder.encode(["a"] * 2)
        out = pipe.generator(text, generator=torch.Generator(device=pipe.device).manual_seed(0))
    return sorted({int(img.shape[-1]) for img in out.images})
