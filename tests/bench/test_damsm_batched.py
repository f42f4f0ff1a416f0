"""The batched DAMSM word loss equals the per-caption loop (values, gradients, maps).

Its speed is measured by bench/damsm_word_loss.py, not asserted here."""

from __future__ import annotations

import torch

from t2izoo.nn.damsm import words_loss
from t2izoo.nn.damsm_batched import words_loss_batched


def _inputs(batch=5, dim=16, side=4, length=7, seed=0):
    g = torch.Generator().manual_seed(seed)
    regions = torch.randn(batch, dim, side, side, generator=g, requires_grad=True)
    words = torch.randn(batch, length, dim, generator=g, requires_grad=True)
    lengths = torch.tensor([7, 3, 5, 1, 6][:batch])
    return regions, words, lengths


def test_batched_equals_loop_with_padding_and_classes():
    regions, words, lengths = _inputs()
    with torch.no_grad():  # padding words carry junk: they must not matter
        words[1, 3:] = 100.0
    class_ids = [0, 1, 0, 2, 1]
    ref = words_loss(regions, words, lengths, class_ids)
    out = words_loss_batched(regions, words, lengths, class_ids)
    torch.testing.assert_close(out[0], ref[0], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out[1], ref[1], rtol=1e-5, atol=1e-5)
    assert len(out[2]) == len(ref[2])
    for a, b in zip(out[2], ref[2], strict=True):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    g_ref = torch.autograd.grad(ref[0] + ref[1], (regions, words))
    g_out = torch.autograd.grad(out[0] + out[1], (regions, words))
    for a, b in zip(g_out, g_ref, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
