"""Word attention: every image region attends over the caption's words (AttnGAN eq. 2).

Words are projected to the visual width by a bias-free 1x1 conv (``conv_context``), scored
against each region by a dot product, normalised with a softmax over words (padding masked),
and averaged into a word-context feature per region.

Example:
    >>> import torch
    >>> from t2izoo.nn import WordAttention
    >>> att = WordAttention(channels=8, word_dim=16)
    >>> ctx, maps = att(torch.randn(2, 8, 4, 4), torch.randn(2, 5, 16),
    ...                 mask=torch.tensor([[False] * 5, [False, False, True, True, True]]))
    >>> ctx.shape, maps.shape
    (torch.Size([2, 8, 4, 4]), torch.Size([2, 5, 4, 4]))
    >>> bool((maps[1, 2:] == 0).all())   # no attention on padding
    True
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from .blocks import conv1x1

__all__ = ["WordAttention", "word_attention", "MaskMode", "expand_word_mask"]

MaskMode = Literal["correct", "legacy"]


def expand_word_mask(mask: torch.Tensor, queries: int, mode: MaskMode = "correct") -> torch.Tensor:
    """Padding mask ``[B, L]`` -> per-region mask ``[B, Q, L]``.

    ``"correct"`` gives region ``q`` of sample ``b`` the mask of sample ``b``. ``"legacy"``
    reproduces the AttnGAN release, which tiled the ``[B, L]`` mask ``Q`` times
    (``mask.repeat(Q, 1)``) against scores flattened sample-major (``[B*Q, L]``), so row
    ``b*Q + q`` received the mask of sample ``(b*Q + q) % B``. With batch 1, or captions of equal
    length, both modes agree; the legacy mode exists for parity with released checkpoints.
    """
    batch, length = mask.shape
    if mode == "correct":
        return mask[:, None, :].expand(batch, queries, length)
    if mode == "legacy":
        return mask.repeat(queries, 1).view(batch, queries, length)
    raise ValueError(f"mask mode must be 'correct' or 'legacy', got {mode!r}")


def word_attention(
    query: torch.Tensor,
    context: torch.Tensor,
    mask: torch.Tensor | None = None,
    mask_mode: MaskMode = "correct",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Attend from regions to words.

    Args:
        query: visual features ``[B, C, H, W]``.
        context: projected words ``[B, C, L]`` (already at the visual width).
        mask: ``[B, L]`` bool, ``True`` at padding; ``None`` attends to every word.
        mask_mode: ``"correct"`` or ``"legacy"`` (see `expand_word_mask`).

    Returns:
        ``(weighted context [B, C, H, W], attention [B, L, H, W])``; attention sums to 1 over L.
    """
    batch, channels, height, width = query.shape
    queries = height * width
    target_t = query.reshape(batch, channels, queries).transpose(1, 2).contiguous()  # B x Q x C
    scores = torch.bmm(target_t, context)  # B x Q x L
    if mask is not None:
        mask = mask.to(device=scores.device, dtype=torch.bool)
        if mask_mode == "correct":
            # a caption that is all padding would make a row of -inf (NaN after softmax):
            # let such a sample attend to its (zero) padding features instead. The legacy
            # path keeps the release's exact behaviour.
            mask = mask & ~mask.all(dim=1, keepdim=True)
        scores = scores.masked_fill(expand_word_mask(mask, queries, mask_mode), float("-inf"))
    attn = torch.softmax(scores, dim=-1)
    attn_t = attn.transpose(1, 2).contiguous()  # B x L x Q
    weighted = torch.bmm(context, attn_t).view(batch, channels, height, width)
    return weighted, attn_t.view(batch, -1, height, width)


class WordAttention(nn.Module):
    """Project words with a 1x1 conv (``conv_context``) and attend from every region.

    Args:
        channels: width ``C`` of the visual features (the query).
        word_dim: width ``D`` of the word features.
        mask_mode: ``"correct"`` (default) or ``"legacy"`` for checkpoint parity.
    """

    def __init__(self, channels: int, word_dim: int, mask_mode: MaskMode = "correct") -> None:
        super().__init__()
        self.conv_context = conv1x1(word_dim, channels)
        self.mask_mode: MaskMode = mask_mode

    def project(self, words: torch.Tensor) -> torch.Tensor:
        """``[B, L, D]`` words -> ``[B, C, L]``."""
        return self.conv_context(words.transpose(1, 2).unsqueeze(3)).squeeze(3)

    def forward(
        self, visual: torch.Tensor, words: torch.Tensor, mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``visual [B,C,H,W]``, ``words [B,L,D]``, ``mask [B,L]`` -> (context, attention)."""
        return word_attention(visual, self.project(words), mask, self.mask_mode)

    def extra_repr(self) -> str:
        return f"mask_mode={self.mask_mode!r}"
