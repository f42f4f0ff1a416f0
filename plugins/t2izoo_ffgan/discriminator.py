"""FF-GAN's discriminators for 64, 128 and 256 px: AttnGAN's layout with spectral norm instead of BN.

Following DM-GAN, every conv of the image encoders and of the joint (image + sentence) block is
spectrally normalised and has a bias; there is no batch norm. The final 4x4 logits conv is plain.
Module names (``img_code_s16``, ``img_code_s32``, ..., ``COND_DNET``, ``UNCOND_DNET``,
``jointConv``, ``outlogits``) and the two-head interface equal AttnGAN's, so the AttnGAN
losses (FF-GAN eq. 8 and 11 are the same) apply unchanged.

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

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

__all__ = ["FFGANDiscriminator", "SNLogits", "build_discriminators"]


def _sn_conv(in_channels: int, out_channels: int, kernel: int, stride: int, padding: int) -> nn.Module:
    return spectral_norm(nn.Conv2d(in_channels, out_channels, kernel, stride, padding, bias=True))


def _sn_down(in_channels: int, out_channels: int) -> nn.Sequential:
    """SN 4x4 stride-2 conv -> LeakyReLU(0.2): halves H and W."""
    return nn.Sequential(_sn_conv(in_channels, out_channels, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True))


def _sn_same(in_channels: int, out_channels: int) -> nn.Sequential:
    """SN 3x3 conv -> LeakyReLU(0.2), keeping H and W."""
    return nn.Sequential(_sn_conv(in_channels, out_channels, 3, 1, 1), nn.LeakyReLU(0.2, inplace=True))


def _encode_by_16(ndf: int, in_channels: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    widths = [in_channels, ndf, ndf * 2, ndf * 4, ndf * 8]
    for a, b in zip(widths, widths[1:]):
        layers += [_sn_conv(a, b, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
    return nn.Sequential(*layers)


class SNLogits(nn.Module):
    """``[B, 8ndf, 4, 4]`` (+ sentence tiled, through an SN joint conv, when conditional) -> ``[B]`` logits."""

    def __init__(self, ndf: int, sentence_dim: int, conditional: bool) -> None:
        super().__init__()
        self.df_dim, self.ef_dim, self.bcondition = ndf, sentence_dim, conditional
        if conditional:
            self.jointConv = _sn_same(ndf * 8 + sentence_dim, ndf * 8)  # noqa: N815 - the release's key
        self.outlogits = nn.Sequential(nn.Conv2d(ndf * 8, 1, kernel_size=4, stride=4))

    def forward(self, h: torch.Tensor, sentence: torch.Tensor | None = None) -> torch.Tensor:
        if self.bcondition:
            if sentence is None:
                raise ValueError("the conditional logits head needs the sentence vector")
            c = sentence.view(-1, self.ef_dim, 1, 1).expand(-1, -1, h.size(2), h.size(3))
            h = self.jointConv(torch.cat((h, c), 1))
        return self.outlogits(h).view(-1)


class FFGANDiscriminator(nn.Module):
    """Image ``[B, C, S, S]`` (S = 64, 128 or 256) -> ``[B, 8ndf, 4, 4]`` code with two logits heads."""

    def __init__(
        self, image_size: int, ndf: int = 32, sentence_dim: int = 256, image_channels: int = 3,
        unconditional: bool = True,
    ) -> None:
        super().__init__()
        if image_size not in (64, 128, 256):
            raise ValueError(f"FF-GAN discriminators exist for 64, 128 and 256 px, not {image_size}")
        self.image_size = image_size
        self.img_code_s16 = _encode_by_16(ndf, image_channels)
        if image_size == 128:
            self.img_code_s32 = _sn_down(ndf * 8, ndf * 16)
            self.img_code_s32_1 = _sn_same(ndf * 16, ndf * 8)
        elif image_size == 256:
            self.img_code_s32 = _sn_down(ndf * 8, ndf * 16)
            self.img_code_s64 = _sn_down(ndf * 16, ndf * 32)
            self.img_code_s64_1 = _sn_same(ndf * 32, ndf * 16)
            self.img_code_s64_2 = _sn_same(ndf * 16, ndf * 8)
        self.UNCOND_DNET = SNLogits(ndf, sentence_dim, conditional=False) if unconditional else None  # noqa: N815
        self.COND_DNET = SNLogits(ndf, sentence_dim, conditional=True)  # noqa: N815

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
    """One spectral-norm discriminator per generator stage (64, 128, 256 px)."""
    return nn.ModuleList(
        FFGANDiscriminator(64 * 2**i, ndf, sentence_dim, image_channels, unconditional) for i in range(branch_num)
    )
