"""Checkpoints are atomic, pruned to the last K, and found again."""

from __future__ import annotations

import pytest
import torch

from t2izoo.training import TrainConfig, Trainer, find_checkpoints, latest_checkpoint
from t2izoo.training import checkpoint as ckpt


def _trainer(make_pipeline, data, out, steps, **kw):
    from t2izoo_basic.recipe import TinyGANRecipe

    pipe = make_pipeline()
    cfg = TrainConfig(out=out, steps=steps, batch_size=4, cpu=True, progress=False, tensorboard=False, **kw)
    return Trainer(pipe, TinyGANRecipe(pipe), data, cfg)


def test_keep_last_and_layout(make_pipeline, tiny_shapes, tmp_path):
    result = _trainer(make_pipeline, tiny_shapes, tmp_path, 5, save_every=1, keep_last=2).fit()
    names = [p.name for p in find_checkpoints(tmp_path)]
    assert names == ["step-00000004", "step-00000005"]
    last = latest_checkpoint(tmp_path)
    assert last == result.checkpoint
    for rel in ("modules/generator.pt", "modules/discriminator.pt", "modules/encoder.pt",
                "optimizers.pt", "rng/rank-0.pt", "trainer.json"):
        assert (last / rel).is_file(), rel
    state = ckpt.read_trainer_state(last)
    assert state["step"] == 5 and state["num_processes"] == 1
    # 24 samples / batch 4 = 6 batches per epoch; 5 consumed
    assert state["data"] == {"epoch": 0, "batch": 5}
    assert not list((tmp_path / "checkpoints").glob(".*"))  # no temp dirs left behind


def test_crash_during_save_keeps_last_good_checkpoint(make_pipeline, tiny_shapes, tmp_path, monkeypatch):
    trainer = _trainer(make_pipeline, tiny_shapes, tmp_path, 2, save_every=1)
    trainer.fit()
    good = latest_checkpoint(tmp_path)
    before = torch.load(good / "modules" / "generator.pt", weights_only=False)

    # a second run that dies while writing its next checkpoint
    trainer = _trainer(make_pipeline, tiny_shapes, tmp_path, 4, save_every=1, resume=True)
    real_save = torch.save
    calls = {"n": 0}

    def failing_save(obj, path, *a, **k):
        calls["n"] += 1
        if calls["n"] == 3:  # rng, then the first module, then boom
            raise OSError("disk full (simulated)")
        return real_save(obj, path, *a, **k)

    monkeypatch.setattr(torch, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        trainer.fit()
    monkeypatch.setattr(torch, "save", real_save)

    assert latest_checkpoint(tmp_path) == good
    after = torch.load(good / "modules" / "generator.pt", weights_only=False)
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert not list((tmp_path / "checkpoints").glob(".*"))  # the half-written dir was removed
    # and the run can still be resumed from the good checkpoint
    result = _trainer(make_pipeline, tiny_shapes, tmp_path, 3, resume=True).fit()
    assert result.start_step == 2 and result.steps == 1


def test_incomplete_checkpoint_dirs_are_ignored(tmp_path):
    (tmp_path / "checkpoints" / "step-00000009" / "modules").mkdir(parents=True)  # no trainer.json
    (tmp_path / "checkpoints" / ".step-00000010.tmp").mkdir()
    assert latest_checkpoint(tmp_path) is None
    done = tmp_path / "checkpoints" / "step-00000003"
    done.mkdir()
    (done / "trainer.json").write_text('{"step": 3}')
    assert latest_checkpoint(tmp_path) == done


def test_rng_round_trip():
    import random

    import numpy as np

    state = ckpt.capture_rng()
    a = (random.random(), float(np.random.rand()), torch.rand(3))
    ckpt.restore_rng(state)
    b = (random.random(), float(np.random.rand()), torch.rand(3))
    assert a[0] == b[0] and a[1] == b[1] and torch.equal(a[2], b[2])
