"""`run_ablation` end to end at tiny size: cells train, evaluate, resume, fail in isolation."""

from __future__ import annotations

import csv
import json
import math

import pytest

from t2izoo.ablation import cell_dir, expand_cells, parse_rows, parse_vary, run_ablation
from t2izoo.ablation import runner as runner_mod


def _values(out, cell, seeds, metric):
    return [json.loads((cell_dir(out, cell, s) / "metrics.json").read_text())["results"][metric]["value"]
            for s in seeds]


def test_two_cells_two_seeds_results_files(tmp_path, tiny_settings):
    settings = tiny_settings(seeds=[0, 1])
    cells = expand_cells(None, parse_vary(["refiner=none,interpolate"]))
    result = run_ablation(settings, cells, tmp_path)
    assert [r.status for r in result.runs] == ["done"] * 4 and not result.failed
    for cell in cells:
        for seed in (0, 1):
            d = cell_dir(tmp_path, cell, seed)
            config = json.loads((d / "config.json").read_text())
            assert config["generator"]["ngf"] == 8  # the shared overrides reached every cell
            assert (config["refiner"] is None) == (cell.point["refiner"] == "none")
            assert (d / "final" / "pipeline.json").is_file()
            assert f"--seed {seed}" in (d / "train-command.txt").read_text()
            run = json.loads((d / "run.json").read_text())
            assert run["train"]["steps"] == 2 and run["recipe_options"] == {"ndf": 8, "lr": 5e-4}
    # the two seeds really are different runs
    psnr = _values(tmp_path, cells[0], (0, 1), "psnr")
    assert psnr[0] != psnr[1]
    # results.csv: mean and std (ddof 0) over the two seeds, per cell and metric
    rows = list(csv.DictReader(open(result.files["csv"], encoding="utf-8")))
    assert len(rows) == 2 * 2
    row = next(r for r in rows if r["cell"] == cells[0].name and r["metric"] == "psnr")
    mean = sum(psnr) / 2
    assert math.isclose(float(row["mean"]), mean) and math.isclose(float(row["std"]), abs(psnr[0] - psnr[1]) / 2)
    assert row["n_seeds"] == "2" and row["seeds"] == "0 1"
    md = result.files["markdown"].read_text()
    assert f"| {cells[0].name} | `refiner=none` | 2/2 | {mean:.4f} ± {abs(psnr[0] - psnr[1]) / 2:.4f} |" in md
    assert result.files["chart"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_rerun_skips_finished_cells_and_resumes_interrupted_training(tmp_path, tiny_settings, monkeypatch):
    settings = tiny_settings(steps=4, save_every=2, metrics=["psnr"])
    cells = expand_cells(parse_rows("a=;b=refiner=null"), [])
    run_ablation(settings, cells, tmp_path)
    first = {c.name: (cell_dir(tmp_path, c, 0) / "metrics.json").read_text() for c in cells}

    # simulate cell b dying after its step-2 checkpoint: no final model, no step-4 checkpoint, no metrics
    b = cell_dir(tmp_path, cells[1], 0)
    for name in ("metrics.json", "train.json"):
        (b / name).unlink()
    import shutil

    shutil.rmtree(b / "final")
    shutil.rmtree(b / "checkpoints" / "step-00000004")
    calls = []
    real_train = runner_mod.train_cell
    monkeypatch.setattr(runner_mod, "train_cell", lambda *a: calls.append(a[1].name) or real_train(*a))
    result = run_ablation(settings, cells, tmp_path)
    assert [r.status for r in result.runs] == ["cached", "done"]
    assert calls == ["b"]  # the finished cell was not trained again
    assert (cell_dir(tmp_path, cells[0], 0) / "metrics.json").read_text() == first["a"]
    train = json.loads((b / "train.json").read_text())
    assert train["resumed"] is True and "--resume" in train["command"]
    assert (b / "run-resumed.json").is_file() and (b / "checkpoints" / "step-00000004").is_dir()
    # resumed training is exact: same weights, so the same metric as the uninterrupted first run
    assert json.loads((b / "metrics.json").read_text())["results"] == json.loads(first["b"])["results"]

    # a third run trains and evaluates nothing
    calls.clear()
    monkeypatch.setattr(runner_mod, "evaluate_cell", lambda *a: pytest.fail("evaluated a finished cell"))
    assert [r.status for r in run_ablation(settings, cells, tmp_path).runs] == ["cached", "cached"]
    assert calls == []


def test_one_failing_cell_is_recorded_and_others_finish(tmp_path, tiny_settings, monkeypatch):
    settings = tiny_settings(metrics=["psnr"])
    cells = expand_cells(parse_rows("ok=;broken=generator.ngf=3;badname=encoder=no-such-encoder"), [])
    real_train = runner_mod.train_cell

    def train(settings, cell, seed, run_dir):
        if cell.name == "broken":
            raise RuntimeError("boom in training")
        return real_train(settings, cell, seed, run_dir)

    monkeypatch.setattr(runner_mod, "train_cell", train)
    result = run_ablation(settings, cells, tmp_path)
    assert [r.status for r in result.runs] == ["done", "failed", "failed"]
    assert (cell_dir(tmp_path, cells[0], 0) / "metrics.json").is_file()
    err = json.loads((cell_dir(tmp_path, cells[1], 0) / "error.json").read_text())
    assert err["stage"] == "train" and "boom in training" in err["error"] and "Traceback" in err["traceback"]
    err = json.loads((cell_dir(tmp_path, cells[2], 0) / "error.json").read_text())
    assert err["stage"] == "config" and "no-such-encoder" in err["error"]
    md = result.files["markdown"].read_text()
    assert "## Failed cells" in md and "| broken | 0 | train | RuntimeError: boom in training |" in md
    assert "| broken | `generator.ngf=3` | 0/1 | — |" in md

    # the failure is retried next time (and error.json goes once it succeeds)
    monkeypatch.setattr(runner_mod, "train_cell", real_train)
    result = run_ablation(settings, cells, tmp_path)
    assert [r.status for r in result.runs] == ["cached", "done", "failed"]
    assert not (cell_dir(tmp_path, cells[1], 0) / "error.json").exists()


def test_changed_settings_in_the_same_out_are_refused(tmp_path, tiny_settings, monkeypatch):
    cells = expand_cells(None, [])
    monkeypatch.setattr(runner_mod, "run_cell", lambda *a: runner_mod.CellRun(a[1], a[2], tmp_path, "failed"))
    run_ablation(tiny_settings(), cells, tmp_path)
    with pytest.raises(ValueError, match="steps: 2 -> 3"):
        run_ablation(tiny_settings(steps=3), cells, tmp_path)
    # more seeds (or more cells) is fine: that is how an ablation grows
    run_ablation(tiny_settings(seeds=[0, 1]), cells, tmp_path)
