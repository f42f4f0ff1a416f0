"""``clip-attention``: AttnGAN's word attention guided by CLIP features of the current image (eq. 3)."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

import t2izoo
from t2izoo.nn import conv1x1, word_attention
from t2izoo.types import FusionOutput, TextFeatures

from .configs import CLIPAttentionConfig

__all__ = ["CLIPAttentionFusion", "clip_word_weights"]


def clip_word_weights(
    words: torch.Tensor, image_embedding: torch.Tensor, mask: torch.Tensor | None, clip_dim: int
) -> torch.Tensor:
    """Eq. 3: ``A = softmax_words(T_text . I^T / sqrt(D_clip))`` -> ``[B, L]`` (zero at padding).

    ``words`` ``[B, L, D]`` and ``image_embedding`` ``[B, D]`` must already share a width.

    Example:
        >>> w = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]]); img = torch.tensor([[2.0, 0.0]])
        >>> clip_word_weights(w, img, None, clip_dim=4)   # softmax([1, 0])
        tensor([[0.7311, 0.2689]])
    """
    scores = torch.einsum("bld,bd->bl", words, image_embedding) / math.sqrt(clip_dim)
    if mask is not None:
        mask = mask.to(device=scores.device, dtype=torch.bool)
        mask = mask & ~mask.all(dim=1, keepdim=True)  # an all-padding caption: spread over padding
        scores = scores.masked_fill(mask, float("-inf"))
    return torch.softmax(scores, dim=-1)


class CLIPAttentionFusion(t2izoo.Fusion):
    """``h [B,C,H,W]`` + words + previous stage image -> ``cat(h, guided word context) [B,2C,H,W]``.

    1. ``I = align(CLIP_image(image))``: the stage image's CLIP embedding mapped to the word width
       (the paper's "feature space alignment module").
    2. ``A = softmax_words(words . I / sqrt(D_clip))`` (eq. 3), one weight per word.
    3. AttnGAN's region-to-word attention ``beta [B, L, H, W]`` is multiplied by ``A`` and
       renormalised over words; the word context is averaged with it, as in ``concat-attention``.

    Without an image (used on its own) ``A`` is uniform and the block equals ``concat-attention``.
    The CLIP image encoder is not part of this module: it travels with the text features
    (``text.image_encoder``, set by the ``lstm+clip`` encoder), so CLIP's weights live once, in the
    encoder. The word projection is named ``conv_context`` as in AttnGAN checkpoints.

    Example:
        >>> import t2izoo, torch
        >>> f = t2izoo.create_component("fusion", {"name": "clip-attention", "image_embed_dim": 4},
        ...                             channels=8, word_dim=16)
        >>> text = t2izoo.TextFeatures(torch.randn(2, 5, 16), None, torch.zeros(2, 16),
        ...                            image_encoder=lambda img: img.mean((2, 3)).repeat(1, 2)[:, :4])
        >>> out = f(torch.zeros(2, 8, 4, 4), text, image=torch.rand(2, 3, 8, 8))
        >>> out.features.shape, out.attention.shape
        (torch.Size([2, 16, 4, 4]), torch.Size([2, 5, 4, 4]))
    """

    needs_stage_image = True

    def __init__(self, config: CLIPAttentionConfig, *, channels: int, word_dim: int, **_context: Any) -> None:
        super().__init__(config)
        if word_dim is None:
            raise ValueError(
                "fusion 'clip-attention' needs word features: its generator gave word_dim=None "
                "(the encoder has no per-word output)"
            )
        self.channels = channels
        self.out_channels = 2 * channels
        self.conv_context = conv1x1(word_dim, channels)
        self.align = nn.Linear(config.image_embed_dim, word_dim)
        self.mask_mode = config.mask_mode

    def word_weights(self, text: TextFeatures, image: torch.Tensor | None) -> torch.Tensor | None:
        """``A_k`` ``[B, L]`` for this stage's image, or ``None`` without an image."""
        if image is None:
            return None
        if text.image_encoder is None:
            raise ValueError(
                "fusion 'clip-attention' got a stage image but TextFeatures without image_encoder: "
                "use an encoder with a CLIP image side (encoder 'lstm+clip'), or fusion 'concat-attention'"
            )
        embedding = text.image_encoder(image)
        if embedding.shape[-1] != self.config.image_embed_dim:
            raise ValueError(
                f"fusion 'clip-attention': the encoder's CLIP image embedding has width {embedding.shape[-1]} "
                f"but image_embed_dim={self.config.image_embed_dim}; set generator.fusion.image_embed_dim="
                f"{embedding.shape[-1]}"
            )
        aligned = self.align(embedding.to(text.words.dtype))
        return clip_word_weights(text.words, aligned, text.mask, self.config.image_embed_dim)

    def forward(self, visual: torch.Tensor, text: TextFeatures, image: torch.Tensor | None = None) -> FusionOutput:
        if text.words is None:
            raise ValueError("fusion 'clip-attention' got TextFeatures without words (words=None)")
        words = self.conv_context(text.words.transpose(1, 2).unsqueeze(3)).squeeze(3)  # B x C x L
        context, attn = word_attention(visual, words, text.mask, self.mask_mode)
        weights = self.word_weights(text, image)
        if weights is not None:
            # beta * A renormalised over words == softmax(scores + log A): CLIP re-ranks the words
            guided = attn * weights[:, :, None, None].to(attn.dtype)
            attn = guided / guided.sum(1, keepdim=True).clamp_min(1e-12)
            b, c, h, w = visual.shape
            context = torch.bmm(words, attn.reshape(b, -1, h * w)).view(b, c, h, w)
        return FusionOutput(features=torch.cat([visual, context], dim=1), attention=attn)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, channels={self.channels}, image_embed_dim={self.config.image_embed_dim}"
