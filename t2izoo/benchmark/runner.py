"""One benchmark run: every suite, side by side, into one result (then `write_report`).

Suites: ``generation`` (images/s and peak memory per preset and batch size, fast-path variants
vs plain eager), ``refiner`` (diffusion-sr per sampler and step count), ``training`` (recipe
steps/s), ``features`` (metric backbones' images/s, FID+IS in one pass) and ``startup``
(``import t2izoo`` / ``t2izoo list`` in fresh interpreters).

A suite or preset that fails is recorded under ``errors`` and the run goes on (``strict=True``
raises instead): one broken plugin should not cost the other figures.

Example:
    >>> opts = BenchOptions.quick(presets=["shapes-tiny"], suites=("startup",))
    >>> opts.batch_sizes
    (1, 4)
    >>> result = run_benchmark(opts)                                        # doctest: +SKIP
    >>> write_report(result, "bench-out")                                   # doctest: +SKIP
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

__all__ = ["SUITES", "BenchOptions", "run_benchmark"]

SUITES = ("generation", "refiner", "training", "features", "startup")

#: the refiner measured when no trained one is found: the size of the shapes CD-AttnGAN
#: stage-2 refiner trained on CPU (64 -> 128 px, two-level U-Net)
SHAPES_REFINER = {
    "lr_size": 64, "image_size": 128, "block_out_channels": (16, 32), "layers_per_block": 1,
    "attention_levels": (False, True), "norm_num_groups": 8, "cond_dim": 32, "lr_encoder_channels": 16,
}
TINY_REFINER = {
    "lr_size": 16, "image_size": 32, "block_out_channels": (32, 64), "layers_per_block": 1,
    "norm_num_groups": 8, "cond_dim": 32, "lr_encoder_channels": 16,
}


@dataclass
class BenchOptions:
    """What to measure and how long to spend. `quick` gives a run of a minute or so.

    Attributes:
        presets: model cards for the generation suite (default: every card).
        overrides: per-preset config overrides, ``{"shapes-tiny": {"generator.ngf": 8}}``.
        batch_sizes: prompts per generation call.
        rounds: timed, interleaved calls per variant.
        device: ``"cpu"``, ``"cuda"`` or ``"auto"`` (CUDA when available).
        suites: which suites to run.
        compile: add a ``torch.compile`` variant to the generation suite.
        budget_s: per preset and batch size, skip generation estimated to take longer.
        refiner_steps: ``num_inference_steps`` for presets whose refiner is a diffusion model.
        refiner_runs: ``(sampler, steps)`` for the refiner suite; the first is the reference.
        refiner_config: the random-weight refiner's config (when no trained one is found).
        refiner_trained: a trained refiner directory, ``"auto"`` (newest ``runs_root/*/final``
            with a ``diffusion-sr`` refiner) or ``None`` (random weights, speed only).
        refiner_ssim_max_steps: with a trained refiner, score runs of at most this many steps.
        refiner_max_steps: time at most this many steps per refiner call and scale.
        training_presets: presets for the training suite (default: the ``shapes-*`` cards).
        training_steps, training_batch: timed optimizer steps and their batch size.
        feature_backbones, feature_batch, feature_image_size: the features suite.
        startup_repeats: fresh interpreters per start-up figure.
    """

    presets: list[str] | None = None
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    batch_sizes: tuple[int, ...] = (1, 32)
    rounds: int = 3
    device: str = "auto"
    suites: tuple[str, ...] = SUITES
    compile: bool = False
    budget_s: float | None = 180.0
    refiner_steps: int | None = 20
    refiner_runs: tuple[tuple[str, int], ...] = (("ddpm", 1000), ("ddim", 50), ("dpm-solver++", 20))
    refiner_config: dict[str, Any] = field(default_factory=lambda: dict(SHAPES_REFINER))
    refiner_trained: str | None = "auto"
    refiner_max_steps: int | None = 20
    refiner_batch: int = 1
    refiner_ssim_max_steps: int | None = 1000
    training_presets: list[str] | None = None
    training_steps: int = 3
    training_batch: int = 8
    feature_backbones: tuple[str, ...] = ("fid-inception", "timm-inception", "open-clip-ViT-B-32")
    feature_batch: int = 8
    feature_image_size: int = 128
    startup_repeats: int = 3
    runs_root: str = "runs"
    strict: bool = False

    @classmethod
    def quick(cls, **changes: Any) -> BenchOptions:
        """Small sizes and few repeats: checks that everything runs, figures are rough."""
        base = cls(
            batch_sizes=(1, 4), rounds=1, budget_s=30.0, refiner_steps=2,
            refiner_runs=(("ddpm", 1000), ("ddim", 10), ("dpm-solver++", 5)),
            refiner_config=dict(TINY_REFINER), refiner_trained=None, refiner_max_steps=3,
            training_steps=1, training_batch=2, feature_backbones=("fid-inception",), feature_batch=2,
            feature_image_size=64, startup_repeats=1,
        )
        return replace(base, **changes)

    def resolved_device(self) -> str:
        if self.device != "auto":
            return self.device
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _presets(opts: BenchOptions) -> list[str]:
    from t2izoo import list_models, load_card

    if opts.presets is not None:
        return list(opts.presets)
    return [name for name in list_models() if load_card(name).kind == "pipeline"]  # not component cards


def _training_presets(opts: BenchOptions) -> list[str]:
    if opts.training_presets is not None:
        return list(opts.training_presets)
    return [p for p in _presets(opts) if p.startswith("shapes-")]


def run_benchmark(opts: BenchOptions, *, progress: bool = True,
                  on_update: Callable[[dict[str, Any]], Any] | None = None) -> dict[str, Any]:
    """Run the chosen suites; returns ``{"machine", "options", "suites", "errors", "seconds"}``.

    ``on_update(result)`` is called after every task (the CLI rewrites the report with it, so an
    interrupted run keeps what it measured).
    """
    import torch
    from tqdm.auto import tqdm

    from .machine import machine_info

    unknown = set(opts.suites) - set(SUITES)
    if unknown:
        raise ValueError(f"unknown suite(s) {sorted(unknown)}; choose from {', '.join(SUITES)}")
    device = opts.resolved_device()
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("device 'cuda' asked for but torch sees no GPU (use --device cpu)")
    result: dict[str, Any] = {"machine": machine_info(), "options": {**opts.to_dict(), "device": device},
                              "suites": {}, "errors": {}, "seconds": 0.0}
    tasks = _tasks(opts, device)
    t0 = time.perf_counter()
    bar = tqdm(tasks, desc="bench", disable=not progress, dynamic_ncols=True)
    for name, suite, fn in bar:
        bar.set_postfix_str(name)
        try:
            value = fn()
        except Exception as err:  # record and go on: one broken preset must not cost the rest
            if opts.strict:
                raise
            result["errors"][name] = f"{type(err).__name__}: {err}"
            result.setdefault("tracebacks", {})[name] = traceback.format_exc(limit=6)
        else:
            if isinstance(value, list):
                result["suites"].setdefault(suite, []).extend(value)
            else:
                result["suites"][suite] = value
        result["seconds"] = time.perf_counter() - t0
        if on_update is not None:
            on_update(result)
    return result


def _tasks(opts: BenchOptions, device: str) -> list[tuple[str, str, Callable[[], Any]]]:
    tasks: list[tuple[str, str, Callable[[], Any]]] = []
    if "startup" in opts.suites:
        from .startup import bench_startup

        tasks.append(("startup", "startup", lambda: bench_startup(opts.startup_repeats)))
    if "generation" in opts.suites:
        from .generation import bench_generation, default_variants

        variants = default_variants(device, compile=opts.compile)
        for preset in _presets(opts):
            tasks.append((f"generation:{preset}", "generation", lambda p=preset: bench_generation(
                p, overrides=opts.overrides.get(p), batch_sizes=opts.batch_sizes, device=device,
                variants=variants, rounds=opts.rounds, budget_s=opts.budget_s,
                refiner_kwargs=_refiner_kwargs(p, opts),
            )))
    if "refiner" in opts.suites:
        from .refiner import bench_refiner, find_trained_refiner

        trained = find_trained_refiner(opts.runs_root) if opts.refiner_trained == "auto" else opts.refiner_trained
        tasks.append(("refiner", "refiner", lambda: bench_refiner(
            opts.refiner_runs, config=opts.refiner_config, trained=trained, batch=opts.refiner_batch,
            device=device, rounds=max(opts.rounds - 1, 1), max_steps=opts.refiner_max_steps,
            ssim_max_steps=opts.refiner_ssim_max_steps,
        )))
    if "training" in opts.suites:
        from .training import bench_training

        for preset in _training_presets(opts):
            tasks.append((f"training:{preset}", "training", lambda p=preset: [bench_training(
                p, overrides=opts.overrides.get(p), steps=opts.training_steps, batch_size=opts.training_batch,
                device=device,
            )]))
    if "features" in opts.suites:
        from .features import bench_features, one_pass_fid_is

        tasks.append(("features", "features", lambda: bench_features(
            opts.feature_backbones, batch=opts.feature_batch, image_size=opts.feature_image_size, device=device,
            rounds=max(opts.rounds - 1, 1),
        )))
        tasks.append(("one_pass_fid_is", "one_pass_fid_is", lambda: one_pass_fid_is(
            opts.feature_backbones[0], batch=opts.feature_batch, image_size=opts.feature_image_size, device=device,
            rounds=max(opts.rounds - 1, 1),
        )))
    return tasks


def _refiner_kwargs(preset: str, opts: BenchOptions) -> dict[str, Any]:
    """Cap the steps of a diffusion refiner (its card may say DDPM-1000) for generation timing."""
    if opts.refiner_steps is None:
        return {}
    from t2izoo import load_card

    try:
        refiner = (load_card(preset).config or {}).get("refiner") or {}
    except Exception:  # a config file or directory, not a card: no cap
        return {}
    return {"num_inference_steps": opts.refiner_steps} if refiner.get("name") == "diffusion-sr" else {}
