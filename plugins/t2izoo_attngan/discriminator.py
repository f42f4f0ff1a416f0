"""AttnGAN discriminators for 64, 128 and 256 px (the original ``D_NET64/128/256``).

Each encodes the image to a ``[B, 8ndf, 4, 4]`` code; ``COND_DNET`` scores it jointly with the
sentence, ``UNCOND_DNET`` alone. Module names equal the original's so its ``netD*.pth`` files
load key for key. The logits heads return raw scores: losses apply the sigmoid inside
``binary_cross_entropy_with_logits`` (the original put a ``Sigmoid`` after the conv and used
``BCELoss``; same value, better numerics).

The layout is shared with FF-GAN (which swaps batch norm for spectral norm), so it lives in
`t2izoo.nn.StackedDiscriminator`; this module fixes the batch-norm variant.
"""

from __future__ import annotations

from torch import nn

from t2izoo.nn import LogitsHead, StackedDiscriminator

__all__ = ["DGetLogits", "AttnGANDiscriminator", "build_discriminators"]

#: ``[B, 8ndf, 4, 4]`` (+ sentence tiled 4x4 when conditional) -> ``[B]`` logits (``D_GET_LOGITS``)
DGetLogits = LogitsHead


class AttnGANDiscriminator(StackedDiscriminator):
    """Image ``[B, C, S, S]`` (S = 64, 128 or 256) -> ``[B, 8ndf, 4, 4]`` code with two heads.

    Example:
        >>> import torch
        >>> d = AttnGANDiscriminator(64, ndf=8, sentence_dim=16)
        >>> code = d(torch.zeros(2, 3, 64, 64))
        >>> d.COND_DNET(code, torch.zeros(2, 16)).shape, d.UNCOND_DNET(code).shape
        (torch.Size([2]), torch.Size([2]))
    """

    def __init__(
        self, image_size: int, ndf: int = 64, sentence_dim: int = 256, image_channels: int = 3,
        unconditional: bool = True,
    ) -> None:
        super().__init__(
            image_size, ndf, sentence_dim, image_channels, unconditional, spectral_norm=False, model="AttnGAN"
        )


def build_discriminators(
    branch_num: int, ndf: int, sentence_dim: int, image_channels: int = 3, unconditional: bool = True
) -> nn.ModuleList:
    """One discriminator per generator stage (64, 128, 256 px), as ``netsD`` in the original."""
    return nn.ModuleList(
        AttnGANDiscriminator(64 * 2**i, ndf, sentence_dim, image_channels, unconditional) for i in range(branch_num)
    )
