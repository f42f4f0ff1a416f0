"""The ``affine`` fusion: FF-Block (FF-GAN eq. 4-5) or DF-GAN's per-channel affine, plus GSR (eq. 6-7).

Sub-module names follow the FF-GAN release's ``NEXT_STAGE_G`` (``w_att``, ``affine`` with
``conv`` / ``conv_weight`` / ``conv_bias``, ``s_att``), so inside a generator stage the keys read
``h_net2.att.w_att.conv_context.weight`` where the release has ``h_net2.w_att.conv_context.weight``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

import t2izoo
from t2izoo.nn import WordAttention, conv1x1, conv3x3, word_attention
from t2izoo.types import FusionOutput, TextFeatures

from .config import AffineFusionConfig

__all__ = ["SpatialAffine", "ChannelAffine", "GlobalSemanticRefinement", "AffineFusion"]


class SpatialAffine(nn.Module):
    """``h * W(f) + b(f)`` with ``W`` and ``b`` predicted from a context map ``f`` by bias-free 3x3 convs.

    ``f`` (``[B, C, H, W]``) -> conv (C -> hidden) -> ``conv_weight`` / ``conv_bias`` (hidden -> C).
    There is no activation between the convs, as in the release.

    Example:
        >>> a = SpatialAffine(channels=4, hidden=8)
        >>> a(torch.ones(1, 4, 5, 5), torch.zeros(1, 4, 5, 5)).abs().sum().item()   # f = 0: W = b = 0
        0.0
    """

    def __init__(self, channels: int, hidden: int = 128) -> None:
        super().__init__()
        self.conv = conv3x3(channels, hidden)
        self.conv_weight = conv3x3(hidden, channels)
        self.conv_bias = conv3x3(hidden, channels)

    def forward(self, h: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        code = self.conv(context)
        return h * self.conv_weight(code) + self.conv_bias(code)


class _AffineMLP(nn.Sequential):
    """Linear -> ReLU -> Linear; the last layer starts at weight 0 and bias ``start``."""

    def __init__(self, in_dim: int, hidden: int, out_dim: int, start: float) -> None:
        super().__init__()
        self.linear1 = nn.Linear(in_dim, hidden)
        self.relu1 = nn.ReLU()
        self.linear2 = nn.Linear(hidden, out_dim)
        # DF-GAN starts its affine at the identity: gamma = 1, beta = 0
        nn.init.zeros_(self.linear2.weight)
        nn.init.constant_(self.linear2.bias, start)


class ChannelAffine(nn.Module):
    """DF-GAN style: ``h * gamma(s) + beta(s)`` with one gamma/beta per channel from the sentence ``s``.

    Example:
        >>> a = ChannelAffine(channels=4, sentence_dim=6)
        >>> h = torch.randn(2, 4, 3, 3)
        >>> torch.equal(a(h, torch.randn(2, 6)), h)          # identity at initialisation
        True
    """

    def __init__(self, channels: int, sentence_dim: int, hidden: int | None = None) -> None:
        super().__init__()
        hidden = hidden or channels
        self.fc_gamma = _AffineMLP(sentence_dim, hidden, channels, 1.0)
        self.fc_beta = _AffineMLP(sentence_dim, hidden, channels, 0.0)

    def forward(self, h: torch.Tensor, sentence: torch.Tensor) -> torch.Tensor:
        gamma = self.fc_gamma(sentence)[:, :, None, None]
        beta = self.fc_beta(sentence)[:, :, None, None]
        return h * gamma + beta


class GlobalSemanticRefinement(nn.Module):
    """FF-GAN eq. 6: ``u = U_s s`` (1x1 conv, no bias); per channel, a softmax over the spatial
    positions of ``h * u`` weights ``u``: returns ``(u * softmax_hw(h * u), that softmax)``.

    Example:
        >>> gsr = GlobalSemanticRefinement(channels=4, sentence_dim=6)
        >>> ctx, att = gsr(torch.randn(2, 4, 5, 5), torch.randn(2, 6))
        >>> ctx.shape, bool(torch.allclose(att.sum(dim=(2, 3)), torch.ones(2, 4)))
        (torch.Size([2, 4, 5, 5]), True)
    """

    def __init__(self, channels: int, sentence_dim: int) -> None:
        super().__init__()
        self.conv_context = conv1x1(sentence_dim, channels)

    def forward(self, h: torch.Tensor, sentence: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        batch, channels, height, width = h.shape
        u = self.conv_context(sentence[:, :, None, None]).view(batch, channels, 1)
        att = torch.softmax((h.reshape(batch, channels, -1) * u), dim=-1)
        return (u * att).view(batch, channels, height, width), att.view(batch, channels, height, width)


class AffineFusion(t2izoo.Fusion):
    """``h [B,C,H,W]`` + text -> affine-modulated ``h`` (``[B,C,...]``, or ``[B,2C,...]`` with GSR).

    ``level="word"`` (FF-Block): word attention (``w_att``) then `SpatialAffine` (``affine``);
    the attention maps ``[B, L, H, W]`` are returned. ``level="sentence"``: `ChannelAffine`
    (``affine``) on the sentence; no attention maps.

    Example:
        >>> import t2izoo, torch
        >>> f = t2izoo.create_component("fusion", {"name": "affine", "hidden": 8}, channels=4, word_dim=6,
        ...                             sentence_dim=6)
        >>> text = t2izoo.TextFeatures(words=torch.randn(2, 5, 6), mask=None, sentence=torch.randn(2, 6))
        >>> out = f(torch.randn(2, 4, 8, 8), text)
        >>> out.features.shape, out.attention.shape, f.out_channels
        (torch.Size([2, 8, 8, 8]), torch.Size([2, 5, 8, 8]), 8)
    """

    def __init__(
        self,
        config: AffineFusionConfig,
        *,
        channels: int,
        word_dim: int | None = None,
        sentence_dim: int | None = None,
        **_context: Any,
    ) -> None:
        super().__init__(config)
        self.channels = channels
        self.level = config.level
        self.mask_mode = config.mask_mode
        if config.level == "word":
            if word_dim is None:
                raise ValueError(
                    "fusion 'affine' with level='word' needs word features: its generator gave word_dim=None "
                    "(the encoder has no per-word output; use level='sentence')"
                )
            # attention mask handled here (None/legacy/correct), not by WordAttention's default
            self.w_att = WordAttention(channels, word_dim)
            self.affine: nn.Module = SpatialAffine(channels, config.hidden or 128)
        else:
            if sentence_dim is None:
                raise ValueError("fusion 'affine' with level='sentence' needs sentence_dim from its generator")
            self.affine = ChannelAffine(channels, sentence_dim, config.hidden)
        if config.gsr:
            if sentence_dim is None:
                raise ValueError("fusion 'affine' with gsr=True needs sentence_dim from its generator")
            self.s_att = GlobalSemanticRefinement(channels, sentence_dim)
        self.out_channels = channels * (2 if config.gsr else 1)

    def _word_context(self, visual: torch.Tensor, text: TextFeatures) -> tuple[torch.Tensor, torch.Tensor]:
        if text.words is None:
            raise ValueError(
                "fusion 'affine' (level='word') got TextFeatures without words (words=None); "
                "use level='sentence' for sentence-only encoders"
            )
        words = self.w_att.project(text.words)
        if self.mask_mode == "none" or text.mask is None:
            return word_attention(visual, words, None)
        return word_attention(visual, words, text.mask, self.mask_mode)

    def forward(self, visual: torch.Tensor, text: TextFeatures) -> FusionOutput:
        attention = None
        if self.level == "word":
            context, attention = self._word_context(visual, text)
            fused = self.affine(visual, context)
        else:
            fused = self.affine(visual, text.sentence)
        if self.config.gsr:
            sentence_context, _ = self.s_att(visual, text.sentence)
            fused = torch.cat([fused, sentence_context], dim=1)
        return FusionOutput(features=fused, attention=attention)

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, level={self.level!r}, gsr={self.config.gsr}, channels={self.channels}, "
            f"mask_mode={self.mask_mode!r}"
        )
