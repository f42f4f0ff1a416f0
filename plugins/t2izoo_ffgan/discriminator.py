"""FF-GAN's discriminators for 64, 128 and 256 px: AttnGAN's layout with spectral norm instead of BN.

Following DM-GAN, every conv of the image encoders and of the joint (image + sentence) block is
spectrally normalised and has a bias; there is no batch norm. The final 4x4 logits conv is plain.
Module names (``img_code_s16``, ``img_code_s32``, ..., ``COND_DNET``, ``UNCOND_DNET``,
``jointConv``, ``outlogits``) and the two-head interface equal AttnGAN's, so the AttnGAN
losses (FF-GAN eq. 8 and 11 are the same) apply unchanged. The layout itself is shared with
AttnGAN in `t2izoo.nn.StackedDiscriminator` (``spectral_norm=True`` here).

Spectral norm is PyTorch's parametrisation: its power iteration runs in training mode only. (The
release's own ``SpectralNorm`` also iterated in eval mode; that only matters when a
discriminator is evaluated, never for generation.)

Example:
    >>> d = FFGANDiscriminator(128, ndf=4, sentence_dim=8)
    >>> code = d(torch.zeros(2, 3, 128, 128))
    >>> tuple(code.shape), tuple(d.COND_DNET(code, torch.zeros(2, 8)).shape)
    ((2, 32, 4, 4), (2,))
"""

from __future__ import annotations

import torch  # noqa: F401 - the module example uses it
from torch import nn

from t2izoo.nn import LogitsHead, StackedDiscriminator

__all__ = ["FFGANDiscriminator", "SNLogits", "build_discriminators"]


class SNLogits(LogitsHead):
    """``[B, 8ndf, 4, 4]`` (+ sentence tiled, through an SN joint conv, when conditional) -> ``[B]`` logits."""

    def __init__(self, ndf: int, sentence_dim: int, conditional: bool) -> None:
        super().__init__(ndf, sentence_dim, conditional, spectral_norm=True)


class FFGANDiscriminator(StackedDiscriminator):
    """Image ``[B, C, S, S]`` (S = 64, 128 or 256) -> ``[B, 8ndf, 4, 4]`` code with two logits heads."""

    def __init__(
        self, image_size: int, ndf: int = 32, sentence_dim: int = 256, image_channels: int = 3,
        unconditional: bool = True,
    ) -> None:
        super().__init__(
            image_size, ndf, sentence_dim, image_channels, unconditional, spectral_norm=True, model="FF-GAN"
        )


def build_discriminators(
    branch_num: int, ndf: int, sentence_dim: int, image_channels: int = 3, unconditional: bool = True
) -> nn.ModuleList:
    """One spectral-norm discriminator per generator stage (64, 128, 256 px)."""
    return nn.ModuleList(
        FFGANDiscriminator(64 * 2**i, ndf, sentence_dim, image_channels, unconditional) for i in range(branch_num)
    )
