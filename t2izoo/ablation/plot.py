"""A bar chart of an ablation (one panel per metric, one bar per cell, std as error bars).

Uses matplotlib when it is installed (headless ``Agg``); otherwise draws the same chart with PIL,
so the PNG is always written.

Example:
    >>> from t2izoo.ablation.plot import bar_chart
    >>> bar_chart({"psnr": [("a", 10.0, 0.5), ("b", 12.0, 0.0)]}, "chart.png")   # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

__all__ = ["bar_chart"]

Series = Mapping[str, Sequence[tuple[str, float, float]]]  # metric -> [(cell, mean, std)]


def bar_chart(series: Series, path: str | Path, *, title: str = "", lower_is_better: Collection[str] = (),
              backend: str = "auto") -> Path:
    """Write the chart to ``path`` (PNG). ``backend``: ``auto``, ``matplotlib`` or ``pil``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if backend in ("auto", "matplotlib"):
        try:
            import matplotlib
        except ImportError:
            if backend == "matplotlib":
                raise
        else:
            matplotlib.use("Agg", force=False)
            return _matplotlib_chart(series, path, title, lower_is_better)
    return _pil_chart(series, path, title, lower_is_better)


def _label(metric: str, lower: Collection[str]) -> str:
    return f"{metric} ({'lower' if metric in lower else 'higher'} is better)"


def _matplotlib_chart(series: Series, path: Path, title: str, lower: Collection[str]) -> Path:
    import matplotlib.pyplot as plt

    metrics = list(series)
    cells = max((len(v) for v in series.values()), default=1)
    fig, axes = plt.subplots(1, len(metrics), figsize=(max(3.2, 0.45 * cells + 1.6) * len(metrics), 3.6),
                             squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        rows = series[metric]
        names = [r[0] for r in rows]
        means = [0.0 if math.isnan(r[1]) else r[1] for r in rows]
        stds = [0.0 if math.isnan(r[2]) else r[2] for r in rows]
        ax.bar(range(len(rows)), means, yerr=stds if any(stds) else None, capsize=3, color=[f"C{i % 10}" for i in range(len(rows))])
        for i, r in enumerate(rows):
            if math.isnan(r[1]):
                ax.text(i, 0, "n/a", ha="center", va="bottom", fontsize=7)
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels(names, rotation=30, ha="right", fontsize=7)
        ax.set_title(_label(metric, lower), fontsize=9)
        ax.tick_params(axis="y", labelsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _pil_chart(series: Series, path: Path, title: str, lower: Collection[str]) -> Path:
    from PIL import Image, ImageDraw

    palette = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75)]
    metrics = list(series)
    cells = max((len(v) for v in series.values()), default=1)
    pw, ph, top, bottom = max(200, 40 * cells + 40), 260, 40, 70
    img = Image.new("RGB", (pw * max(len(metrics), 1), ph + top + bottom), "white")
    draw = ImageDraw.Draw(img)
    draw.text((6, 4), title, fill="black")
    for k, metric in enumerate(metrics):
        x0 = k * pw
        rows = series[metric]
        tops = [r[1] + (0 if math.isnan(r[2]) else r[2]) for r in rows if not math.isnan(r[1])]
        hi = max([abs(t) for t in tops] + [1e-12])
        draw.text((x0 + 6, 22), _label(metric, lower), fill="black")
        base_y = top + ph
        draw.line([(x0 + 20, base_y), (x0 + pw - 10, base_y)], fill="black")
        for i, (name, mean, std) in enumerate(rows):
            bx = x0 + 30 + i * 40
            if math.isnan(mean):
                draw.text((bx, base_y - 12), "n/a", fill="gray")
            else:
                h = int(ph * 0.9 * abs(mean) / hi)
                draw.rectangle([bx, base_y - h, bx + 24, base_y], fill=palette[i % len(palette)])
                if not math.isnan(std) and std > 0:
                    e = int(ph * 0.9 * std / hi)
                    draw.line([(bx + 12, base_y - h - e), (bx + 12, base_y - h + e)], fill="black")
                draw.text((bx, base_y - h - 12), f"{mean:.3g}", fill="black")
            draw.text((bx, base_y + 4 + 12 * (i % 4)), name[:14], fill="black")
    img.save(path)
    return path
