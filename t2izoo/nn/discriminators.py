"""The StackGAN/AttnGAN discriminator layout for 64, 128 and 256 px, with BN or spectral norm.

Each discriminator encodes the image to a ``[B, 8ndf, 4, 4]`` code; the ``COND_DNET`` head
scores it jointly with the sentence, ``UNCOND_DNET`` alone. Module names
(``img_code_s16``, ``img_code_s32``, ``img_code_s32_1``, ``img_code_s64``, ``img_code_s64_1``,
``img_code_s64_2``, ``jointConv``, ``outlogits``) equal the original ``D_NET64/128/256`` so
released ``netD*.pth`` files load key for key.

``spectral_norm=False`` is AttnGAN's: bias-free convs with batch norm (the first conv without).
``spectral_norm=True`` is DM-GAN's / FF-GAN's: every conv of the encoders and of the joint block
is spectrally normalised (PyTorch's parametrisation) with a bias and no batch norm. The final
4x4 logits conv is plain in both. Heads return raw logits (losses apply the sigmoid).

Example:
    >>> import torch
    >>> d = StackedDiscriminator(128, ndf=4, sentence_dim=8, spectral_norm=True)
    >>> code = d(torch.zeros(2, 3, 128, 128))
    >>> tuple(code.shape), tuple(d.COND_DNET(code, torch.zeros(2, 8)).shape)
    ((2, 32, 4, 4), (2,))
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrizations

from .blocks import down_block, encode_image_by_16, leaky_block3x3

__all__ = ["LogitsHead", "StackedDiscriminator", "sn_down_block", "sn_same_block", "sn_encode_image_by_16"]


def _sn_conv(in_channels: int, out_channels: int, kernel: int, stride: int, padding: int) -> nn.Module:
    return parametrizations.spectral_norm(nn.Conv2d(in_channels, out_channels, kernel, stride, padding, bias=True))


def sn_down_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """SN 4x4 stride-2 conv -> LeakyReLU(0.2): halves H and W."""
    return nn.Sequential(_sn_conv(in_channels, out_channels, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True))


def sn_same_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """SN 3x3 conv -> LeakyReLU(0.2), keeping H and W."""
    return nn.Sequential(_sn_conv(in_channels, out_channels, 3, 1, 1), nn.LeakyReLU(0.2, inplace=True))


def sn_encode_image_by_16(ndf: int, in_channels: int = 3) -> nn.Sequential:
    """Four SN 4x4 stride-2 convs (``ndf`` -> ``8*ndf`` channels): ``[B,C,H,W]`` -> ``[B,8ndf,H/16,W/16]``."""
    layers: list[nn.Module] = []
    widths = [in_channels, ndf, ndf * 2, ndf * 4, ndf * 8]
    for a, b in zip(widths, widths[1:]):
        layers += [_sn_conv(a, b, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
    return nn.Sequential(*layers)


class LogitsHead(nn.Module):
    """``[B, 8ndf, 4, 4]`` (+ sentence tiled 4x4 through the joint conv, when conditional) -> ``[B]`` logits.

    The original's ``D_GET_LOGITS``; ``spectral_norm`` picks the joint block's kind.

    Example:
        >>> import torch
        >>> LogitsHead(4, 8, conditional=True)(torch.zeros(2, 32, 4, 4), torch.zeros(2, 8)).shape
        torch.Size([2])
    """

    def __init__(self, ndf: int, sentence_dim: int, conditional: bool, spectral_norm: bool = False) -> None:
        super().__init__()
        self.df_dim, self.ef_dim, self.bcondition = ndf, sentence_dim, conditional
        if conditional:
            same = sn_same_block if spectral_norm else leaky_block3x3
            self.jointConv = same(ndf * 8 + sentence_dim, ndf * 8)  # noqa: N815 - checkpoint key
        self.outlogits = nn.Sequential(nn.Conv2d(ndf * 8, 1, kernel_size=4, stride=4))

    def forward(self, h: torch.Tensor, sentence: torch.Tensor | None = None) -> torch.Tensor:
        if self.bcondition:
            if sentence is None:
                raise ValueError("the conditional logits head needs the sentence vector")
            c = sentence.view(-1, self.ef_dim, 1, 1).expand(-1, -1, h.size(2), h.size(3))
            h = self.jointConv(torch.cat((h, c), 1))
        return self.outlogits(h).view(-1)


class StackedDiscriminator(nn.Module):
    """Image ``[B, C, S, S]`` (S = 64, 128 or 256) -> ``[B, 8ndf, 4, 4]`` code with two logits heads.

    Args:
        image_size: 64, 128 or 256.
        ndf: base width.
        sentence_dim: the sentence vector's width (conditional head).
        image_channels: C.
        unconditional: build the ``UNCOND_DNET`` head (else it is ``None``).
        spectral_norm: DM-GAN style SN convs with bias instead of AttnGAN's BN blocks.
        model: names the model in errors.

    Example:
        >>> import torch
        >>> d = StackedDiscriminator(64, ndf=8, sentence_dim=16)
        >>> code = d(torch.zeros(2, 3, 64, 64))
        >>> d.COND_DNET(code, torch.zeros(2, 16)).shape, d.UNCOND_DNET(code).shape
        (torch.Size([2]), torch.Size([2]))
    """

    def __init__(
        self, image_size: int, ndf: int = 64, sentence_dim: int = 256, image_channels: int = 3,
        unconditional: bool = True, *, spectral_norm: bool = False, model: str = "AttnGAN",
    ) -> None:
        super().__init__()
        if image_size not in (64, 128, 256):
            raise ValueError(f"{model} discriminators exist for 64, 128 and 256 px, not {image_size}")
        self.image_size = image_size
        down = sn_down_block if spectral_norm else down_block
        same = sn_same_block if spectral_norm else leaky_block3x3
        encode = sn_encode_image_by_16 if spectral_norm else encode_image_by_16
        self.img_code_s16 = encode(ndf, image_channels)
        if image_size == 128:
            self.img_code_s32 = down(ndf * 8, ndf * 16)
            self.img_code_s32_1 = same(ndf * 16, ndf * 8)
        elif image_size == 256:
            self.img_code_s32 = down(ndf * 8, ndf * 16)
            self.img_code_s64 = down(ndf * 16, ndf * 32)
            self.img_code_s64_1 = same(ndf * 32, ndf * 16)
            self.img_code_s64_2 = same(ndf * 16, ndf * 8)
        self.UNCOND_DNET = (  # noqa: N815 - checkpoint key
            LogitsHead(ndf, sentence_dim, False, spectral_norm) if unconditional else None
        )
        self.COND_DNET = LogitsHead(ndf, sentence_dim, True, spectral_norm)  # noqa: N815

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.img_code_s16(images)
        if self.image_size == 128:
            x = self.img_code_s32_1(self.img_code_s32(x))
        elif self.image_size == 256:
            x = self.img_code_s64_2(self.img_code_s64_1(self.img_code_s64(self.img_code_s32(x))))
        return x
