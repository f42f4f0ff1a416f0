"""The shapes CLIP shipped with the plugin (`pretrained: shapes`) loads offline and aligns text with images."""

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
    from t2izoo_clip.weights import BUNDLED_DIR

    record = json.loads((BUNDLED_DIR / "shapes-clip-tiny.json").read_text())
    assert record["steps"] > 0 and "shapes-clip" in record["trained_by"]
    assert 0 < record["held_out_retrieval"]["image_to_text"] <= 1


def test_unknown_tag_lists_the_bundled_one():
    with pytest.raises(ValueError, match="shapes"):
        t2izoo.create_component("encoder", {"name": "clip", "model": "shapes-clip-tiny", "pretrained": "nope"})
