"""AttnGAN's discriminator loss: which caption each real image is mismatched with."""

from __future__ import annotations

import pytest
import torch
from t2izoo_attngan.losses import discriminator_loss
from torch import nn


class RecordingD(nn.Module):
    """Features are the images' ids; the conditional head records which (image, caption) it saw."""

    UNCOND_DNET = None

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[list[int], list[int]]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, 0, 0, 0]

    def COND_DNET(self, features: torch.Tensor, sentence: torch.Tensor) -> torch.Tensor:  # noqa: N802
        self.seen.append((features.long().tolist(), sentence[:, 0].long().tolist()))
        return torch.zeros_like(features)


def _ids(n: int, offset: int = 0) -> torch.Tensor:
    return (torch.arange(n, dtype=torch.float32) + offset).view(n, 1, 1, 1).expand(n, 3, 4, 4)


@pytest.mark.parametrize(("batch", "images", "captions"), [
    (4, [0, 1, 2, 3], [1, 0, 3, 2]),
    (5, [0, 1, 2, 3], [1, 0, 3, 2]),  # the odd one out has no partner
])
def test_partner_mismatch_pairs_each_image_with_the_other_half_of_its_pair(batch, images, captions):
    d = RecordingD()
    sentence = torch.arange(batch, dtype=torch.float32).unsqueeze(1)
    discriminator_loss(d, _ids(batch), _ids(batch, 100), sentence, mismatch="partner")
    real, fake, wrong = d.seen
    assert real == (list(range(batch)), list(range(batch)))
    assert fake == (list(range(100, 100 + batch)), list(range(batch)))
    assert wrong == (images, captions)


def test_next_mismatch_is_the_original_shift_by_one():
    d = RecordingD()
    discriminator_loss(d, _ids(4), _ids(4, 100), torch.arange(4.0).unsqueeze(1))
    assert d.seen[2] == ([0, 1, 2], [1, 2, 3])


def test_unknown_mismatch_is_refused():
    with pytest.raises(ValueError, match="mismatch must be 'next' or 'partner', got 'random'"):
        discriminator_loss(RecordingD(), _ids(2), _ids(2), torch.zeros(2, 1), mismatch="random")
