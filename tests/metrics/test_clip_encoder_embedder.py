"""CLIP score in the shipped shapes CLIP's space (`embedder=clip-encoder`): offline, and it can tell
matching captions from shuffled ones."""

from __future__ import annotations

import torch

import t2izoo


def test_clip_score_under_the_shapes_clip_separates_matching_from_shuffled_captions():
    from t2izoo.data import ShapesDataset

    ev = t2izoo.create_component("evaluator", {"name": "clip-score", "embedder": "clip-encoder",
                                               "model": "shapes-clip-tiny", "weights": "shapes"})
    ds = ShapesDataset("test", size=16, seed=0, resolutions=(64,), n_captions=1)
    images = torch.stack([ds[i].images[64] for i in range(16)])
    captions = [ds[i].captions[0] for i in range(16)]
    ev.reset()
    ev.update(images, captions)
    matched = ev.compute()
    ev.reset()
    ev.update(images, captions[1:] + captions[:1])
    shuffled = ev.compute()
    assert matched.value > shuffled.value + 0.3, (matched.value, shuffled.value)
    assert matched.protocol["backbone"].startswith("open_clip shapes-clip-tiny/shapes")
    assert len(matched.protocol["weights_sha256"]) == 64
