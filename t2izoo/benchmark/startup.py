"""Start-up cost: ``import t2izoo`` and ``t2izoo list`` in fresh interpreters.

Each is timed in a subprocess (the only honest way: a warm process has everything imported),
and the ``import`` probe also reports whether torch got imported (it must not: ``t2izoo list``
stays fast because the core and plugin registrations are torch-free).

Example:
    >>> row = bench_startup(repeats=1)                              # doctest: +SKIP
    >>> row["import t2izoo"]["imports_torch"]                       # doctest: +SKIP
    False
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from typing import Any

__all__ = ["bench_startup"]

_PROBE = "import sys, t2izoo; print('torch' in sys.modules)"


def _time(cmd: list[str], repeats: int) -> tuple[list[float], str]:
    times, out = [], ""
    for _ in range(repeats):
        t0 = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - t0)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
        out = done.stdout
    return times, out


def bench_startup(repeats: int = 3) -> dict[str, Any]:
    """Median/min wall seconds of ``python -c 'import t2izoo'``, ``t2izoo list`` and bare Python."""
    rows: dict[str, Any] = {}
    bare, _ = _time([sys.executable, "-c", "pass"], repeats)
    rows["python -c pass"] = {"median_s": statistics.median(bare), "min_s": min(bare)}
    times, out = _time([sys.executable, "-c", _PROBE], repeats)
    rows["import t2izoo"] = {"median_s": statistics.median(times), "min_s": min(times),
                             "imports_torch": out.strip().splitlines()[-1] == "True"}
    times, _ = _time([sys.executable, "-m", "t2izoo", "list"], repeats)
    rows["t2izoo list"] = {"median_s": statistics.median(times), "min_s": min(times)}
    return rows
