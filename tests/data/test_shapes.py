from __future__ import annotations

import hashlib
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from t2izoo.data import SHAPES_VOCAB, ShapesDataset, load_dataset
from t2izoo.data.shapes import paraphrases, render_scene, sample_scene, scene_rng

# Golden digests: the same (seed, split, index) must give these bytes on every machine.
# If a Pillow/numpy upgrade changes them, the world has changed: bump the data version on purpose.
GOLDEN = {
    (0, 64): "25b9d8a9af75ef9f59dd6b2eb1bd11d1f9e9af2eabd84b72877659027639c8e9",
    (0, 256): "a8d51ddd29de5388e03c5c6a4ce773af417874df4713c4c6405db62c3b7b7962",
    (7, 64): "28c04723540c1ad8b62ae10ac0c6ed0227b5543cb3ec9877e3d189e7816406bb",
    (7, 256): "e8bd5d60886330303131c8fa9db65e4fcd7c8794fa4ac2aee4287c6c06c9eefb",
}
GOLDEN_CAPTIONS = {
    0: "5ff5e36035503943ec5b6116ac09bf19f61ad5f05ffd3df431d7871d63967b84",
    7: "4cbca13e96d1d8f3137c2247a7f6e72add6e376e10ce3d1d29767e1763491471",
}


def test_vocabulary_is_rich_enough():
    v = SHAPES_VOCAB
    assert len(v.shapes) >= 5 and len(v.colours) >= 8 and len(v.sizes) >= 2
    assert set(v.textures) == {"plain", "striped", "dotted"}
    assert {"left of", "above"} <= set(v.relations)
    assert v.num_classes == len(v.shapes) * len(v.colours)
    assert v.class_name(v.class_id("star", "green")) == "green star"
    held = v.heldout_pairs
    assert {s for s, _ in held} == set(v.shapes)  # every shape keeps unseen colours ...
    assert len({c for _, c in held}) == len(held)  # ... and no colour is held out twice


@pytest.mark.parametrize("index", [0, 7])
def test_golden_bytes(index):
    ds = ShapesDataset("train", resolutions=(64, 256))
    scene, captions = ds.scene(index)
    for res in (64, 256):
        assert hashlib.sha256(render_scene(scene, res).tobytes()).hexdigest() == GOLDEN[(index, res)]
    assert hashlib.sha256("|".join(captions).encode()).hexdigest() == GOLDEN_CAPTIONS[index]


def test_same_seed_same_sample_other_seed_other_sample():
    a = ShapesDataset("train", size=5, seed=1, resolutions=(32,))
    b = ShapesDataset("train", size=5, seed=1, resolutions=(32,))
    c = ShapesDataset("train", size=5, seed=2, resolutions=(32,))
    for i in range(5):
        assert torch.equal(a[i].images[32], b[i].images[32]) and a[i].captions == b[i].captions
    assert any(not torch.equal(a[i].images[32], c[i].images[32]) for i in range(5))
    test = ShapesDataset("test", size=5, seed=1, resolutions=(32,))
    assert any(a[i].captions != test[i].captions for i in range(5))


def test_resolutions_show_the_same_scene():
    s = ShapesDataset("train", size=4, resolutions=(64, 128, 256))[3]
    assert {r: tuple(t.shape) for r, t in s.images.items()} == {64: (3, 64, 64), 128: (3, 128, 128), 256: (3, 256, 256)}
    down = F.avg_pool2d(s.images[256][None], 4)[0]
    assert (down - s.images[64]).abs().mean() < 0.05  # same picture, up to anti-aliasing
    # ... and the 256-px image carries detail the 64-px one lacks (texture, edges)
    up = F.interpolate(s.images[64][None], scale_factor=4, mode="bilinear", align_corners=False)[0]
    assert (up - s.images[256]).abs().mean() > 0.005


def test_render_is_antialiased():
    scene = sample_scene(scene_rng(0, "train", 1))
    smooth = np.asarray(render_scene(scene, 64, supersample=4))
    hard = np.asarray(render_scene(scene, 64, supersample=1))
    n_colours = lambda a: len(np.unique(a.reshape(-1, 3), axis=0))  # noqa: E731
    assert n_colours(smooth) > n_colours(hard)


def test_attributes_match_scene_and_captions_are_true():
    ds = ShapesDataset("train", size=200, resolutions=(8,))
    for i in range(200):
        scene, captions = ds.scene(i)
        attrs = scene.attributes()
        assert 1 <= len(attrs["objects"]) <= 3 and len(captions) == 5
        for obj in attrs["objects"]:
            assert (obj["shape"], obj["colour"]) not in SHAPES_VOCAB.heldout_pairs
            assert SHAPES_VOCAB.shapes[obj["shape_id"]] == obj["shape"]
        for cap in captions:
            assert cap.isascii() and cap == cap.lower() and "  " not in cap
            # every colour said is a colour of the scene (or a paraphrase of one)
            said = {w for w in re.findall(r"[a-z]+", cap)}
            scene_colours = {w for o in attrs["objects"] for w in paraphrases(o["colour"])}
            assert said & set(SHAPES_VOCAB.colours) <= scene_colours
        for a, rel, b in scene.relations():
            oa, ob = scene.objects[a], scene.objects[b]
            if rel == "left of":
                assert oa.x < ob.x
            if rel == "above":
                assert oa.y < ob.y
        encoded = SHAPES_VOCAB.encode(attrs)
        assert len(encoded) == 3 and all(len(row) == 5 for row in encoded)
        assert ds[i].class_id == SHAPES_VOCAB.class_id(scene.objects[0].shape, scene.objects[0].colour)


def test_compositional_split_uses_unseen_pairs():
    comp = load_dataset("shapes", split="compositional", size=100, resolutions=(8,))
    for i in range(100):
        first = comp.scene(i)[0].objects[0]
        assert (first.shape, first.colour) in SHAPES_VOCAB.heldout_pairs
    train = load_dataset("shapes", split="train", size=300, resolutions=(8,))
    train_pairs = {(o.shape, o.colour) for i in range(300) for o in train.scene(i)[0].objects}
    assert not train_pairs & SHAPES_VOCAB.heldout_pairs
    assert {s for s, _ in train_pairs} == set(SHAPES_VOCAB.shapes)
    assert {c for _, c in train_pairs} == set(SHAPES_VOCAB.colours)


def test_captions_vary_in_template_and_order():
    ds = ShapesDataset("train", size=300, resolutions=(8,))
    captions = [c for i in range(300) for c in ds.scene(i)[1]]
    starts = {" ".join(c.split()[:2]) for c in captions}
    assert len(set(captions)) > 0.95 * len(captions)
    assert len(starts) >= 20  # many templates and word orders


def test_disk_cache_gives_identical_pixels(tmp_path):
    plain = ShapesDataset("train", size=3, resolutions=(32,))
    cached = ShapesDataset("train", size=3, resolutions=(32,), cache_dir=tmp_path)
    first = [cached[i].images[32] for i in range(3)]
    files = sorted(p.name for p in next(tmp_path.iterdir()).iterdir())
    assert files == ["00000000-32.png", "00000001-32.png", "00000002-32.png"]
    again = ShapesDataset("train", size=3, resolutions=(32,), cache_dir=tmp_path)
    for i in range(3):
        assert torch.equal(first[i], plain[i].images[32]) and torch.equal(again[i].images[32], plain[i].images[32])


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="split"):
        ShapesDataset("nope")
    with pytest.raises(IndexError, match="out of range"):
        ShapesDataset("train", size=2)[2]


@pytest.mark.parametrize("field", ["shape", "colour"])
def test_minimal_pairs_differ_in_one_attribute(field):
    """Item 2k+1 is item 2k with `field` changed on every object; the rest, templates included, is equal."""
    plain = ShapesDataset("train", size=40, resolutions=(64,))
    pairs = ShapesDataset("train", size=40, resolutions=(64,), minimal_pairs=field)
    assert pairs.group_size == 2 and plain.group_size == 1
    vocab = pairs.vocab
    held = set(vocab.heldout_pairs)
    for k in range(20):
        a, caps_a = pairs.scene(2 * k)
        b, caps_b = pairs.scene(2 * k + 1)
        assert (a, caps_a) == plain.scene(2 * k)  # the first of a pair is the plain item
        assert a.background == b.background and len(a.objects) == len(b.objects)
        for oa, ob in zip(a.objects, b.objects):
            other = "colour" if field == "shape" else "shape"
            assert getattr(oa, field) != getattr(ob, field)
            assert getattr(oa, other) == getattr(ob, other)
            assert (oa.cell, oa.x, oa.y, oa.size, oa.texture) == (ob.cell, ob.x, ob.y, ob.size, ob.texture)
            assert (ob.shape, ob.colour) not in held  # the train split never shows a held-out pair
        # same templates: the captions differ only in words naming the changed attribute
        changed = {w for o in a.objects + b.objects for w in paraphrases(getattr(o, field))}
        for ca, cb in zip(caps_a, caps_b):
            assert ca != cb
            rest_a = [w for w in re.findall(r"[a-z]+|[,.]", ca) if w not in changed]
            rest_b = [w for w in re.findall(r"[a-z]+|[,.]", cb) if w not in changed]
            assert rest_a == rest_b, (ca, cb)
    with pytest.raises(ValueError, match="minimal_pairs"):
        ShapesDataset("train", size=4, minimal_pairs="texture")


def test_minimal_pairs_stay_in_one_batch():
    """The loaders shuffle whole pairs, and both members get the same caption template."""
    from t2izoo.data import make_dataloader

    pairs = ShapesDataset("train", size=32, resolutions=(32,), minimal_pairs="shape")
    loader = make_dataloader(pairs, 8, shuffle=True, seed=5)
    order = [int(k.rsplit("/", 1)[1]) for b in loader for k in b.keys]
    assert sorted(order) == list(range(32)) and order != list(range(32))
    assert all(order[i] // 2 == order[i + 1] // 2 and order[i] % 2 == 0 for i in range(0, 32, 2))
    batch = next(iter(loader))
    a, b = (pairs.scene(int(k.rsplit("/", 1)[1]))[1] for k in batch.keys[:2])
    assert a.index(batch.captions[0]) == b.index(batch.captions[1])  # the same template for both
