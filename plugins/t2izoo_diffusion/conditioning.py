"""Encoders of the low-resolution image into cross-attention tokens (the refiner's E_img)."""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["ConvLREncoder", "TimmLREncoder", "LRTokens", "make_lr_encoder", "sincos_2d"]


class ConvLREncoder(nn.Module):
    """A light 3-layer conv net (stride 1, 2, 2): ``[B,C,h,w] -> [B,2c,h/4,w/4]``.

    The "lightweight convolutional network" of CD-AttnGAN's refiner; at 16-64 px inputs it
    leaves 16-256 tokens, few enough for cross-attention on a CPU.
    """

    def __init__(self, in_channels: int, width: int) -> None:
        super().__init__()
        self.out_channels = 2 * width
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1),
            nn.SiLU(),
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1),
            nn.SiLU(),
            nn.Conv2d(2 * width, 2 * width, 3, stride=2, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class TimmLREncoder(nn.Module):
    """Any timm backbone as a feature extractor (``features_only=True``), one feature level."""

    def __init__(self, name: str, in_channels: int, *, pretrained: bool = False, index: int = -1) -> None:
        super().__init__()
        import timm

        try:
            self.backbone = timm.create_model(name, pretrained=pretrained, features_only=True, in_chans=in_channels)
        except RuntimeError as err:  # unknown name, or weights that cannot be fetched offline
            raise RuntimeError(
                f"diffusion-sr.lr_encoder={name!r}: timm could not build it ({err}). Use 'conv' or a name from "
                "timm.list_models(); with lr_encoder_pretrained=true the weights must already be in the "
                "Hugging Face cache (HF_HOME) when offline."
            ) from err
        channels = self.backbone.feature_info.channels()
        if not -len(channels) <= index < len(channels):
            raise ValueError(f"diffusion-sr.lr_feature_index={index} out of range for {name} ({len(channels)} levels)")
        self.index = index
        self.out_channels = channels[index]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone(x)[self.index]


def make_lr_encoder(name: str, in_channels: int, *, width: int, pretrained: bool, index: int) -> nn.Module:
    """``"conv"`` -> `ConvLREncoder`; anything else is a timm model name."""
    if name == "conv":
        return ConvLREncoder(in_channels, width)
    return TimmLREncoder(name, in_channels, pretrained=pretrained, index=index)


def sincos_2d(h: int, w: int, dim: int, device: torch.device | None = None) -> torch.Tensor:
    """Fixed 2-D sine-cosine position codes ``[h*w, dim]`` (any size, no parameters).

    Cross-attention is permutation invariant, so without them the tokens would not say where in
    the low-res image they come from.
    """
    quarter = max(dim // 4, 1)
    freqs = torch.exp(-math.log(10000.0) * torch.arange(quarter, device=device) / quarter)
    ys, xs = torch.meshgrid(
        torch.arange(h, device=device, dtype=torch.float32),
        torch.arange(w, device=device, dtype=torch.float32),
        indexing="ij",
    )
    parts = []
    for coord in (ys.reshape(-1), xs.reshape(-1)):
        angles = coord[:, None] * freqs[None]
        parts += [angles.sin(), angles.cos()]
    codes = torch.cat(parts, 1)
    if codes.shape[1] < dim:
        codes = torch.cat([codes, codes.new_zeros(codes.shape[0], dim - codes.shape[1])], 1)
    return codes[:, :dim]


class LRTokens(nn.Module):
    """Low-res image ``[B,C,h,w]`` -> tokens ``[B, h'w', D]``: CNN features, Linear, + positions."""

    def __init__(self, encoder: nn.Module, dim: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.proj = nn.Linear(encoder.out_channels, dim)
        self.dim = dim

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        feats = self.encoder(images)  # [B,c,h',w']
        B, _, h, w = feats.shape
        tokens = self.proj(feats.flatten(2).transpose(1, 2))
        return tokens + sincos_2d(h, w, self.dim, tokens.device).to(tokens.dtype)
