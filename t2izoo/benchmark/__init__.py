"""Benchmarks: generation, refiner samplers, training, metric backbones and start-up, side by side.

Run from a shell with ``t2izoo bench [--quick] [--presets ...] --out DIR`` (or
``python bench/run.py``); it writes ``DIR/bench.json`` and ``DIR/bench.md``, which start with a
description of the machine. Variants compared are always run interleaved in one process and
reported as ratios, so the figures survive a machine shared with other work.

Importing this package does not import torch.

Example:
    >>> from t2izoo.benchmark import BenchOptions, run_benchmark, write_report
    >>> opts = BenchOptions.quick(presets=["shapes-tiny"])
    >>> write_report(run_benchmark(opts), "bench-out")              # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from t2izoo._lazy import lazy_exports

_LAZY = {
    "BenchOptions": ".runner",
    "SUITES": ".runner",
    "run_benchmark": ".runner",
    "render_markdown": ".report",
    "write_report": ".report",
    "machine_info": ".machine",
    "interleaved": ".measure",
    "PeakMemory": ".measure",
    "bench_generation": ".generation",
    "bench_refiner": ".refiner",
    "bench_training": ".training",
    "bench_features": ".features",
    "bench_startup": ".startup",
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)

if TYPE_CHECKING:  # pragma: no cover
    from .features import bench_features
    from .generation import bench_generation
    from .machine import machine_info
    from .measure import PeakMemory, interleaved
    from .refiner import bench_refiner
    from .report import render_markdown, write_report
    from .runner import SUITES, BenchOptions, run_benchmark
    from .startup import bench_startup
    from .training import bench_training
