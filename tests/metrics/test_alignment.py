"""CLIP score and R-precision on constructed embeddings with known answers."""

import math

import pytest
import torch

import t2izoo

from .conftest import LookupEmbedder, images_with


def _unit(angle):
    return torch.tensor([math.cos(angle), math.sin(angle)], dtype=torch.float64)


def test_clip_score_variants_have_known_values():
    texts = {"a": _unit(0.0), "b": _unit(math.pi / 3), "c": _unit(math.pi)}
    emb = LookupEmbedder(texts)
    images = images_with(torch.stack([_unit(0.0), _unit(0.0)]))
    # image 0: caption "b" (cos 0.5) with candidates b, a (max 1.0); image 1: caption "c" (cos -1)
    ev = t2izoo.create_component("evaluator", "clip-score", embedder=emb)
    ev.update(images, prompts=[["b", "a"], "c"])
    r = ev.compute()
    v = r.protocol["variants"]
    assert r.value == pytest.approx((0.5 - 1.0) / 2)                      # raw mean cosine
    assert v["mean max-over-candidates cosine (eq. 13) [lookup-test]"] == pytest.approx((1.0 - 1.0) / 2)
    assert v["torchmetrics 100*max(cos,0) [lookup-test]"] == pytest.approx((50.0 + 0.0) / 2)
    tm = t2izoo.create_component("evaluator", {"name": "clip-score", "report": "torchmetrics"}, embedder=emb)
    tm.update(images, prompts=[["b", "a"], "c"])
    assert tm.compute().value == pytest.approx(25.0)


def test_clip_score_needs_one_prompt_per_image():
    ev = t2izoo.create_component("evaluator", "clip-score", embedder=LookupEmbedder({"a": _unit(0)}))
    with pytest.raises(ValueError, match="one prompt"):
        ev.update(images_with(torch.stack([_unit(0), _unit(0)])), prompts=["a"])


def _captions(n, dim):
    # caption i <-> basis-like direction i (distinct, nearly orthogonal)
    g = torch.Generator().manual_seed(0)
    vecs = torch.nn.functional.normalize(torch.randn(n, dim, generator=g, dtype=torch.float64), dim=1)
    return {f"caption {i}": vecs[i] for i in range(n)}, vecs


def test_r_precision_perfect_and_chance_embedders():
    texts, vecs = _captions(120, 40)
    emb = LookupEmbedder(texts)
    names = list(texts)
    perfect = t2izoo.create_component("evaluator", "r-precision", embedder=emb)
    for start in range(0, 120, 30):  # the first batches wait until the pool has 100 captions
        perfect.update(images_with(vecs[start:start + 30], side=8), prompts=names[start:start + 30])
    r = perfect.compute()
    assert r.value == 1.0 and r.std == 0.0 and r.protocol["num_generated"] == 120
    assert r.protocol["distractors"] == 99 and r.protocol["folds"] == 10

    # images that match the *next* caption: the true caption is never the best
    wrong = t2izoo.create_component("evaluator", "r-precision", embedder=emb)
    wrong.update(images_with(vecs.roll(-1, 0), side=8), prompts=names)
    assert wrong.compute().value < 0.05


def test_r_precision_constant_embedder_scores_zero_not_one():
    texts = {f"t{i}": torch.tensor([1.0, 0.0], dtype=torch.float64) for i in range(10)}
    ev = t2izoo.create_component("evaluator", {"name": "r-precision", "distractors": 5, "folds": 2},
                                 embedder=LookupEmbedder(texts))
    ev.update(images_with(torch.tensor([[1.0, 0.0]] * 10, dtype=torch.float64)), prompts=list(texts))
    assert ev.compute().value == 0.0


def test_r_precision_half_right_with_known_answer():
    # two clusters: images of the first half match their caption exactly; the second half's images
    # point exactly at a distractor-only direction, so they can never win
    texts, vecs = _captions(40, 64)
    names = list(texts)
    imgs = vecs.clone()
    imgs[20:] = -vecs[20:]  # cosine -1 with the true caption
    ev = t2izoo.create_component("evaluator", {"name": "r-precision", "distractors": 9, "folds": 2},
                                 embedder=LookupEmbedder(texts))
    ev.update(images_with(imgs, side=8), prompts=names)
    r = ev.compute()
    assert r.value == pytest.approx(0.5) and r.std == pytest.approx(0.0)


def test_r_precision_too_few_captions_is_explained(tmp_path):
    texts, vecs = _captions(5, 8)
    ev = t2izoo.create_component("evaluator", "r-precision", embedder=LookupEmbedder(texts))
    ev.update(images_with(vecs), prompts=list(texts))
    with pytest.raises(ValueError, match="needs 100 distinct captions.*only 5"):
        ev.compute()
    pool = tmp_path / "pool.txt"
    pool.write_text("\n".join(texts) + "\n")
    spec = {"name": "r-precision", "distractors": 4, "folds": 1, "caption_pool": str(pool)}
    ok = t2izoo.create_component("evaluator", spec, embedder=LookupEmbedder(texts))
    ok.update(images_with(vecs), prompts=list(texts))
    assert ok.compute().value == 1.0
