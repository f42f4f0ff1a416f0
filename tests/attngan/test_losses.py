"""AttnGAN's discriminator loss: which caption each real image is mismatched with."""

from __future__ import annotations

import math

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


def _one_hot_encoder():
    """An 'image encoder' that reads a [B, 4, 2, 2] image as its own regions and mean code."""

    class Reader(torch.nn.Module):
        def forward(self, images):
            return images, images.mean((2, 3))

    return Reader()


@pytest.mark.parametrize("fake_is_real", [True, False])
def test_damsm_refresh_loss_counts_the_captions_own_fake_as_a_negative(fake_is_real):
    from t2izoo_attngan.losses import damsm_refresh_loss

    batch = 4
    codes = torch.eye(4)  # caption i and real image i share direction e_i
    real = codes[:, :, None, None].expand(batch, 4, 2, 2).clone().requires_grad_(True)
    # a fake identical to its real image ties with it; a fake pointing at no caption loses
    fake = (real if fake_is_real else -real).detach().clone().requires_grad_(True)
    words, sentence = codes[:, None, :], codes
    loss, logs = damsm_refresh_loss(_one_hot_encoder(), real, fake, words, sentence, torch.ones(batch, dtype=torch.long))
    # two levels (word, sentence); with a tie each is log 2 (the other reals are ~e^-10 away)
    expected = 2 * math.log(2) if fake_is_real else 0.0
    assert logs["refresh_fake"] == pytest.approx(expected, abs=1e-3)
    loss.backward()
    assert real.grad is not None and fake.grad is None  # the encoder's loss does not train the generator
    real_only, logs0 = damsm_refresh_loss(_one_hot_encoder(), real, fake, words, sentence, torch.ones(batch, dtype=torch.long),
                                          fake_weight=0.0)
    assert "refresh_fake" not in logs0 and float(real_only.detach()) == pytest.approx(logs["refresh_real"])
    # the real-image part is the DAMSM pretraining loss of the same reals
    from t2izoo.nn import sentence_loss, words_loss_batched

    lengths = torch.ones(batch, dtype=torch.long)
    damsm = sum(words_loss_batched(real, words, lengths)[:2]) + sum(sentence_loss(real.mean((2, 3)), sentence))
    assert logs["refresh_real"] == pytest.approx(float(damsm), rel=1e-5)

