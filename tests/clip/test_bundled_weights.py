"""The shapes CLIP pinned by the shapes-clip card (`pretrained: shapes`) loads offline and aligns text with images."""

from __future__ import annotations

import json

import pytest
import torch

import t2izoo


@pytest.fixture(scope="module")
def shapes_clip():
    cfg = {"name": "clip", "model": "shapes-clip-tiny", "pretrained": "shapes", "context_length": 32}
    return t2izoo.create_component("encoder", cfg).eval()


def test_bundled_weights_load_as_float32_and_are_frozen(shapes_clip):
    params = list(shapes_clip.clip.parameters())
    assert all(p.dtype == torch.float32 for p in params)
    assert not any(p.requires_grad for p in params)


def test_bundled_clip_retrieves_the_right_caption_far_above_chance(shapes_clip):
    from t2izoo_clip.bundle_shapes_clip import retrieval_accuracy

    scores = retrieval_accuracy(shapes_clip, n=64, group=32)
    # chance is 1/32; the shipped weights were measured at ~0.78 top-1 among 64 (see the JSON record)
    assert scores["image_to_text"] > 0.4 and scores["text_to_image"] > 0.4, scores


def test_bundled_record_states_its_budget_and_measurement():
    record = json.loads((t2izoo.download_preset_weights("shapes-clip") / "training.json").read_text())
    assert record["steps"] > 0 and "shapes-clip" in record["trained_by"]
    card = t2izoo.load_card("shapes-clip")
    # the card reports the figure the bundling script measured, not a different one
    assert card.metrics["retrieval-image-to-text"]["value"] == record["held_out_retrieval"]["image_to_text"]


def test_the_tag_and_the_card_load_the_same_weights(shapes_clip):
    from_card = t2izoo.build("shapes-clip", pretrained=True)
    assert type(from_card) is type(shapes_clip)
    ours, theirs = shapes_clip.state_dict(), from_card.state_dict()
    assert ours.keys() == theirs.keys() and all(torch.equal(ours[k], theirs[k]) for k in ours)


def test_tag_names_the_preset_when_its_weights_are_missing(monkeypatch, tmp_path):
    from huggingface_hub import constants
    from t2izoo_clip.weights import CLIPWeightsError

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # no download attempt
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setattr("t2izoo._hub.bundled_hub_dirs", lambda: [])
    with pytest.raises(CLIPWeightsError, match="preset 'shapes-clip'.*model.safetensors"):
        t2izoo.create_component("encoder", {"name": "clip", "model": "shapes-clip-tiny", "pretrained": "shapes",
                                            "context_length": 32})


def test_unknown_tag_lists_the_bundled_one():
    with pytest.raises(ValueError, match="shapes"):
        t2izoo.create_component("encoder", {"name": "clip", "model": "shapes-clip-tiny", "pretrained": "nope"})
