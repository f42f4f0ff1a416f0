"""Small convolutional blocks shared by the GAN generators and discriminators.

Sequential layouts (the index of each layer inside a block) follow the StackGAN/AttnGAN family,
so that checkpoints of that family load with their own key names (``upsample1.1.weight`` is the
conv of an up block, ``upsample1.2.*`` its batch norm).

Example:
    >>> import torch
    >>> from t2izoo.nn import GLU, ResBlock, up_block
    >>> up_block(16, 8)(torch.zeros(2, 16, 4, 4)).shape
    torch.Size([2, 8, 8, 8])
    >>> ResBlock(8)(torch.zeros(2, 8, 4, 4)).shape
    torch.Size([2, 8, 4, 4])
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = [
    "GLU",
    "conv1x1",
    "conv3x3",
    "up_block",
    "same_block",
    "ResBlock",
    "down_block",
    "leaky_block3x3",
    "encode_image_by_16",
]


class GLU(nn.Module):
    """Gated linear unit over channels: ``x[:, :C/2] * sigmoid(x[:, C/2:])``.

    Example:
        >>> GLU()(torch.zeros(1, 4)).shape
        torch.Size([1, 2])
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channels = x.size(1)
        if channels % 2:
            raise ValueError(f"GLU needs an even number of channels, got {channels} (shape {tuple(x.shape)})")
        half = channels // 2
        return x[:, :half] * torch.sigmoid(x[:, half:])


def conv1x1(in_channels: int, out_channels: int, bias: bool = False) -> nn.Conv2d:
    """1x1 convolution (no bias by default, as in the attention projections)."""
    return nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=1, padding=0, bias=bias)


def conv3x3(in_channels: int, out_channels: int, bias: bool = False) -> nn.Conv2d:
    """3x3 convolution with padding 1 (no bias by default: a batch norm usually follows)."""
    return nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=1, padding=1, bias=bias)


def up_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """Nearest x2 upsample -> conv3x3 (2*out) -> BN -> GLU: doubles H and W."""
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode="nearest"),
        conv3x3(in_channels, out_channels * 2),
        nn.BatchNorm2d(out_channels * 2),
        GLU(),
    )


def same_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """conv3x3 (2*out) -> BN -> GLU, keeping H and W."""
    return nn.Sequential(conv3x3(in_channels, out_channels * 2), nn.BatchNorm2d(out_channels * 2), GLU())


class ResBlock(nn.Module):
    """``x + BN(conv(GLU(BN(conv(x)))))`` with 3x3 bias-free convs (keys ``block.0/1/3/4``)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.block = nn.Sequential(
            conv3x3(channels, channels * 2),
            nn.BatchNorm2d(channels * 2),
            GLU(),
            conv3x3(channels, channels),
            nn.BatchNorm2d(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x) + x


def down_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """4x4 stride-2 conv -> BN -> LeakyReLU(0.2): halves H and W."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 4, 2, 1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.LeakyReLU(0.2, inplace=True),
    )


def leaky_block3x3(in_channels: int, out_channels: int) -> nn.Sequential:
    """conv3x3 -> BN -> LeakyReLU(0.2), keeping H and W."""
    return nn.Sequential(
        conv3x3(in_channels, out_channels), nn.BatchNorm2d(out_channels), nn.LeakyReLU(0.2, inplace=True)
    )


def encode_image_by_16(ndf: int, in_channels: int = 3) -> nn.Sequential:
    """Four 4x4 stride-2 convs (``ndf`` -> ``8*ndf`` channels): ``[B,C,H,W]`` -> ``[B,8ndf,H/16,W/16]``.

    The first conv has no batch norm (the DCGAN convention the AttnGAN discriminators keep).
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, ndf, 4, 2, 1, bias=False),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
        nn.BatchNorm2d(ndf * 2),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),
        nn.BatchNorm2d(ndf * 4),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False),
        nn.BatchNorm2d(ndf * 8),
        nn.LeakyReLU(0.2, inplace=True),
    )
