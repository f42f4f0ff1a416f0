"""The shapes metrics: caption parser, classifier persistence, and the packaged classifier."""

import subprocess
import sys

import pytest
import torch
from t2izoo_metrics.shapes_classifier import (
    ShapesClassifierNet,
    load_classifier,
    save_classifier,
    scene_targets,
)
from t2izoo_metrics.shapes_parse import parse_caption

import t2izoo
from t2izoo.data.shapes import ShapesDataset
from t2izoo.evaluation import WeightsNotFoundError, load_image_backbone


def test_parser_binds_only_true_pairs_on_the_data_sets_own_captions():
    ds = ShapesDataset("train", size=150, resolutions=(64,))
    bound = 0
    for i in range(len(ds)):
        scene, captions = ds.scene(i)
        truth = {(o.shape, o.colour) for o in scene.objects}
        for caption in captions:
            parsed = parse_caption(caption)
            assert set(parsed["pairs"]) <= truth, (caption, parsed["pairs"], truth)
            assert set(parsed["shapes"]) <= {o.shape for o in scene.objects}, caption
            bound += len(parsed["pairs"])
    assert bound > 600  # it binds most noun phrases (~1.8 per caption), not just none


@pytest.mark.parametrize("caption, pairs", [
    ("a small red circle left of a blue square", [("circle", "red"), ("square", "blue")]),
    ("the hexagon is cyan and big, on white", [("hexagon", "cyan")]),
    ("a grey plus sign and a violet round shape", [("cross", "gray"), ("circle", "purple")]),
    ("large and blue, a square sits on the left", []),  # "a" ends the phrase: no guess
])
def test_parser_examples(caption, pairs):
    assert parse_caption(caption)["pairs"] == pairs


def test_classifier_round_trip_and_targets(tmp_path):
    net = ShapesClassifierNet(width=4)
    path = save_classifier(net, tmp_path, {"heldout": {"shape": 0.5}})
    loaded, meta, sha = load_classifier(path)
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    net.eval()
    torch.testing.assert_close(loaded(x)["pairs"], net(x)["pairs"])
    assert meta["heldout"] == {"shape": 0.5} and len(sha) == 64
    attrs = ShapesDataset("train", size=1, resolutions=(64,))[0].attributes
    tgt = scene_targets([attrs])
    n_obj = len(attrs["objects"])
    assert int((tgt["cell_shape"] > 0).sum()) == n_obj == int((tgt["cell_colour"] >= 0).sum())
    assert 1 <= int(tgt["pairs"].sum()) <= n_obj  # two objects may share a (shape, colour) pair


def test_missing_classifier_names_the_training_command(tmp_path):
    with pytest.raises(WeightsNotFoundError, match="t2izoo train shapes-accuracy"):
        load_image_backbone("shapes-classifier", weights=str(tmp_path / "none.safetensors"), shared=False)


def test_training_script_runs_a_few_steps(tmp_path):
    from t2izoo_metrics.train_shapes_classifier import train

    record = train(tmp_path, steps=2, batch_size=4, train_size=8, eval_size=8, width=4, progress=False)
    assert (tmp_path / "shapes-classifier.safetensors").is_file()
    assert set(record["heldout"]) >= {"shape", "colour", "texture", "size", "object_all_attributes"}
    assert record["budget"]["steps"] == 2


def _real(n=32, split="test", seed=0):
    ds = ShapesDataset(split, size=n, seed=seed, resolutions=(64,))
    items = [ds[i] for i in range(n)]
    return torch.stack([s.images[64] for s in items]), [s.captions[0] for s in items], [s.attributes for s in items]


def test_packaged_classifier_reads_real_scenes():
    images, prompts, attrs = _real()
    with_attrs = t2izoo.create_component("evaluator", "shapes-accuracy")
    with_attrs.update(images, prompts=prompts, attributes=attrs)
    r = with_attrs.compute()
    # shipped weights: held-out shape accuracy ~0.84, colour/texture/size ~1.0 (card shapes-accuracy)
    assert r.value > 0.7 and r.protocol["breakdown"]["colour_accuracy"] > 0.95
    # shuffled images no longer match their scenes: the metric must drop a lot
    shuffled = t2izoo.create_component("evaluator", "shapes-accuracy")
    shuffled.update(images.roll(1, 0), prompts=prompts, attributes=attrs)
    assert shuffled.compute().value < r.value - 0.4
    from_prompts = t2izoo.create_component("evaluator", "shapes-accuracy")
    from_prompts.update(images, prompts=prompts)
    assert from_prompts.compute().protocol["expected_from"] == "parsed prompts"


def test_shapes_fid_separates_real_from_noise():
    a, _, _ = _real(48, "test")
    b, _, _ = _real(48, "train")
    real_vs_real = t2izoo.create_component("evaluator", "shapes-fid")
    real_vs_real.update(a, real_images=b)
    noise = t2izoo.create_component("evaluator", "shapes-fid")
    noise.update(torch.rand_like(a) * 2 - 1, real_images=b)
    assert noise.compute().value > 5 * real_vs_real.compute().value


def test_shapes_attribute_r_precision_on_real_images():
    images, prompts, _ = _real(40)
    rp = t2izoo.create_component("evaluator", {"name": "r-precision", "embedder": "shapes-attributes",
                                               "model": None, "weights": None, "distractors": 9, "folds": 2})
    rp.update(images, prompts=prompts)
    assert rp.compute().value > 0.5  # chance is 0.1


def test_plugin_import_does_not_import_torch():
    code = "import sys, t2izoo_metrics; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_shapes_fid_alone_finds_its_backbone_in_a_fresh_process():
    code = ("import torch, t2izoo; e = t2izoo.create_component('evaluator', 'shapes-fid'); "
            "x = torch.rand(4, 3, 64, 64) * 2 - 1; e.update(x, real_images=x); print(e.compute().value)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout) == pytest.approx(0.0, abs=1e-6)
