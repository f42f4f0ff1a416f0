"""AttnGAN's fusion: word attention, then concatenation with the visual features."""

from __future__ import annotations

from typing import Any

import torch

import t2izoo
from t2izoo.nn import conv1x1, word_attention
from t2izoo.types import FusionOutput, TextFeatures

from .config import ConcatAttentionConfig


class ConcatAttentionFusion(t2izoo.Fusion):
    """``h [B,C,H,W]`` + words -> ``cat(h, attended word context) [B,2C,H,W]`` and the attention.

    The word projection is a bias-free 1x1 conv named ``conv_context``, so inside an AttnGAN
    generator its key is ``h_net2.att.conv_context.weight``, as in the original checkpoints.

    Example:
        >>> import t2izoo, torch
        >>> f = t2izoo.create_component("fusion", "concat-attention", channels=8, word_dim=16)
        >>> text = t2izoo.TextFeatures(words=torch.randn(2, 5, 16), mask=None, sentence=torch.zeros(2, 16))
        >>> out = f(torch.zeros(2, 8, 4, 4), text)
        >>> out.features.shape, out.attention.shape, f.out_channels
        (torch.Size([2, 16, 4, 4]), torch.Size([2, 5, 4, 4]), 16)
    """

    def __init__(
        self, config: ConcatAttentionConfig, *, channels: int, word_dim: int, **_context: Any
    ) -> None:
        super().__init__(config)
        if word_dim is None:
            raise ValueError(
                "fusion 'concat-attention' needs word features: its generator gave word_dim=None "
                "(the encoder has no per-word output; choose a sentence-level fusion instead)"
            )
        self.channels = channels
        self.out_channels = 2 * channels
        # owned directly (not through a sub-module) so the key is "conv_context.weight", the
        # original GlobalAttentionGeneral's, and checkpoints map one to one
        self.conv_context = conv1x1(word_dim, channels)
        self.mask_mode = config.mask_mode

    def forward(self, visual: torch.Tensor, text: TextFeatures) -> FusionOutput:
        if text.words is None:
            raise ValueError(
                "fusion 'concat-attention' got TextFeatures without words (words=None): "
                "it attends over per-word features"
            )
        words = self.conv_context(text.words.transpose(1, 2).unsqueeze(3)).squeeze(3)  # B x C x L
        context, attn = word_attention(visual, words, text.mask, self.mask_mode)
        return FusionOutput(features=torch.cat([visual, context], dim=1), attention=attn)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, channels={self.channels}, mask_mode={self.mask_mode!r}"
