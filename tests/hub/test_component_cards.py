"""Component cards (``kind: encoder`` ...): build, publish, pinned load, and refusal where a pipeline is needed."""

from __future__ import annotations

import pytest
import torch

import t2izoo
from t2izoo import _hub
from t2izoo._build import require_pipeline_preset
from t2izoo._cards import CardError, load_card
from t2izoo._publish import PublishError, publish
from t2izoo.cli import main

ENCODER = {"name": "hashed-embedding", "buckets": 64, "dim": 16}


@pytest.fixture
def offline_hub(hf_cache, monkeypatch, tmp_path):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(_hub, "bundled_hub_dirs", lambda: [tmp_path / "hub"])
    return tmp_path / "hub"


@pytest.fixture
def trained_encoder(tmp_path):
    torch.manual_seed(3)
    encoder = t2izoo.create_component("encoder", ENCODER)
    with torch.no_grad():
        for p in encoder.parameters():
            p.normal_()
    return encoder, encoder.save_pretrained(tmp_path / "enc")


def test_component_card_builds_its_component_not_a_pipeline(cards):
    cards.write("enc-card", config=ENCODER, kind="encoder")
    encoder = t2izoo.build("enc-card", {"dim": 8})  # overrides name the component's own fields
    assert encoder.kind == "encoder" and encoder.config.dim == 8
    with pytest.raises(CardError, match="is an encoder card .* not a pipeline"):
        t2izoo.build_config("enc-card")
    with pytest.raises(CardError, match="enc-card"):
        require_pipeline_preset("enc-card")
    require_pipeline_preset("shapes-tiny")  # a pipeline card passes
    assert main(["generate", "enc-card", "a red circle", "-o", "x.png"]) != 0


def test_publish_then_pretrained_true_loads_strictly(cards, offline_hub, trained_encoder):
    encoder, folder = trained_encoder
    cards.write("enc-card", config=ENCODER, kind="encoder")
    block = publish(folder, "enc-card", hub_dir=offline_hub)
    assert set(block["files"]) == {"config.json", "model.safetensors"}
    assert load_card("enc-card").weights == block
    loaded = t2izoo.build("enc-card", pretrained=True, local_files_only=True)
    for key, value in encoder.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key


def test_publish_refuses_a_component_whose_config_differs(cards, offline_hub, trained_encoder):
    _, folder = trained_encoder
    cards.write("enc-card", config={**ENCODER, "dim": 32}, kind="encoder")
    with pytest.raises(PublishError, match="dim: card 32, run 16"):
        publish(folder, "enc-card", hub_dir=offline_hub)


def test_tampered_component_weights_are_refused(cards, offline_hub, trained_encoder):
    _, folder = trained_encoder
    cards.write("enc-card", config=ENCODER, kind="encoder")
    publish(folder, "enc-card", hub_dir=offline_hub)
    target = offline_hub / "t2izoo" / "enc-card" / "model.safetensors"
    target.write_bytes(target.read_bytes()[:-4] + b"\0\0\0\0")
    with pytest.raises(t2izoo.WeightsError, match="stale"):
        t2izoo.build("enc-card", pretrained=True, local_files_only=True)


def test_a_folder_of_backbone_files_goes_to_the_weights_field(cards, tmp_path):
    from t2izoo_metrics.shapes_classifier import ShapesClassifierNet, save_classifier

    net = ShapesClassifierNet(width=4)
    save_classifier(net, tmp_path / "clf", {"heldout": {"shape": 0.5}})
    cards.write("acc-card", config={"name": "shapes-accuracy"}, kind="evaluator")
    metric = t2izoo.build("acc-card", pretrained=tmp_path / "clf")
    assert metric.config.weights == str(tmp_path / "clf")
    assert metric.extractor.net.width == 4  # the test's network, not the shipped one
    cards.write("enc-card", config=ENCODER, kind="encoder")
    with pytest.raises(t2izoo.WeightsError, match="holds no model.safetensors"):
        t2izoo.build("enc-card", pretrained=tmp_path / "clf")


def test_t2izoo_train_runs_a_component_cards_trainer(cards, tmp_path, capsys):
    cards.write("acc-card", config={"name": "shapes-accuracy"}, kind="evaluator",
                extra={"trainer": "t2izoo_metrics.train_shapes_classifier:train"})
    out = tmp_path / "clf"
    rc = main(["train", "acc-card", "--steps", "3", "--batch-size", "4", "--out", str(out), "--no-progress",
               "-O", "train_size=8", "-O", "eval_size=4", "-O", "width=4"])
    assert rc == 0 and "t2izoo publish" in capsys.readouterr().out
    metric = t2izoo.build("acc-card", pretrained=out)  # what it wrote is what the evaluator loads
    assert metric.extractor.net.width == 4 and metric.extractor.record["budget"]["steps"] == 3
    assert main(["train", "acc-card", "--steps", "3", "--out", str(out), "--resume"]) != 0
