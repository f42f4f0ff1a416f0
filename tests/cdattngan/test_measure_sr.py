"""`python -m t2izoo_cdattngan.measure_sr`: train, continue with --init, evaluate (tiny, offline)."""

from __future__ import annotations

import json

import pytest
from t2izoo_cdattngan import measure_sr


def test_train_continue_and_evaluate(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    common = ["--hr", "16", "--batch", "2", "--data-size", "4", "--cpu-minutes", "5"]
    assert measure_sr.main(["train", "--out", str(first), "--steps", "2", *common]) == 0
    assert measure_sr.main(["train", "--out", str(second), "--steps", "1", "--init", str(first), *common]) == 0
    info = json.loads((second / "train.json").read_text())
    assert (info["steps"], info["total_steps"], info["init"]) == (1, 3, str(first))

    assert measure_sr.main(["evaluate", "--out", str(second), "--n", "2", "--runs", "ddim:2"]) == 0
    rows = json.loads((second / "evaluate.json").read_text())["rows"]
    assert [r["method"] for r in rows] == ["bicubic", "ddim"]
    assert all(-1.0 <= r["ssim"] <= 1.0 and r["psnr"] > 0 for r in rows)

    assert measure_sr.main(["evaluate", "--out", str(second), "--n", "2", "--runs", "ddim:4", "--strength", "0.5"]) == 0
    part = json.loads((second / "evaluate_strength0.5.json").read_text())["rows"][1]
    assert (part["strength"], part["steps_run"]) == (0.5, 2)


def test_init_with_another_size_is_refused(tmp_path):
    first = tmp_path / "a"
    common = ["--batch", "2", "--data-size", "4", "--steps", "1"]
    assert measure_sr.main(["train", "--out", str(first), "--hr", "16", *common]) == 0
    with pytest.raises(ValueError, match="--init"):
        measure_sr.main(["train", "--out", str(tmp_path / "b"), "--hr", "32", "--init", str(first), *common])


def test_evaluate_the_refiner_of_a_saved_pipeline(tmp_path):
    """--model DIR scores a trained pipeline's own refiner (e.g. `t2izoo train --stage 2` output)."""
    import t2izoo
    from tests.diffusion.test_diffusion_recipes import CLIP, GEN, SR

    pipe = t2izoo.build({"encoder": CLIP, "generator": GEN, "refiner": SR})
    pipe.save_pretrained(tmp_path / "model")
    out = tmp_path / "eval"
    args = ["evaluate", "--model", str(tmp_path / "model"), "--out", str(out), "--n", "2", "--runs", "ddim:2"]
    assert measure_sr.main([*args, "--strength", "0.5"]) == 0
    result = json.loads((out / "evaluate_strength0.5.json").read_text())
    assert (result["lr_size"], result["image_size"]) == (16, 32)
    assert [r["method"] for r in result["rows"]] == ["bicubic", "ddim"] and result["rows"][1]["steps_run"] == 1
    t2izoo.build({"encoder": CLIP, "generator": GEN}).save_pretrained(tmp_path / "plain")
    with pytest.raises(SystemExit, match="no refiner"):
        measure_sr.main(["evaluate", "--model", str(tmp_path / "plain"), "--out", str(out), "--n", "2"])
