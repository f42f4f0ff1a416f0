"""`t2izoo bench --quick`: the JSON/markdown structure, and the measuring primitives."""

from __future__ import annotations

import json
import time

import pytest
import torch

from t2izoo.benchmark import BenchOptions, interleaved, render_markdown, run_benchmark, write_report
from t2izoo.benchmark.features import BACKBONES
from t2izoo.benchmark.measure import PeakMemory
from t2izoo.benchmark.refiner import parse_runs
from t2izoo.cli import main
from t2izoo.evaluation import ImageFeatureExtractor, ImageFeatures

TINY = {"generator.ngf": 8, "generator.z_dim": 8, "encoder.dim": 16, "generator.text_dim": 16,
        "encoder.buckets": 256}
TINY_REFINER = {"lr_size": 8, "image_size": 16, "block_out_channels": (8, 16), "layers_per_block": 1,
                "norm_num_groups": 4, "cond_dim": 8, "lr_encoder_channels": 8}


def test_interleaved_ratios_follow_the_work():
    res = interleaved({"slow": lambda: time.sleep(0.02), "fast": lambda: time.sleep(0.005)}, rounds=3, warmup=0)
    assert res["slow"]["ratio_to_baseline"] == 1.0
    assert res["fast"]["ratio_to_baseline"] > 1.5
    assert len(res["fast"]["seconds"]) == 3
    with pytest.raises(ValueError, match="baseline"):
        interleaved({"a": lambda: None}, baseline="b")


def test_peak_memory_sees_a_large_allocation():
    import torch

    with PeakMemory("cpu") as small:
        torch.zeros(16)
    with PeakMemory("cpu") as big:
        x = torch.ones(64 * 2**20 // 4)  # 64 MiB, touched
        del x
    if small.method.startswith("cpu VmHWM"):
        assert big.mib > 48 and big.mib > small.mib + 40
    else:  # no high-water reset: the process peak is still at least that large
        assert big.mib > 48


def test_parse_runs():
    assert parse_runs(["ddpm:1000", "dpm-solver++:20"]) == [("ddpm", 1000), ("dpm-solver++", 20)]
    with pytest.raises(ValueError, match="SAMPLER:STEPS"):
        parse_runs(["ddim"])


class _TinyBackbone(ImageFeatureExtractor):
    """A small conv net with pool features and logits: keeps the features suite fast in tests."""

    feature_dim, num_classes = 8, 5

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.fc = torch.nn.Linear(8, 5)

    def extract(self, images):
        pooled = self.conv(images).mean(dim=(2, 3))
        return ImageFeatures(features=pooled, logits=self.fc(pooled))

    def protocol(self):
        return {"backbone": "tiny-test"}


def test_quick_run_structure(tmp_path, monkeypatch):
    monkeypatch.setitem(BACKBONES, "tiny", ("tests", _TinyBackbone))
    opts = BenchOptions.quick(
        presets=["shapes-tiny"], overrides={"shapes-tiny": TINY}, batch_sizes=(1, 2),
        suites=("generation", "refiner", "training", "features"), training_presets=["shapes-tiny"],
        refiner_config=TINY_REFINER, refiner_runs=(("ddpm", 1000), ("dpm-solver++", 4)), refiner_max_steps=2,
        feature_backbones=("tiny",), feature_batch=4, feature_image_size=32, strict=True,
    )
    result = run_benchmark(opts, progress=False)
    js, md = write_report(result, tmp_path)
    data = json.loads(js.read_text())
    assert data["errors"] == {}
    machine = data["machine"]
    assert {"cpu_model", "logical_cores", "torch", "torch_threads", "gpu"} <= set(machine)
    gen = data["suites"]["generation"]
    assert [r["batch"] for r in gen] == [1, 2]
    for row in gen:
        variants = row["variants"]
        assert variants["eager"]["ratio_to_eager"] == 1.0
        assert "inference_mode+channels_last" in variants and "inference_mode+bf16" in variants
        for v in variants.values():
            assert v["images_per_s"] > 0
            assert v["within_tolerance"], (row["batch"], v)  # the tolerance holds for every variant
        assert variants["eager"]["peak_memory_mib"] is not None
    ref = data["suites"]["refiner"]
    assert [r["sampler"] for r in ref["runs"]] == ["ddpm", "dpm-solver++"]
    assert ref["runs"][0]["extrapolated_from_steps"] == 2 and ref["runs"][0]["ratio_to_first"] == 1.0
    # 1000 scaled steps against 4: the fast sampler must come out far ahead
    assert ref["runs"][1]["ratio_to_first"] > 20
    assert "random weights" in ref["weights"]
    assert data["suites"]["training"][0]["steps_per_s"] > 0
    assert data["suites"]["features"][0]["weights"].startswith("random")
    # a speed ratio is reported, not asserted (a loaded CI machine may reorder two fast calls)
    assert data["suites"]["one_pass_fid_is"]["ratio_one_pass_vs_two"] > 0
    text = md.read_text()
    for heading in ("## Machine", "## Generation", "## Diffusion refiner", "## Training", "## Metric feature"):
        assert heading in text
    assert "| shapes-tiny | 2 | eager |" in text
    assert text == render_markdown(result)


def test_errors_are_recorded_not_raised(tmp_path):
    opts = BenchOptions.quick(presets=["no-such-preset"], suites=("generation",))
    result = run_benchmark(opts, progress=False)
    assert "generation:no-such-preset" in result["errors"]
    _, md = write_report(result, tmp_path)
    assert "no-such-preset failed" in md.read_text()
    with pytest.raises(ValueError, match="no-such-preset"):
        run_benchmark(BenchOptions.quick(presets=["no-such-preset"], suites=("generation",), strict=True),
                      progress=False)


def test_cli_startup_suite(tmp_path, capsys):
    rc = main(["bench", "--quick", "--suites", "startup", "--out", str(tmp_path), "--no-progress"])
    assert rc == 0
    data = json.loads((tmp_path / "bench.json").read_text())
    rows = data["suites"]["startup"]
    assert rows["import t2izoo"]["imports_torch"] is False  # `t2izoo list` stays torch-free
    assert rows["t2izoo list"]["median_s"] > 0
    assert "## Start-up" in capsys.readouterr().out


def test_cli_override_parsing():
    from t2izoo.cli.cmd_bench import _overrides

    assert _overrides(["shapes-tiny:generator.ngf=8", "shapes-tiny:refiner=null"]) == {
        "shapes-tiny": {"generator.ngf": 8, "refiner": None}}
    with pytest.raises(ValueError, match="PRESET:KEY=VALUE"):
        _overrides(["generator.ngf=8"])


def test_refiner_suite_scores_a_trained_refiner_by_ssim(tmp_path):
    import t2izoo
    from t2izoo.benchmark.refiner import bench_refiner, find_trained_refiner

    refiner = {"name": "diffusion-sr", **TINY_REFINER, "lr_size": 16, "image_size": 32}
    torch.manual_seed(0)
    pipe = t2izoo.build("shapes-tiny", {**TINY, "generator.image_size": 16}, refiner=refiner)
    final = pipe.save_pretrained(tmp_path / "runs" / "sr" / "final")
    (tmp_path / "runs" / "cell" / "nested" / "final").mkdir(parents=True)  # ignored: not RUN/final
    assert find_trained_refiner(tmp_path / "runs") == final
    assert find_trained_refiner(tmp_path / "nothing") is None
    block = bench_refiner([("ddim", 3), ("dpm-solver++", 2)], trained=final, batch=2, rounds=1,
                          max_steps=2, ssim_max_steps=2)
    assert block["weights"].startswith("trained")
    first, second = block["runs"]
    assert first["ssim"] is None  # 3 steps > ssim_max_steps: not scored
    assert -1.0 <= second["ssim"] <= 1.0
