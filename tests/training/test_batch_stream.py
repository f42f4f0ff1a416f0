"""The trainer's batch stream: same order as make_dataloader, disjoint shards, exact seek."""

from __future__ import annotations

from t2izoo.data import make_dataloader
from t2izoo.training.data import BatchStream


def _keys(batch):
    return list(batch.keys)


def test_single_process_matches_make_dataloader(tiny_shapes):
    loader = make_dataloader(tiny_shapes, 4, shuffle=True, seed=3)
    expected = [_keys(b) for b in loader]  # epoch 0
    stream = BatchStream(loader)
    assert [_keys(next(stream)) for _ in range(len(expected))] == expected
    assert stream.position == {"epoch": 1, "batch": 0}
    epoch1 = [_keys(next(stream)) for _ in range(len(expected))]
    assert epoch1 != expected and sorted(sum(epoch1, [])) == sorted(sum(expected, []))


def test_two_processes_take_disjoint_halves_of_each_global_batch(tiny_shapes):
    loader = make_dataloader(tiny_shapes, 3, shuffle=True, seed=0)
    s0, s1 = BatchStream(loader, 2, 0), BatchStream(loader, 2, 1)
    assert s0.batches_per_epoch == 24 // 6 == 4
    seen = []
    for _ in range(4):
        a, b = _keys(next(s0)), _keys(next(s1))
        assert not set(a) & set(b)
        seen += a + b
    assert len(set(seen)) == 24  # one epoch covers the data set exactly once


def test_seek_resumes_the_same_batches(tiny_shapes):
    loader = make_dataloader(tiny_shapes, 4, shuffle=True, seed=1)
    straight = BatchStream(loader)
    batches = [_keys(next(straight)) for _ in range(9)]
    resumed = BatchStream(loader)
    resumed.seek(1, 1)  # 6 batches per epoch: the 8th batch overall
    assert [_keys(next(resumed)) for _ in range(2)] == batches[7:9]
