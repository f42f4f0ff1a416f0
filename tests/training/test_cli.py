"""`t2izoo train`: arguments reach the trainer; --resume continues the run's own config."""

from __future__ import annotations

import json

import torch

import t2izoo
from t2izoo.cli import main

TINY = ["generator.image_size=32", "generator.ngf=8", "generator.z_dim=8", "encoder.dim=16",
        "generator.text_dim=16", "encoder.buckets=256", "refiner.image_size=32"]


def test_train_then_resume(tmp_path, capsys):
    out = tmp_path / "run"
    base = ["train", "shapes-tiny", "--data", "shapes", "--data-size", "16", "--out", str(out),
            "--batch-size", "4", "--cpu", "--no-progress", "--lr", "5e-4", "-O", "ndf=8", "--seed", "3"]
    assert main([*base, "--steps", "2", *TINY]) == 0
    assert "final model:" in capsys.readouterr().out
    run = json.loads((out / "run.json").read_text())
    assert run["recipe_options"] == {"ndf": 8, "lr": 0.0005}
    assert run["train"]["seed"] == 3 and run["train"]["batch_size"] == 4
    assert run["overrides"] == TINY
    # no overrides this time: the run's config.json (ngf=8 ...) is used, not the preset's
    assert main([*base, "--steps", "3", "--resume"]) == 0
    assert "steps 2->3" in capsys.readouterr().out
    pipe = t2izoo.build("shapes-tiny", pretrained=out / "final")
    assert pipe.generator.config.ngf == 8
    assert [p.name for p in (out / "checkpoints").iterdir()] and (out / "run-resumed.json").is_file()
    assert torch.is_tensor(pipe(["a red circle"], seed=0).tensors)


def test_bad_recipe_name_is_a_clear_error(tmp_path, capsys):
    code = main(["train", "shapes-tiny", "--steps", "1", "--out", str(tmp_path), "--recipe", "nope", *TINY])
    assert code == 2
    assert "no recipe named 'nope'" in capsys.readouterr().err


def test_data_opt_reaches_the_data_set_and_unknown_ones_are_named(capsys):
    from t2izoo.cli.cmd_train import _load_data

    ds = _load_data("shapes", [32], 8, {"minimal_pairs": "shape"})
    assert ds.minimal_pairs == "shape" and ds.group_size == 2 and len(ds) == 8
    try:
        _load_data("shapes", [32], 8, {"pairs": "shape"})
    except SystemExit as err:
        assert "--data-opt" in str(err) and "'pairs'" in str(err) and "minimal_pairs" in str(err)
    else:
        raise AssertionError("an unknown --data-opt must stop the run")
