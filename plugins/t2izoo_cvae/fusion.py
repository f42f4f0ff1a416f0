"""Fusions of a latent (or feature map) with the sentence: ``gated`` and ``latent-concat``.

Both work on ``[B, C, H, W]`` like every fusion; a CVAE latent is the ``H = W = 1`` case.
"""

from __future__ import annotations

import torch
from torch import nn

import t2izoo
from t2izoo.types import FusionOutput, TextFeatures

from .configs import GatedFusionConfig, LatentConcatConfig

__all__ = ["GatedFusion", "LatentConcatFusion"]


def _sentence_dim(sentence_dim: int | None, word_dim: int | None, channels: int) -> int:
    return int(sentence_dim or word_dim or channels)


class GatedFusion(t2izoo.Fusion):
    """``t = Linear(sentence)``; ``g = sigmoid(W[v; t] + b)``; ``out = g * v + (1 - g) * t``.

    The seed paper's gated fusion: the gate decides, per channel (and per position on a map),
    how much of the image latent and how much of the text to keep. ``gate`` returns ``g`` too.

    Example:
        >>> import t2izoo, torch
        >>> f = t2izoo.create_component("fusion", "gated", channels=4, sentence_dim=6)
        >>> text = t2izoo.TextFeatures(words=None, mask=None, sentence=torch.zeros(2, 6))
        >>> f(torch.zeros(2, 4, 1, 1), text).features.shape
        torch.Size([2, 4, 1, 1])
    """

    def __init__(self, config: GatedFusionConfig, *, channels: int, sentence_dim: int | None = None,
                 word_dim: int | None = None, **_: object) -> None:
        super().__init__(config)
        text_dim = _sentence_dim(sentence_dim, word_dim, channels)
        if not config.project_text and text_dim != channels:
            raise ValueError(
                f"gated fusion with project_text=false needs sentence width == channels, got {text_dim} != {channels}"
            )
        self.out_channels = channels
        self.text_proj = nn.Linear(text_dim, channels) if config.project_text else nn.Identity()
        self.gate_layer = nn.Conv2d(2 * channels, channels, 1)  # W_g and b_g, shared over positions

    def gate(self, visual: torch.Tensor, text: TextFeatures) -> tuple[torch.Tensor, torch.Tensor]:
        """``(fused, g)``, both ``[B, C, H, W]``."""
        b, _, h, w = visual.shape
        t = self.text_proj(text.sentence).view(b, -1, 1, 1).expand(-1, -1, h, w)
        g = torch.sigmoid(self.gate_layer(torch.cat([visual, t], dim=1)))
        return g * visual + (1 - g) * t, g

    def forward(self, visual: torch.Tensor, text: TextFeatures) -> FusionOutput:
        return FusionOutput(features=self.gate(visual, text)[0])


class LatentConcatFusion(t2izoo.Fusion):
    """``out = [v; t]`` with ``t`` the sentence (raw, or Linear-projected to ``text_channels``).

    What the seed paper's CVAE decoders take (z concatenated with the one-hot label or the CLIP
    embedding): the baseline the gated fusion is compared with. ``out_channels = C + T``.

    Example:
        >>> import t2izoo, torch
        >>> f = t2izoo.create_component("fusion", "latent-concat", channels=4, sentence_dim=6)
        >>> f.out_channels
        10
    """

    def __init__(self, config: LatentConcatConfig, *, channels: int, sentence_dim: int | None = None,
                 word_dim: int | None = None, **_: object) -> None:
        super().__init__(config)
        text_dim = _sentence_dim(sentence_dim, word_dim, channels)
        self.text_proj = nn.Identity() if config.text_channels is None else nn.Linear(text_dim, config.text_channels)
        self.out_channels = channels + (config.text_channels or text_dim)

    def forward(self, visual: torch.Tensor, text: TextFeatures) -> FusionOutput:
        b, _, h, w = visual.shape
        t = self.text_proj(text.sentence).view(b, -1, 1, 1).expand(-1, -1, h, w)
        return FusionOutput(features=torch.cat([visual, t.to(visual.dtype)], dim=1))
