"""The summary pieces: mean/std over seeds and the chart (matplotlib and the PIL fallback)."""

from __future__ import annotations

import math

import pytest
from PIL import Image

from t2izoo.ablation import mean_std
from t2izoo.ablation.plot import bar_chart


def test_mean_std_is_ddof_0_and_empty_is_nan():
    assert mean_std([2.0, 4.0]) == (3.0, 1.0)
    assert mean_std([5.0]) == (5.0, 0.0)
    assert all(math.isnan(v) for v in mean_std([]))


@pytest.mark.parametrize("backend", ["pil", "matplotlib"])
def test_bar_chart_backends(tmp_path, backend):
    if backend == "matplotlib":
        pytest.importorskip("matplotlib")
    series = {"psnr": [("a", 10.0, 1.0), ("b", 12.0, 0.0), ("failed", math.nan, math.nan)],
              "shapes-fid": [("a", 3.0, 0.2), ("b", 2.0, 0.1), ("failed", math.nan, math.nan)]}
    path = bar_chart(series, tmp_path / f"{backend}.png", title="t", lower_is_better={"shapes-fid"}, backend=backend)
    img = Image.open(path)
    assert img.format == "PNG" and img.width > img.height > 50
    # bars are drawn: the picture is not a blank canvas
    assert len(img.convert("RGB").getcolors(maxcolors=1 << 16) or []) > 3
