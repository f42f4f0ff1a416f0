from __future__ import annotations

import pytest
import torch

from t2izoo.data import Batch, collate, load_dataset, make_dataloader
from t2izoo.data.tokenizers import AttnGANTokenizer


@pytest.fixture(scope="module")
def shapes():
    return load_dataset("shapes", split="train", size=24, resolutions=(16, 32))


def _epoch(loader):
    return [(tuple(b.keys), tuple(b.captions)) for b in loader]


def test_collate_shapes_and_tokens(shapes):
    tok = AttnGANTokenizer.from_corpus([c for i in range(4) for c in shapes[i].captions])
    batch = collate([shapes[0], shapes[1], shapes[2]], tokenizer=tok, resolutions=[32])
    assert isinstance(batch, Batch) and len(batch) == 3
    assert list(batch.images) == [32] and batch.images[32].shape == (3, 3, 32, 32)
    assert batch.images[32].min() >= -1 and batch.images[32].max() <= 1
    assert batch.class_ids.dtype == torch.long and batch.class_ids.shape == (3,)
    assert batch.tokens is not None and batch.tokens.ids.shape[0] == 3
    assert batch.attributes is not None and batch.attributes[0]["objects"]
    moved = batch.to("cpu")
    assert moved.images[32].device.type == "cpu" and moved.tokens.ids.device.type == "cpu"


def test_collate_errors_name_the_problem(shapes):
    with pytest.raises(ValueError, match="resolution"):
        collate([shapes[0]], resolutions=[64])
    with pytest.raises(ValueError, match="unreadable"):
        collate([None, None])
    assert collate([shapes[0], None]).skipped == 1


def test_loader_is_seeded_and_epochs_differ(shapes):
    a = make_dataloader(shapes, 8, shuffle=True, seed=3)
    b = make_dataloader(shapes, 8, shuffle=True, seed=3)
    first_a, first_b = _epoch(a), _epoch(b)
    assert first_a == first_b
    assert _epoch(a) != first_a  # second epoch: new order
    c = make_dataloader(shapes, 8, shuffle=True, seed=4)
    assert _epoch(c) != first_a
    assert sum(len(k) for k, _ in first_a) == 24 and len(first_a) == 3


def test_loader_without_shuffle_is_in_order(shapes):
    keys = [k for b in make_dataloader(shapes, 5, shuffle=False, drop_last=False) for k in b.keys]
    assert keys == [f"shapes/train/{i}" for i in range(24)]


def test_loader_same_with_workers(shapes):
    plain = _epoch(make_dataloader(shapes, 6, shuffle=True, seed=1))
    workers = _epoch(make_dataloader(shapes, 6, shuffle=True, seed=1, num_workers=2))
    assert plain == workers


def test_loader_under_accelerate(shapes):
    accelerate = pytest.importorskip("accelerate")
    acc = accelerate.Accelerator(cpu=True)
    loader = make_dataloader(shapes, 8, shuffle=True, seed=5)
    reference = [_epoch(make_dataloader(shapes, 8, shuffle=True, seed=5)) for _ in range(1)][0]
    prepared = acc.prepare(loader)
    first = [(tuple(b.keys), tuple(b.captions)) for b in prepared]
    assert first == reference
    second = [(tuple(b.keys), tuple(b.captions)) for b in prepared]
    assert second != first
    again = acc.prepare(make_dataloader(shapes, 8, shuffle=True, seed=5))
    assert [(tuple(b.keys), tuple(b.captions)) for b in again] == first
