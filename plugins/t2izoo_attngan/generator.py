"""The AttnGAN generator (Xu et al. 2018, §3.1-3.2).

Module names follow the original ``G_NET`` (``ca_net``, ``h_net1..3``, ``img_net1..3``, and
inside them ``fc``, ``upsample1..4``, ``att``, ``residual``, ``upsample``, ``img``), so released
checkpoints load key for key; only the fusion of each stage (``h_net<k>.att``) is a separate,
swappable component.
"""

from __future__ import annotations

from typing import Any

import torch

import t2izoo
from t2izoo.nn.stackgan import CANet, ImageHead, InitStage, RefineStage
from t2izoo.types import GeneratorOutput, TextFeatures

from .config import AttnGANConfig

__all__ = ["CANet", "InitStage", "AttnStage", "ImageHead", "AttnGANGenerator"]


# the StackGAN skeleton (CA, initial stage, refinement stage around a fusion, image head) is
# shared with FF-GAN and lives in the core; AttnGAN's stage is the generic refinement stage
AttnStage = RefineStage


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
            h, att = getattr(self, f"h_net{k}")(h, text, image=images[-1])
            images.append(getattr(self, f"img_net{k}")(h))
            attention.append(att)
        return GeneratorOutput(images=images, attention=attention, extras={"mu": mu, "logvar": logvar, "c_code": c_code})

    def make_recipe(self, pipeline: Any, **options: Any) -> Any:
        """The AttnGAN training recipe (discriminators, DAMSM term, KL) for ``pipeline``."""
        from .recipes import AttnGANRecipe

        return AttnGANRecipe(pipeline, **options)
