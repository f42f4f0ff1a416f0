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

from typing import Any

import torch
from torch import nn

from ..interfaces import Fusion, Generator
from ..types import GeneratorOutput, TextFeatures
from .blocks import GLU, ResBlock, conv3x3, up_block

__all__ = ["CANet", "InitStage", "RefineStage", "ImageHead", "StackGANGenerator"]


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


class StackGANGenerator(Generator):
    """The multi-stage generator AttnGAN, FF-GAN and CD-AttnGAN share: text features (+ noise, +
    CA noise) -> one image per stage (64, 128, 256 px for ``branch_num`` 1-3).

    Module names follow the original ``G_NET`` (``ca_net``, ``h_net1..3``, ``img_net1..3``); each
    refinement stage's fusion (``h_net<k>.att``) is built by `make_fusion`, which a family
    overrides. The config needs ``ngf``, ``z_dim``, ``c_dim``, ``word_dim``, ``sentence_dim``,
    ``branch_num``, ``r_num``, ``image_channels`` and ``fusion``. ``extras`` of the output carry
    ``mu``, ``logvar`` (for the KL term) and ``c_code``.

    Example:
        >>> class MyGAN(StackGANGenerator):  # a family only overrides make_fusion / make_recipe
        ...     kind = "generator"
    """

    def __init__(self, config: Any, **_context: Any) -> None:
        super().__init__(config)
        ngf = config.ngf
        self.ca_net = CANet(config.sentence_dim, config.c_dim)
        self.h_net1 = InitStage(ngf * 16, config.z_dim + config.c_dim)
        self.img_net1 = ImageHead(ngf, config.image_channels)
        for k in range(2, config.branch_num + 1):
            setattr(self, f"h_net{k}", RefineStage(ngf, self.make_fusion(config, ngf), config.r_num))
            setattr(self, f"img_net{k}", ImageHead(ngf, config.image_channels))

    def make_fusion(self, config: Any, ngf: int) -> Fusion:
        """The fusion of one refinement stage (the config's ``fusion`` component)."""
        from .._build import create_component

        return create_component(
            "fusion", config.fusion, channels=ngf, word_dim=config.word_dim, sentence_dim=config.sentence_dim
        )

    def _draw(self, shape: tuple[int, ...], generator: torch.Generator | None) -> torch.Tensor:
        param = self.ca_net.fc.weight
        device = generator.device if generator is not None else param.device
        return torch.randn(*shape, generator=generator, device=device).to(param)

    def sample_noise(self, batch_size: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``[B, z_dim]`` standard normal noise on this module's device and dtype."""
        return self._draw((batch_size, self.config.z_dim), generator)

    def sample_ca_eps(self, batch_size: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``[B, c_dim]`` standard normal noise of the conditioning augmentation."""
        return self._draw((batch_size, self.config.c_dim), generator)

    def forward(
        self,
        text: TextFeatures,
        noise: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
        ca_eps: torch.Tensor | None = None,
    ) -> GeneratorOutput:
        """Generate one image per stage.

        Args:
            text: words ``[B, L, word_dim]`` (+ mask) and sentence ``[B, sentence_dim]``.
            noise: ``[B, z_dim]``; drawn from ``generator`` when ``None``.
            generator: source of the noise, then of ``ca_eps`` (in that order).
            ca_eps: ``[B, c_dim]`` conditioning-augmentation noise. The originals sample it even
                at test time; pass zeros to use the mean condition.
        """
        batch = text.batch_size
        if noise is None:
            noise = self.sample_noise(batch, generator)
        if ca_eps is None:
            ca_eps = self.sample_ca_eps(batch, generator)
        c_code, mu, logvar = self.ca_net(text.sentence, ca_eps)
        h = self.h_net1(noise, c_code)
        images = [self.img_net1(h)]
        attention: list[torch.Tensor | None] = [None]
        for k in range(2, self.config.branch_num + 1):
            # a fusion guided by the previous stage's picture (clip-attention) also gets that image
            h, att = getattr(self, f"h_net{k}")(h, text, image=images[-1])
            images.append(getattr(self, f"img_net{k}")(h))
            attention.append(att)
        return GeneratorOutput(images=images, attention=attention, extras={"mu": mu, "logvar": logvar, "c_code": c_code})
