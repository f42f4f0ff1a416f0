"""`t2izoo evaluate`: streams batches, writes JSON and a markdown table."""

import json

import pytest

from t2izoo.cli import main
from t2izoo.evaluation.runner import evaluate


def test_evaluate_real_images_cli(tmp_path, capsys):
    out = tmp_path / "results.json"
    rc = main(["evaluate", ":real", "--n", "12", "--batch-size", "5", "--metrics", "fid,ssim,psnr",
               "--metric-opt", "fid.backbone=pixels", "--out", str(out)])
    assert rc == 0
    report = json.loads(out.read_text())
    assert report["n"] == 12 and report["resolution"] == 64
    assert report["results"]["ssim"]["value"] == pytest.approx(1.0)
    assert report["results"]["fid"]["value"] == pytest.approx(0.0, abs=1e-9)  # same images by construction
    assert report["results"]["fid"]["protocol"]["num_generated"] == 12
    assert "| ssim |" in out.with_suffix(".md").read_text()


def test_evaluate_a_preset_streams_generated_images():
    report = evaluate("shapes-tiny", n=10, batch_size=4, metrics=["fid", "ssim"],
                      metric_options={"fid": {"backbone": "pixels"}}, progress=False, device="cpu")
    assert report["results"]["fid"]["protocol"]["num_real"] == 10
    assert report["results"]["fid"]["value"] > 0  # an untrained generator is not the data
    assert report["results"]["ssim"]["value"] < 0.99


def test_metric_options_for_unrequested_metric_are_refused():
    with pytest.raises(ValueError, match="not requested"):
        evaluate(":real", n=2, metrics=["ssim"], metric_options={"fid": {"backbone": "pixels"}}, progress=False)


def test_bad_metric_opt_syntax(tmp_path):
    assert main(["evaluate", ":real", "--n", "2", "--metrics", "ssim", "--metric-opt", "ssim=1",
                 "--out", str(tmp_path / "r.json")]) == 2


def test_a_preset_is_evaluated_with_its_cards_weights(tmp_path, monkeypatch):
    """Like `generate`, `evaluate PRESET` scores the weights the card pins (bundled in hub/), not a fresh init."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty cache: the bundled hub/ copy is used
    values = {}
    for name, extra in {"default": [], "hub": ["--pretrained", "hub"], "random": ["--random-weights"]}.items():
        out = tmp_path / f"{name}.json"
        assert main(["evaluate", "shapes-cvae", "--n", "4", "--batch-size", "4", "--metrics", "ssim",
                     "--device", "cpu", "--out", str(out), *extra]) == 0
        values[name] = json.loads(out.read_text())["results"]["ssim"]["value"]
    assert values["default"] == pytest.approx(values["hub"])
    assert values["default"] != pytest.approx(values["random"], abs=1e-4)


def test_data_opt_reaches_the_data_set_and_is_recorded(tmp_path, monkeypatch, capsys):
    import t2izoo.data

    real_load = t2izoo.data.load_dataset
    seen = []

    def spy(*args, **kwargs):
        seen.append(kwargs)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(t2izoo.data, "load_dataset", spy)
    out = tmp_path / "r.json"
    assert main(["evaluate", ":real", "--n", "3", "--metrics", "ssim", "--data-opt", "max_objects=1",
                 "--out", str(out)]) == 0
    assert seen and all(kw.get("max_objects") == 1 for kw in seen)
    assert json.loads(out.read_text())["data_options"] == {"max_objects": 1}
    assert "(max_objects=1)" in out.with_suffix(".md").read_text()


def test_unknown_data_opt_is_named(tmp_path, capsys):
    assert main(["evaluate", ":real", "--n", "2", "--metrics", "ssim", "--data-opt", "objects=1",
                 "--out", str(tmp_path / "r.json")]) == 2
    err = capsys.readouterr().err
    assert "'objects'" in err and "max_objects" in err
