"""The evaluation runner: generate from captions of a data set, stream batches into evaluators.

Example:
    >>> from t2izoo.evaluation.runner import evaluate
    >>> report = evaluate("shapes-tiny", data="shapes", n=64, metrics=["shapes-fid", "shapes-accuracy"])  # doctest: +SKIP
    >>> report["results"]["shapes-fid"]["value"]                                                           # doctest: +SKIP
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

__all__ = ["evaluate", "to_markdown", "REAL"]

REAL = ":real"  # evaluate the data set's own images (upper bound for alignment; FID 0 by construction)


def _accepts_attributes(evaluator: Any) -> bool:
    return "attributes" in inspect.signature(evaluator.update).parameters


def evaluate(
    model: str | Path | Any,
    *,
    data: str = "shapes",
    split: str = "test",
    n: int = 2000,
    metrics: Sequence[str] = ("shapes-fid", "shapes-accuracy"),
    metric_options: Mapping[str, Mapping[str, Any]] | None = None,
    batch_size: int = 50,
    seed: int = 0,
    device: str | None = None,
    pretrained: Any = None,
    overrides: Mapping[str, Any] | None = None,
    progress: bool = True,
    data_options: Mapping[str, Any] | None = None,
    resolution: int | None = None,
) -> dict[str, Any]:
    """Generate ``n`` images from the captions of ``data``/``split`` and compute ``metrics``.

    Args:
        model: a preset, a model directory, a built pipeline, or ``":real"`` (the data set's own images).
        metric_options: per metric, config fields (``{"fid": {"backbone": "shapes-classifier"}}``).
        seed: seeds generation (batch ``i`` uses ``seed + i``); captions are each item's first.
        resolution: real-image size; default: the generator's output size (64 for ``:real``).
        data_options: passed to the data set (``{"max_objects": 1}`` for one-object shapes scenes).

    Returns:
        a JSON-able dict: settings, per-metric ``value``/``std``/``protocol``, timings.
    """
    from tqdm.auto import tqdm

    import t2izoo
    from t2izoo.data import load_dataset, make_dataloader

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    options = {k: dict(v) for k, v in (metric_options or {}).items()}
    unknown = set(options) - set(metrics)
    if unknown:
        raise ValueError(f"options given for metrics not requested: {sorted(unknown)} (requested: {list(metrics)})")
    evaluators = {m: t2izoo.create_component("evaluator", {"name": m, **options.get(m, {})}) for m in metrics}

    pipe = None
    if isinstance(model, str) and model == REAL:
        label = "real images of the data set"
    elif isinstance(model, (str, Path)):
        model_path = Path(model)
        if pretrained is None and model_path.is_dir():
            pretrained = model_path
        pipe = t2izoo.build(str(model), dict(overrides or {}), pretrained=pretrained, device=device)
        label = str(model)
    else:
        pipe, label = model, type(model).__name__

    opts = dict(data_options or {})
    if data == "shapes":
        opts.setdefault("size", n)
    t0 = time.perf_counter()
    loader = None
    done = 0
    gen_s = 0.0
    bar = tqdm(total=n, desc=f"evaluate {label}", unit="img", disable=not progress)
    batch_index = 0
    while done < n:
        # the first batch fixes the resolution (the generator's output size)
        count = min(batch_size, n - done)
        fake = None
        if pipe is not None and resolution is None:
            probe_ds = load_dataset(data, split=split, resolutions=(64,), **opts)
            first = [probe_ds[i] for i in range(count)]
            t = time.perf_counter()
            fake = pipe([s.captions[0] for s in first], seed=seed).tensors.float().clone()
            gen_s += time.perf_counter() - t
            resolution = int(fake.shape[-1])
        if loader is None:
            resolution = resolution or 64
            ds = load_dataset(data, split=split, resolutions=(resolution,), **opts)
            if len(ds) < n:
                raise ValueError(f"{data}/{split} has {len(ds)} items, fewer than --n {n}")
            # random_caption=False: every item's first caption, the one the probe batch generated from
            loader = iter(make_dataloader(ds, batch_size=batch_size, shuffle=False, seed=seed, drop_last=False,
                                          random_caption=False))
        batch = next(loader)
        real = batch.images[resolution][:count].to(device)
        prompts = batch.captions[:count]
        if fake is None:
            if pipe is None:
                fake = real
            else:
                t = time.perf_counter()
                fake = pipe(prompts, seed=seed + batch_index).tensors.float().clone()
                gen_s += time.perf_counter() - t
        attrs = batch.attributes[:count] if batch.attributes is not None else None
        for ev in evaluators.values():
            kwargs: dict[str, Any] = {}
            if attrs is not None and _accepts_attributes(ev):
                kwargs["attributes"] = attrs
            ev.update(fake, prompts=prompts, real_images=real, **kwargs)
        done += count
        batch_index += 1
        bar.update(count)
    bar.close()
    results = {}
    for name, ev in evaluators.items():
        r = ev.compute()
        results[name] = {"value": r.value, "std": r.std, "protocol": r.protocol}
    return {
        "model": label,
        "data": data,
        "data_options": dict(data_options or {}) or None,
        "split": split,
        "n": n,
        "seed": seed,
        "batch_size": batch_size,
        "resolution": resolution,
        "device": device,
        "results": results,
        "seconds": {"total": round(time.perf_counter() - t0, 2), "generation": round(gen_s, 2)},
    }


def _options_text(report: Mapping[str, Any]) -> str:
    options = report.get("data_options") or {}
    return " (" + ", ".join(f"{k}={v}" for k, v in options.items()) + ")" if options else ""


def to_markdown(report: Mapping[str, Any]) -> str:
    """A markdown table of a report from `evaluate`."""
    lines = [
        f"Model `{report['model']}` on `{report['data']}/{report['split']}`{_options_text(report)}, n={report['n']}, "
        f"seed={report['seed']}, {report['resolution']} px",
        "",
        "| metric | value | std | backbone | resize |",
        "|---|---|---|---|---|",
    ]
    for name, r in report["results"].items():
        p = r["protocol"]
        std = "" if r["std"] is None else f"{r['std']:.4f}"
        lines.append(f"| {name} | {r['value']:.4f} | {std} | {p.get('backbone', '')} | {p.get('resize', '')} |")
    return "\n".join(lines) + "\n"
