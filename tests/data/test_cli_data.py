from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from t2izoo.cli import main


def test_preview_writes_a_captioned_grid(tmp_path: Path, capsys):
    out = tmp_path / "grid.png"
    assert main(["data", "preview", "shapes", "--n", "6", "--columns", "3", "--resolution", "64", "-o", str(out)]) == 0
    grid = Image.open(out)
    assert grid.size[0] == 3 * (256 + 8) + 8 and grid.size[1] > 2 * 256
    # caption text under the first image: dark pixels on the white strip below it
    strip = grid.convert("L").crop((8, 8 + 256 + 2, 8 + 256, 8 + 256 + 30))
    assert np.asarray(strip).min() < 100
    assert "wrote" in capsys.readouterr().out


def test_info_json(capsys):
    assert main(["data", "info", "shapes", "--split", "compositional", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["items"] == 1000 and info["classes"] == 80 and info["example"]["captions"]
    assert "red circle" in info["vocabulary"]["heldout_pairs"]


def test_info_reports_a_bad_path(tmp_path: Path, capsys):
    assert main(["data", "info", str(tmp_path / "missing")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_bench(capsys):
    assert main(["data", "bench", "shapes", "--n", "50"]) == 0
    assert "samples/s" in capsys.readouterr().out
