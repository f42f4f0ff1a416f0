"""The FF-GAN generator (Sun et al., §3.1-3.2): AttnGAN's skeleton with FF-Block + GSR stages.

Module names follow the release's ``G_NET`` (``ca_net``, ``h_net1..3``, ``img_net1..3``); the
fusion of each refinement stage is the swappable component under ``h_net<k>.att`` (the release
keeps its ``w_att`` / ``affine`` / ``s_att`` directly in ``h_net<k>``: the converter inserts
``att.``). The release's unused DM-GAN memory layers are not built.
"""

from __future__ import annotations

from typing import Any

import torch

import t2izoo
from t2izoo.nn.stackgan import CANet, ImageHead, InitStage, RefineStage
from t2izoo.types import GeneratorOutput, TextFeatures

from .config import FFGANConfig

__all__ = ["FFGANGenerator"]


class FFGANGenerator(t2izoo.Generator):
    """Text features (+ noise, + CA noise) -> images at 64, 128, 256 px (``branch_num`` stages).

    Stage 0 uses the augmented sentence only (eq. 2-3); each later stage fuses the words into
    the features with its fusion (default: FF-Block + GSR, eq. 4-7). ``extras`` carry ``mu``,
    ``logvar`` (for the KL term, eq. 9) and ``c_code``.

    Example:
        >>> import t2izoo, torch
        >>> from t2izoo.testing import make_text_features
        >>> g = t2izoo.create_component("generator", {"name": "ffgan", "ngf": 4, "branch_num": 2,
        ...                             "word_dim": 8, "sentence_dim": 8}).eval()
        >>> out = g(make_text_features(2, 8, 8), generator=torch.Generator().manual_seed(0))
        >>> [tuple(x.shape) for x in out.images], tuple(out.attention[1].shape)
        ([(2, 3, 64, 64), (2, 3, 128, 128)], (2, 6, 64, 64))
    """

    def __init__(self, config: FFGANConfig, **_context: Any) -> None:
        super().__init__(config)
        ngf = config.ngf
        self.ca_net = CANet(config.sentence_dim, config.c_dim)
        self.h_net1 = InitStage(ngf * 16, config.z_dim + config.c_dim)
        self.img_net1 = ImageHead(ngf, config.image_channels)
        for k in range(2, config.branch_num + 1):
            fusion = t2izoo.create_component(
                "fusion", config.fusion, channels=ngf, word_dim=config.word_dim, sentence_dim=config.sentence_dim
            )
            setattr(self, f"h_net{k}", RefineStage(ngf, fusion, config.r_num))
            setattr(self, f"img_net{k}", ImageHead(ngf, config.image_channels))

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
            ca_eps: ``[B, c_dim]`` conditioning-augmentation noise (zeros: the mean condition).
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
            h, att = getattr(self, f"h_net{k}")(h, text, image=images[-1])
            images.append(getattr(self, f"img_net{k}")(h))
            attention.append(att)
        return GeneratorOutput(images=images, attention=attention, extras={"mu": mu, "logvar": logvar, "c_code": c_code})

    def make_recipe(self, pipeline: Any, **options: Any) -> Any:
        """The FF-GAN training recipe (spectral-norm discriminators, eq. 8-12) for ``pipeline``."""
        from .recipes import FFGANRecipe

        return FFGANRecipe(pipeline, **options)
