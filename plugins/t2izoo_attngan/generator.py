"""The AttnGAN generator (Xu et al. 2018, §3.1-3.2).

Module names follow the original ``G_NET`` (``ca_net``, ``h_net1..3``, ``img_net1..3``, and
inside them ``fc``, ``upsample1..4``, ``att``, ``residual``, ``upsample``, ``img``), so released
checkpoints load key for key; only the fusion of each stage (``h_net<k>.att``) is a separate,
swappable component.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

import t2izoo
from t2izoo.nn import GLU, ResBlock, conv3x3, up_block
from t2izoo.types import GeneratorOutput, TextFeatures

from .config import AttnGANConfig

__all__ = ["CANet", "InitStage", "AttnStage", "ImageHead", "AttnGANGenerator"]


class CANet(nn.Module):
    """Conditioning augmentation: sentence -> Linear(4c) -> GLU -> (mu, logvar); c = mu + eps*std."""

    def __init__(self, sentence_dim: int, c_dim: int) -> None:
        super().__init__()
        self.c_dim = c_dim
        self.fc = nn.Linear(sentence_dim, c_dim * 4, bias=True)
        self.glu = GLU()

    def encode(self, sentence: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.glu(self.fc(sentence))
        return x[:, : self.c_dim], x[:, self.c_dim :]

    def forward(self, sentence: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(sentence)
        std = logvar.mul(0.5).exp()
        return eps * std + mu, mu, logvar


class InitStage(nn.Module):
    """cat(c, z) -> Linear (no bias) -> BN1d -> GLU -> [16ngf, 4, 4] -> 4 up blocks -> [ngf, 64, 64]."""

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
        # the original concatenates the condition first
        h = self.fc(torch.cat((c, z), 1)).view(-1, self.gf_dim, 4, 4)
        return self.upsample4(self.upsample3(self.upsample2(self.upsample1(h))))


class AttnStage(nn.Module):
    """fusion (``att``) -> residual blocks -> up block: ``[B, ngf, s, s]`` -> ``[B, ngf, 2s, 2s]``."""

    def __init__(self, ngf: int, fusion: t2izoo.Fusion, r_num: int) -> None:
        super().__init__()
        self.att = fusion
        width = fusion.out_channels
        self.residual = nn.Sequential(*[ResBlock(width) for _ in range(r_num)])
        self.upsample = up_block(width, ngf)

    def forward(self, h: torch.Tensor, text: TextFeatures) -> tuple[torch.Tensor, torch.Tensor | None]:
        fused = self.att(h, text)
        return self.upsample(self.residual(fused.features)), fused.attention


class ImageHead(nn.Module):
    """conv3x3 (no bias) -> tanh."""

    def __init__(self, ngf: int, channels: int = 3) -> None:
        super().__init__()
        self.img = nn.Sequential(conv3x3(ngf, channels), nn.Tanh())

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.img(h)


class AttnGANGenerator(t2izoo.Generator):
    """Text features (+ noise, + CA noise) -> images at 64, 128, 256 px (``branch_num`` stages).

    ``extras`` of the output carry ``mu``, ``logvar`` (for the KL term) and ``c_code``.

    Example:
        >>> import t2izoo, torch
        >>> from t2izoo.testing import make_text_features
        >>> g = t2izoo.create_component("generator", {"name": "attngan", "ngf": 4, "branch_num": 2,
        ...                             "word_dim": 8, "sentence_dim": 8}).eval()
        >>> out = g(make_text_features(2, 8, 8), generator=torch.Generator().manual_seed(0))
        >>> [tuple(x.shape) for x in out.images], tuple(out.attention[1].shape)
        ([(2, 3, 64, 64), (2, 3, 128, 128)], (2, 6, 64, 64))
    """

    def __init__(self, config: AttnGANConfig, **_context: Any) -> None:
        super().__init__(config)
        ngf = config.ngf
        self.ca_net = CANet(config.sentence_dim, config.c_dim)
        self.h_net1 = InitStage(ngf * 16, config.z_dim + config.c_dim)
        self.img_net1 = ImageHead(ngf, config.image_channels)
        for k in range(2, config.branch_num + 1):
            setattr(self, f"h_net{k}", AttnStage(ngf, self._make_fusion(config, ngf), config.r_num))
            setattr(self, f"img_net{k}", ImageHead(ngf, config.image_channels))

    @staticmethod
    def _make_fusion(config: AttnGANConfig, ngf: int) -> t2izoo.Fusion:
        fusion_cfg = config.fusion
        if config.mask_mode == "legacy":
            if "mask_mode" not in type(fusion_cfg).model_fields:
                raise ValueError(
                    f"generator 'attngan': mask_mode='legacy' needs a fusion with a mask_mode field "
                    f"(concat-attention); fusion '{fusion_cfg.name}' has none"
                )
            fusion_cfg = fusion_cfg.model_copy(update={"mask_mode": "legacy"})
        return t2izoo.create_component(
            "fusion", fusion_cfg, channels=ngf, word_dim=config.word_dim, sentence_dim=config.sentence_dim
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
            ca_eps: ``[B, c_dim]`` conditioning-augmentation noise. The original samples it even
                at test time; pass zeros to use the mean condition.
        """
        batch = text.batch_size
        if noise is None:
            noise = self.sample_noise(batch, generator)
        if ca_eps is None:
            ca_eps = self.sample_ca_eps(batch, generator)
        c_code, mu, logvar = self.ca_net(text.sentence, ca_eps)
        images: list[torch.Tensor] = []
        attention: list[torch.Tensor | None] = []
        h = self.h_net1(noise, c_code)
        images.append(self.img_net1(h))
        attention.append(None)
        for k in range(2, self.config.branch_num + 1):
            h, att = getattr(self, f"h_net{k}")(h, text)
            images.append(getattr(self, f"img_net{k}")(h))
            attention.append(att)
        return GeneratorOutput(images=images, attention=attention, extras={"mu": mu, "logvar": logvar, "c_code": c_code})

    def make_recipe(self, pipeline: Any, **options: Any) -> Any:
        """The AttnGAN training recipe (discriminators, DAMSM term, KL) for ``pipeline``."""
        from .recipes import AttnGANRecipe

        return AttnGANRecipe(pipeline, **options)
