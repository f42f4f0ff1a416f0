"""Sentence-concatenation fusion (StackGAN-style conditioning of a feature map)."""

from __future__ import annotations

import torch
from torch import nn

import t2izoo
from t2izoo.types import FusionOutput, TextFeatures

from .configs import SentenceConcatConfig


class SentenceConcatFusion(t2izoo.Fusion):
    """Project the sentence, tile it over H x W, concatenate, mix back to ``channels`` by 1x1 conv.

    Example:
        >>> import t2izoo, torch
        >>> f = t2izoo.create_component("fusion", "sentence-concat", channels=8, sentence_dim=16)
        >>> text = t2izoo.TextFeatures(words=None, mask=None, sentence=torch.zeros(2, 16))
        >>> f(torch.zeros(2, 8, 4, 4), text).features.shape
        torch.Size([2, 8, 4, 4])
    """

    def __init__(self, config: SentenceConcatConfig, *, channels: int, sentence_dim: int, **_: object) -> None:
        super().__init__(config)
        self.out_channels = channels
        self.text_proj = nn.Linear(sentence_dim, config.text_channels)
        self.mix = nn.Sequential(
            nn.Conv2d(channels + config.text_channels, channels, 1), nn.LeakyReLU(0.2, inplace=True)
        )

    def forward(self, visual: torch.Tensor, text: TextFeatures) -> FusionOutput:
        b, _, h, w = visual.shape
        t = self.text_proj(text.sentence).view(b, -1, 1, 1).expand(-1, -1, h, w)
        return FusionOutput(features=self.mix(torch.cat([visual, t], dim=1)))
