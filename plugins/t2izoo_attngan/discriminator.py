"""AttnGAN discriminators for 64, 128 and 256 px (the original ``D_NET64/128/256``).

Each encodes the image to a ``[B, 8ndf, 4, 4]`` code; ``COND_DNET`` scores it jointly with the
sentence, ``UNCOND_DNET`` alone. Module names equal the original's so its ``netD*.pth`` files
load key for key. The logits heads return raw scores: losses apply the sigmoid inside
``binary_cross_entropy_with_logits`` (the original put a ``Sigmoid`` after the conv and used
``BCELoss``; same value, better numerics).
"""

from __future__ import annotations

import torch
from torch import nn

from t2izoo.nn import down_block, encode_image_by_16, leaky_block3x3

__all__ = ["DGetLogits", "AttnGANDiscriminator", "build_discriminators"]


class DGetLogits(nn.Module):
    """``[B, 8ndf, 4, 4]`` (+ sentence tiled 4x4 when conditional) -> ``[B]`` logits."""

    def __init__(self, ndf: int, sentence_dim: int, conditional: bool) -> None:
        super().__init__()
        self.df_dim, self.ef_dim, self.bcondition = ndf, sentence_dim, conditional
        if conditional:
            self.jointConv = leaky_block3x3(ndf * 8 + sentence_dim, ndf * 8)  # noqa: N815 - checkpoint key
        self.outlogits = nn.Sequential(nn.Conv2d(ndf * 8, 1, kernel_size=4, stride=4))

    def forward(self, h: torch.Tensor, sentence: torch.Tensor | None = None) -> torch.Tensor:
        if self.bcondition:
            if sentence is None:
                raise ValueError("the conditional logits head needs the sentence vector")
            c = sentence.view(-1, self.ef_dim, 1, 1).expand(-1, -1, h.size(2), h.size(3))
            h = self.jointConv(torch.cat((h, c), 1))
        return self.outlogits(h).view(-1)


class AttnGANDiscriminator(nn.Module):
    """Image ``[B, C, S, S]`` (S = 64, 128 or 256) -> ``[B, 8ndf, 4, 4]`` code with two heads.

    Example:
        >>> d = AttnGANDiscriminator(64, ndf=8, sentence_dim=16)
        >>> code = d(torch.zeros(2, 3, 64, 64))
        >>> d.COND_DNET(code, torch.zeros(2, 16)).shape, d.UNCOND_DNET(code).shape
        (torch.Size([2]), torch.Size([2]))
    """

    def __init__(
        self, image_size: int, ndf: int = 64, sentence_dim: int = 256, image_channels: int = 3,
        unconditional: bool = True,
    ) -> None:
        super().__init__()
        if image_size not in (64, 128, 256):
            raise ValueError(f"AttnGAN discriminators exist for 64, 128 and 256 px, not {image_size}")
        self.image_size = image_size
        self.img_code_s16 = encode_image_by_16(ndf, image_channels)
        if image_size == 128:
            self.img_code_s32 = down_block(ndf * 8, ndf * 16)
            self.img_code_s32_1 = leaky_block3x3(ndf * 16, ndf * 8)
        elif image_size == 256:
            self.img_code_s32 = down_block(ndf * 8, ndf * 16)
            self.img_code_s64 = down_block(ndf * 16, ndf * 32)
            self.img_code_s64_1 = leaky_block3x3(ndf * 32, ndf * 16)
            self.img_code_s64_2 = leaky_block3x3(ndf * 16, ndf * 8)
        self.UNCOND_DNET = DGetLogits(ndf, sentence_dim, conditional=False) if unconditional else None  # noqa: N815
        self.COND_DNET = DGetLogits(ndf, sentence_dim, conditional=True)  # noqa: N815

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.img_code_s16(images)
        if self.image_size == 128:
            x = self.img_code_s32_1(self.img_code_s32(x))
        elif self.image_size == 256:
            x = self.img_code_s64_2(self.img_code_s64_1(self.img_code_s64(self.img_code_s32(x))))
        return x


def build_discriminators(
    branch_num: int, ndf: int, sentence_dim: int, image_channels: int = 3, unconditional: bool = True
) -> nn.ModuleList:
    """One discriminator per generator stage (64, 128, 256 px), as ``netsD`` in the original."""
    return nn.ModuleList(
        AttnGANDiscriminator(64 * 2**i, ndf, sentence_dim, image_channels, unconditional) for i in range(branch_num)
    )
