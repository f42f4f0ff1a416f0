"""Resuming is exact: N steps straight == N/2 steps, stop, resume, N/2 steps (bitwise on CPU)."""

from __future__ import annotations

import pytest
import torch

from t2izoo.training import TrainConfig, Trainer, find_checkpoints


def _run(make_pipeline, data, out, steps, *, resume=False, **kw):
    from t2izoo_basic.recipe import TinyGANRecipe

    pipe = make_pipeline(seed=123 if resume else 0)  # resumed weights must come from the checkpoint
    recipe = TinyGANRecipe(pipe, lr=1e-3)
    cfg = TrainConfig(out=out, steps=steps, batch_size=4, cpu=True, progress=False, resume=resume,
                      tensorboard=False, **kw)
    result = Trainer(pipe, recipe, data, cfg).fit()
    return pipe, recipe, result


def _assert_same(a: torch.nn.Module, b: torch.nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key


@pytest.mark.parametrize("grad_accum", [1, 2])
def test_resume_is_bitwise_identical(make_pipeline, tiny_shapes, tmp_path, grad_accum):
    # 24 samples / batch 4 = 6 batches per epoch: 8 steps cross an epoch boundary
    straight_pipe, straight_recipe, _ = _run(
        make_pipeline, tiny_shapes, tmp_path / "a", 8, sample_every=3, grad_accum=grad_accum
    )
    _, _, first = _run(make_pipeline, tiny_shapes, tmp_path / "b", 4, grad_accum=grad_accum)
    assert first.steps == 4
    resumed_pipe, resumed_recipe, second = _run(
        make_pipeline, tiny_shapes, tmp_path / "b", 8, resume=True, grad_accum=grad_accum
    )
    assert second.start_step == 4 and second.steps == 4
    _assert_same(straight_pipe, resumed_pipe)
    _assert_same(straight_recipe.discriminator, resumed_recipe.discriminator)
    # optimizer moments too
    for name in ("generator", "discriminator"):
        sa = straight_recipe.optimizers()[name].state_dict()["state"]
        sb = resumed_recipe.optimizers()[name].state_dict()["state"]
        for idx in sa:
            for key in sa[idx]:
                assert torch.equal(torch.as_tensor(sa[idx][key]), torch.as_tensor(sb[idx][key])), (name, idx, key)


def test_resume_differs_without_checkpoint_state(make_pipeline, tiny_shapes, tmp_path):
    """Guards the test above: a run that does not resume (fresh weights) ends elsewhere."""
    a, _, _ = _run(make_pipeline, tiny_shapes, tmp_path / "a", 4)
    b, _, _ = _run(make_pipeline, tiny_shapes, tmp_path / "b", 4, seed=1)
    assert not all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))


def test_resume_without_checkpoint_starts_fresh(make_pipeline, tiny_shapes, tmp_path):
    _, _, result = _run(make_pipeline, tiny_shapes, tmp_path / "c", 2, resume=True)
    assert result.start_step == 0 and result.steps == 2
    assert [p.name for p in find_checkpoints(tmp_path / "c")] == ["step-00000002"]
