"""Generation speed and peak memory of a preset, fast-path variants side by side.

Every variant is the same pipeline (same random weights, deep-copied) with other
`InferenceOptions`; all variants run interleaved in one process and are compared to plain eager
(``no_grad``, fp32, contiguous). Each variant's images are also compared with eager's for the
same seed, so a speed-up that changes the output beyond its stated tolerance shows in the table.

Weights are random (``t2izoo.build`` without ``pretrained``): speed does not depend on their
values, and no trained weights exist for most presets.

Example:
    >>> rows = bench_generation("shapes-tiny", batch_sizes=(1,), rounds=1)  # doctest: +SKIP
    >>> rows[0]["variants"]["eager"]["ratio_to_eager"]                      # doctest: +SKIP
    1.0
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from t2izoo.nn.fastpath import AUTOCAST_TOLERANCE, FP32_TOLERANCE, InferenceOptions

from .measure import PeakMemory, interleaved

__all__ = ["CAPTIONS", "bench_generation", "default_variants", "output_difference"]

#: captions cycled to fill a batch (shapes-world vocabulary; other tokenisers drop unknown words)
CAPTIONS = (
    "a small red circle left of a big blue square",
    "a green triangle above a yellow circle",
    "a large purple square",
    "two circles, one orange and one white, side by side",
)


def default_variants(device: str | torch.device, *, compile: bool = False,
                     autocast: bool = True) -> dict[str, InferenceOptions]:
    """Plain eager, then each fast-path switch on its own, then the device default.

    ``autocast`` adds bf16 autocast (on CPU too: it is measured there and not used by default).
    ``compile`` adds ``torch.compile`` (inductor), which pays a compilation in the warm-up.
    """
    device = torch.device(device)
    base = InferenceOptions()
    out = {"eager": InferenceOptions.plain(), base.label(): base}
    cl = base.replace(channels_last=True)
    out[cl.label()] = cl
    if autocast and (device.type == "cuda" or torch.backends.mkldnn.is_available()):
        half = base.replace(autocast="bf16" if device.type == "cpu" or torch.cuda.is_bf16_supported() else "fp16")
        out[half.label()] = half
        both = half.replace(channels_last=True)
        out[both.label()] = both
    if compile:
        comp = base.replace(compile=True)
        out[comp.label()] = comp
    auto = InferenceOptions.auto(device)  # a GAN's default; `bench_generation` marks each preset's own
    out.setdefault(auto.label(), auto)
    return out


def output_difference(reference: torch.Tensor, other: torch.Tensor) -> dict[str, float]:
    """Max and mean absolute difference of two image batches (computed in fp32)."""
    diff = (reference.float() - other.float()).abs()
    return {"max_abs_diff": float(diff.max()), "mean_abs_diff": float(diff.mean())}


def _tolerance(options: InferenceOptions) -> dict[str, Any]:
    if options.autocast is not None:
        return {"metric": "mean_abs_diff", "value": AUTOCAST_TOLERANCE}
    return {"metric": "max_abs_diff", "value": FP32_TOLERANCE}


def _prompts(batch: int) -> list[str]:
    return [CAPTIONS[i % len(CAPTIONS)] for i in range(batch)]


def bench_generation(
    preset: str,
    *,
    overrides: Mapping[str, Any] | None = None,
    batch_sizes: Sequence[int] = (1, 32),
    device: str | torch.device = "cpu",
    variants: Mapping[str, InferenceOptions] | None = None,
    rounds: int = 3,
    seed: int = 0,
    refiner_kwargs: Mapping[str, Any] | None = None,
    budget_s: float | None = None,
) -> list[dict[str, Any]]:
    """Images/s, ratio to eager, peak memory and output difference per variant and batch size.

    Args:
        preset: a model card name (or anything `t2izoo.build` takes).
        overrides: config overrides (tests shrink a preset with them).
        batch_sizes: prompts per call.
        device: where to run.
        variants: label -> options; default `default_variants`. The first is the baseline.
        rounds: timed calls per variant (interleaved).
        refiner_kwargs: passed to the pipeline call (``num_inference_steps`` for a diffusion refiner).
        budget_s: skip a batch size whose estimated cost (from the eager batch-1 call) exceeds it.

    Returns:
        One row per batch size: ``{"preset", "batch", "variants": {label: {...}}, "skipped"}``.
    """
    import t2izoo

    device = torch.device(device)
    variants = dict(variants or default_variants(device))
    torch.manual_seed(seed)
    base = t2izoo.build(preset, dict(overrides or {}), device=device)
    default = InferenceOptions.auto(device, base.components())  # what optimize_for_inference() picks for it
    pipes: dict[str, Any] = {}
    for label, options in variants.items():
        pipe = copy.deepcopy(base)
        pipe.optimize_for_inference(options)
        pipes[label] = pipe
    weights_mib = sum(t.numel() * t.element_size() for t in base.state_dict().values()) / 2**20
    parameters = sum(p.numel() for p in base.parameters())
    del base
    call_kwargs = dict(refiner_kwargs or {})
    rows: list[dict[str, Any]] = []
    first = next(iter(variants))
    per_image_estimate: float | None = None
    for batch in batch_sizes:
        prompts = _prompts(batch)
        row: dict[str, Any] = {"preset": preset, "batch": batch, "device": str(device), "parameters": parameters,
                               "weights_mib": weights_mib, "variants": {}, "skipped": None}
        if budget_s is not None and per_image_estimate is not None:
            # warm-up + rounds + one memory call per variant
            estimate = per_image_estimate * batch * len(variants) * (rounds + 2)
            if estimate > budget_s:
                row["skipped"] = f"estimated {estimate:.0f} s > budget {budget_s:.0f} s"
                rows.append(row)
                continue

        def call(label: str, prompts: list[str] = prompts) -> torch.Tensor:
            return pipes[label](prompts, seed=seed, **call_kwargs).tensors

        outputs = {label: call(label) for label in variants}  # warm-up and the outputs compared
        timing = interleaved({label: (lambda label=label: call(label)) for label in variants},
                             rounds=rounds, warmup=0, device=device, baseline=first)
        # per-image cost of the slowest variant after warm-up; batching only lowers it
        estimate = max(res["median_s"] for res in timing.values()) / batch
        per_image_estimate = estimate if per_image_estimate is None else min(per_image_estimate, estimate)
        for label, options in variants.items():
            res = timing[label]
            diff = output_difference(outputs[first], outputs[label])
            tol = _tolerance(options)
            row["variants"][label] = {
                "options": options.to_dict(),
                "median_s": res["median_s"],
                "images_per_s": batch / res["median_s"],
                "ratio_to_eager": res["ratio_to_baseline"],
                **diff,
                "tolerance": tol,
                "within_tolerance": diff[tol["metric"]] <= tol["value"],
                "default": options == default,
            }
        for label in dict.fromkeys([first, *(k for k, o in variants.items() if o == default)]):
            with PeakMemory(device) as pm:
                call(label)
            row["variants"][label]["peak_memory_mib"] = pm.mib
            row["memory_method"] = pm.method
        rows.append(row)
    return rows
