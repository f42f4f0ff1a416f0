"""Timing and peak-memory primitives for a machine that is shared with other work.

Absolute times on a shared machine move with the neighbours' load; ratios between variants run
*interleaved in one process* (A, B, A, B, ...) see the same load and stay meaningful. So
`interleaved` runs every variant once per round and reports, per variant, the median time and
the median of its per-round ratio to the baseline.

Peak memory:

* CUDA: ``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats`` (tensor bytes).
* CPU (Linux): resident-set high-water mark. Freed heap is returned to the system first
  (``malloc_trim``), the kernel's high-water mark is reset (``/proc/self/clear_refs`` = 5), and
  ``VmHWM - VmRSS(before)`` is the growth of the process during the call. Where the reset is not
  allowed, the process-lifetime ``ru_maxrss`` is reported instead and labelled so.

Example:
    >>> import time
    >>> res = interleaved({"a": lambda: time.sleep(0.002), "b": lambda: time.sleep(0.001)},
    ...                   rounds=2, warmup=0)
    >>> sorted(res), res["a"]["ratio_to_baseline"]
    (['a', 'b'], 1.0)
"""

from __future__ import annotations

import contextlib
import ctypes
import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["interleaved", "PeakMemory", "peak_memory", "synchronize"]

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def synchronize(device: Any) -> None:
    """Wait for queued GPU work (no-op on CPU), so a timer measures the work itself."""
    import torch

    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def interleaved(
    variants: dict[str, Callable[[], Any]],
    *,
    rounds: int = 3,
    warmup: int = 1,
    device: Any = "cpu",
    baseline: str | None = None,
) -> dict[str, dict[str, Any]]:
    """Time ``variants`` round-robin; the first (or ``baseline``) is the reference.

    Returns per variant: ``seconds`` (every round), ``median_s``, ``min_s`` and
    ``ratio_to_baseline`` = median over rounds of ``t(baseline) / t(variant)`` (> 1: faster
    than the baseline). Warm-up calls (untimed) run first for every variant: lazy
    initialisation, allocator growth and compilation stay out of the figures.
    """
    if not variants:
        raise ValueError("interleaved() needs at least one variant")
    names = list(variants)
    base = baseline or names[0]
    if base not in variants:
        raise ValueError(f"baseline {base!r} is not one of the variants {names}")
    for _ in range(warmup):
        for name in names:
            variants[name]()
    synchronize(device)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        # alternate the order each round so no variant always runs right after a given other
        order = names if r % 2 == 0 else names[::-1]
        for name in order:
            t0 = time.perf_counter()
            variants[name]()
            synchronize(device)
            times[name].append(time.perf_counter() - t0)
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        ratios = [b / t for b, t in zip(times[base], times[name], strict=True) if t > 0]
        out[name] = {
            "seconds": times[name],
            "median_s": statistics.median(times[name]),
            "min_s": min(times[name]),
            "ratio_to_baseline": statistics.median(ratios) if ratios else float("nan"),
        }
    return out


def _status_kib(field: str) -> int | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _malloc_trim() -> None:
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").malloc_trim(0)


class PeakMemory:
    """Peak memory of the code run inside ``with``; read `mib` and `method` afterwards.

    Example:
        >>> with PeakMemory("cpu") as pm:
        ...     block = bytearray(64 * 2**20)
        >>> pm.mib > 0 or pm.method == "unavailable"
        True
    """

    def __init__(self, device: Any = "cpu") -> None:
        import torch

        self.device = torch.device(device)
        self.mib: float = float("nan")
        self.method = "unavailable"
        self._before = 0

    def __enter__(self) -> PeakMemory:
        import gc

        import torch

        gc.collect()
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(self.device)
            self._before = torch.cuda.memory_allocated(self.device)
            self.method = "cuda max_memory_allocated - allocated before"
            return self
        _malloc_trim()
        try:
            _CLEAR_REFS.write_text("5")
            self._before = _status_kib("VmRSS") or 0
            self.method = "cpu VmHWM - VmRSS before (high-water mark reset, malloc_trim)"
        except OSError:
            self._before = 0
            self.method = "cpu ru_maxrss of the whole process (could not reset the high-water mark)"
        return self

    def __exit__(self, *exc: object) -> None:
        import torch

        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self.mib = (torch.cuda.max_memory_allocated(self.device) - self._before) / 2**20
            return
        if self.method.startswith("cpu VmHWM"):
            peak = _status_kib("VmHWM")
            self.mib = float("nan") if peak is None else (peak - self._before) / 1024
        else:
            # ru_maxrss is KiB on Linux, bytes on macOS
            scale = 1 if sys.platform == "darwin" else 1024
            self.mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


@contextlib.contextmanager
def peak_memory(device: Any = "cpu") -> Iterator[PeakMemory]:
    """Functional form of `PeakMemory`."""
    with PeakMemory(device) as pm:
        yield pm
