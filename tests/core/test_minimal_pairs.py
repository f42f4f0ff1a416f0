"""t2izoo.nn.coarse_pair_difference: the minimal-pair term of the AttnGAN recipe and the word-pair probe."""

from __future__ import annotations

import pytest
import torch

from t2izoo.nn import coarse_pair_difference


def test_coarse_pair_difference_sees_a_moved_background_but_not_a_changed_outline():

    pair = -torch.ones(2, 3, 64, 64)
    pair[0, :, 16:48, 16:48] = 1.0  # a square
    pair[1, :, 16:48, 16:48] = 1.0
    pair[1, :, 16:20, 16:20] = -1.0  # the same square with a corner cut off
    outline = float(coarse_pair_difference(pair, grid=8))
    background = pair.clone()
    background[1][pair[1] < 0] = 1.0  # the second image's background turned light
    assert 0 < outline < 0.1 < float(coarse_pair_difference(background, grid=8))
    assert float(coarse_pair_difference(pair[:1])) == 0.0  # no pair, no term
    three = torch.cat([pair, pair[:1]])  # an odd batch's last image has no partner
    assert float(coarse_pair_difference(three, grid=8)) == pytest.approx(outline)
    with pytest.raises(ValueError, match="grid must be >= 1"):
        coarse_pair_difference(pair, grid=0)
