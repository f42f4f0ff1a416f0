"""The StackGAN/AttnGAN generator skeleton shared by its descendants (AttnGAN, DM-GAN, FF-GAN).

Conditioning augmentation (`CANet`), the 64 px initial stage (`InitStage`), a refinement stage
around any `t2izoo.Fusion` (`RefineStage`: fusion -> residual blocks -> up block) and the image
head (`ImageHead`). Module names follow the original ``G_NET`` (``fc``, ``upsample1..4``,
``residual``, ``upsample``, ``img``) so released checkpoints of that family map key for key; the
fusion of a stage sits under ``att``.

Example:
    >>> import torch
    >>> from t2izoo.nn.stackgan import CANet, InitStage, ImageHead
    >>> c, mu, logvar = CANet(16, 4)(torch.zeros(2, 16), eps=torch.zeros(2, 4))
    >>> h = InitStage(ngf16=32, in_dim=4 + 3)(torch.zeros(2, 3), c)
    >>> h.shape, ImageHead(2)(h).shape
    (torch.Size([2, 2, 64, 64]), torch.Size([2, 3, 64, 64]))
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from .blocks import GLU, ResBlock, conv3x3, up_block

if TYPE_CHECKING:
    from ..interfaces import Fusion
    from ..types import TextFeatures

__all__ = ["CANet", "InitStage", "RefineStage", "ImageHead"]


class CANet(nn.Module):
    """Conditioning augmentation: sentence -> Linear(4c) -> GLU -> (mu, logvar); c = mu + eps*std.

    ``eps`` is an argument (the originals drew it inside, even in eval mode).
    """

    def __init__(self, sentence_dim: int, c_dim: int) -> None:
        super().__init__()
        self.c_dim = c_dim
        self.fc = nn.Linear(sentence_dim, c_dim * 4, bias=True)
        self.glu = GLU()

    def encode(self, sentence: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mu, logvar)``, each ``[B, c_dim]``."""
        x = self.glu(self.fc(sentence))
        return x[:, : self.c_dim], x[:, self.c_dim :]

    def forward(self, sentence: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(c_code, mu, logvar)``."""
        mu, logvar = self.encode(sentence)
        return eps * logvar.mul(0.5).exp() + mu, mu, logvar


class InitStage(nn.Module):
    """cat(c, z) -> Linear (no bias) -> BN1d -> GLU -> ``[ngf16, 4, 4]`` -> 4 up blocks -> ``[ngf16/16, 64, 64]``."""

    def __init__(self, ngf16: int, in_dim: int) -> None:
        super().__init__()
        self.gf_dim = ngf16
        self.fc = nn.Sequential(
            nn.Linear(in_dim, ngf16 * 4 * 4 * 2, bias=False), nn.BatchNorm1d(ngf16 * 4 * 4 * 2), GLU()
        )
        self.upsample1 = up_block(ngf16, ngf16 // 2)
        self.upsample2 = up_block(ngf16 // 2, ngf16 // 4)
        self.upsample3 = up_block(ngf16 // 4, ngf16 // 8)
        self.upsample4 = up_block(ngf16 // 8, ngf16 // 16)

    def forward(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        # the originals concatenate the condition first
        h = self.fc(torch.cat((c, z), 1)).view(-1, self.gf_dim, 4, 4)
        return self.upsample4(self.upsample3(self.upsample2(self.upsample1(h))))


class RefineStage(nn.Module):
    """``att`` (any fusion) -> residual blocks -> up block: ``[B, ngf, s, s]`` -> ``[B, ngf, 2s, 2s]``.

    The residual blocks run at the fusion's ``out_channels`` (2 ngf for AttnGAN's concatenation
    and for FF-GAN's FF-Block + GSR, ngf for a plain affine fusion).
    """

    def __init__(self, ngf: int, fusion: Fusion, r_num: int) -> None:
        super().__init__()
        self.att = fusion
        width = fusion.out_channels
        self.residual = nn.Sequential(*[ResBlock(width) for _ in range(r_num)])
        self.upsample = up_block(width, ngf)

    def forward(
        self, h: torch.Tensor, text: TextFeatures, image: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(next features, attention maps or None)``; ``image`` (the previous stage's picture)
        reaches only fusions that declare ``needs_stage_image``."""
        if getattr(self.att, "needs_stage_image", False):
            fused = self.att(h, text, image=image)
        else:
            fused = self.att(h, text)
        return self.upsample(self.residual(fused.features)), fused.attention


class ImageHead(nn.Module):
    """conv3x3 (no bias) -> tanh: features -> image in [-1, 1]."""

    def __init__(self, ngf: int, channels: int = 3) -> None:
        super().__init__()
        self.img = nn.Sequential(conv3x3(ngf, channels), nn.Tanh())

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.img(h)
