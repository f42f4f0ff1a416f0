"""Summaries of an ablation: mean +- std over seeds per cell and metric, as markdown, CSV and a chart.

Everything is read back from the cell directories (``metrics.json`` / ``error.json``), so the
summary of a half-finished or resumed ablation is always what is on disk.

Example:
    >>> from t2izoo.ablation.report import mean_std
    >>> mean_std([1.0, 2.0, 3.0])
    (2.0, 0.816496580927726)
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .spec import Cell

__all__ = ["CellSummary", "collect", "mean_std", "write_report", "to_markdown", "LOWER_IS_BETTER"]

# metrics where a smaller number is better (shown as "lower" in the table header)
LOWER_IS_BETTER = frozenset({"fid", "shapes-fid", "kid"})


@dataclass
class CellSummary:
    """One cell over its seeds: values per metric, seeds done, failures."""

    cell: Cell
    values: dict[str, list[float]] = field(default_factory=dict)
    seeds_done: list[int] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    pending: list[int] = field(default_factory=list)
    protocols: dict[str, dict[str, Any]] = field(default_factory=dict)


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and standard deviation (ddof 0, like the project's other spreads) of ``values``."""
    if not values:
        return math.nan, math.nan
    mean = sum(values) / len(values)
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


def collect(out: str | Path, cells: Sequence[Cell], seeds: Sequence[int]) -> list[CellSummary]:
    """Read every (cell, seed) directory under ``out``."""
    from .runner import cell_dir

    summaries = []
    for cell in cells:
        summary = CellSummary(cell)
        for seed in seeds:
            d = cell_dir(out, cell, seed)
            if (d / "metrics.json").is_file():
                record = json.loads((d / "metrics.json").read_text(encoding="utf-8"))
                summary.seeds_done.append(seed)
                for metric, result in record["results"].items():
                    summary.values.setdefault(metric, []).append(float(result["value"]))
                    summary.protocols.setdefault(metric, result.get("protocol") or {})
            elif (d / "error.json").is_file():
                err = json.loads((d / "error.json").read_text(encoding="utf-8"))
                summary.failures.append({"seed": seed, "stage": err.get("stage"), "error": err.get("error")})
            else:
                summary.pending.append(seed)
        summaries.append(summary)
    return summaries


def _fmt(mean: float, std: float, count: int) -> str:
    if math.isnan(mean):
        return "—"
    digits = 4 if abs(mean) < 10 else 2
    return f"{mean:.{digits}f}" if count < 2 else f"{mean:.{digits}f} ± {std:.{digits}f}"


def to_markdown(settings: Any, summaries: Sequence[CellSummary]) -> str:
    """The results table (cells x metrics, mean ± std over seeds), failures and protocols."""
    metrics = list(settings.metrics)
    seeds = list(settings.seeds)
    header = ["cell", "overrides", "seeds"] + [
        f"{m} ({'lower' if m in LOWER_IS_BETTER else 'higher'} is better)" for m in metrics]
    lines = [
        f"# Ablation of `{settings.base}` on `{settings.data}`",
        "",
        f"{settings.steps} training steps per cell, batch {settings.batch_size}; evaluation on "
        f"`{settings.data}/{settings.split}`, n={settings.n} generated images; seeds {seeds}. "
        "Each entry is the mean ± std over the finished seeds (std with ddof 0).",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for s in summaries:
        c = s.cell
        changes = ([f"@{c.base}"] if c.base else []) + c.overrides + [f"-O {o}" for o in c.options]
        row = [c.name, ", ".join(f"`{x}`" for x in changes) or "(base)", f"{len(s.seeds_done)}/{len(seeds)}"]
        for m in metrics:
            vals = s.values.get(m, [])
            row.append(_fmt(*mean_std(vals), len(vals)))
        lines.append("| " + " | ".join(row) + " |")
    failures = [(s.cell.name, f) for s in summaries for f in s.failures]
    if failures:
        lines += ["", "## Failed cells", "", "| cell | seed | stage | error |", "|---|---|---|---|"]
        for name, f in failures:
            error = str(f["error"]).replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {name} | {f['seed']} | {f['stage']} | {error[:300]} |")
    pending = [(s.cell.name, seed) for s in summaries for seed in s.pending]
    if pending:
        lines += ["", "Not run yet: " + ", ".join(f"{n} (seed {seed})" for n, seed in pending)]
    protocols: dict[str, dict[str, Any]] = {}
    for s in summaries:
        for m, p in s.protocols.items():
            protocols.setdefault(m, p)
    if protocols:
        lines += ["", "## Metric protocols", ""]
        for m in metrics:
            p = protocols.get(m)
            if p:
                keys = ("backbone", "space", "resize", "distractors", "folds", "data_range", "headline")
                desc = ", ".join(f"{k}: {p[k]}" for k in keys if p.get(k) is not None)
                lines.append(f"- `{m}`: {desc or 'see metrics.json'}")
    return "\n".join(lines) + "\n"


def write_csv(path: Path, settings: Any, summaries: Sequence[CellSummary]) -> Path:
    """One row per (cell, metric): mean, std, seeds finished and the per-seed values."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["cell", "base", "overrides", "options", "metric", "mean", "std", "n_seeds", "seeds", "values"])
        for s in summaries:
            c = s.cell
            for m in settings.metrics:
                vals = s.values.get(m, [])
                mean, std = mean_std(vals)
                w.writerow([c.name, c.base or settings.base, " ".join(c.overrides), " ".join(c.options), m,
                            "" if math.isnan(mean) else repr(mean), "" if math.isnan(std) else repr(std),
                            len(vals), " ".join(map(str, s.seeds_done)), " ".join(repr(v) for v in vals)])
    return path


def write_report(out: str | Path, settings: Any, cells: Sequence[Cell]) -> dict[str, Path]:
    """Write ``results.md``, ``results.csv`` and ``results.png`` into ``out``; returns their paths."""
    from .plot import bar_chart

    out = Path(out)
    summaries = collect(out, cells, settings.seeds)
    md = out / "results.md"
    md.write_text(to_markdown(settings, summaries), encoding="utf-8")
    files = {"markdown": md, "csv": write_csv(out / "results.csv", settings, summaries)}
    series = {m: [(s.cell.name, *mean_std(s.values.get(m, []))) for s in summaries] for m in settings.metrics}
    files["chart"] = bar_chart(series, out / "results.png", title=f"{settings.base}: {settings.steps} steps/cell, "
                               f"seeds {list(settings.seeds)}", lower_is_better=LOWER_IS_BETTER)
    return files
