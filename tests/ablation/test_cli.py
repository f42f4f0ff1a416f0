"""`t2izoo ablate` from the command line: dry run, a tiny run, exit status, report-only."""

from __future__ import annotations

import json

from t2izoo.cli import main

from .conftest import TINY

COMMON = ["--steps", "1", "--batch-size", "4", "--data-size", "8", "--n", "8", "--eval-batch-size", "8",
          "--metrics", "psnr,ssim", "--cpu", "--no-progress", "-O", "ndf=8"]


def test_dry_run_lists_cells_and_flags_invalid_ones(tmp_path, capsys):
    code = main(["ablate", "shapes-tiny", *TINY, "--vary", "refiner=none,interpolate",
                 "--rows", "a=;bad=encoder=nope", "--out", str(tmp_path / "x"), "--dry-run", *COMMON])
    out = capsys.readouterr().out
    assert code == 1  # one row cannot be resolved
    assert "4 cells x 1 seeds = 4 runs of 1 steps" in out
    assert "- a/refiner=none: encoder=hashed-embedding, generator=tiny-conv, refiner=None" in out
    assert out.count("INVALID") == 2 and "nope" in out
    assert "t2izoo train " in out and not (tmp_path / "x").exists()


def test_tiny_ablation_then_report_only(tmp_path, capsys):
    out_dir = tmp_path / "abl"
    args = ["ablate", "shapes-tiny", *TINY, "--rows", "full=;no-refiner=refiner=null", "--seeds", "2",
            "--out", str(out_dir), *COMMON]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "| no-refiner | `refiner=null` | 2/2 |" in printed and "wrote " in printed
    plan = json.loads((out_dir / "ablation.json").read_text())
    assert plan["plan"]["steps"] == 1 and plan["seeds"] == [0, 1] and len(plan["cells"]) == 2
    (out_dir / "results.md").unlink()
    assert main([*args, "--report-only"]) == 0
    assert "| full | (base) | 2/2 |" in (out_dir / "results.md").read_text()


def test_failed_cell_gives_exit_status_1(tmp_path, capsys):
    code = main(["ablate", "shapes-tiny", *TINY, "--rows", "bad=encoder=nope", "--out", str(tmp_path), *COMMON])
    assert code == 1
    assert "## Failed cells" in capsys.readouterr().out
