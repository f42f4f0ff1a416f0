"""A small convolutional text-conditional generator."""

from __future__ import annotations

import torch
from torch import nn

import t2izoo
from t2izoo.types import GeneratorOutput, TextFeatures

from .configs import TinyConvConfig


def _up_block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode="nearest"),
        nn.Conv2d(cin, cout, 3, padding=1),
        nn.BatchNorm2d(cout),
        nn.LeakyReLU(0.2, inplace=True),
    )


class TinyConvGenerator(t2izoo.Generator):
    """(z, sentence) -> Linear -> 4x4 map -> x2 upsampling blocks, each fused with the text.

    Emits an image at each of the last ``num_stages`` resolutions (smallest first).

    Example:
        >>> import t2izoo
        >>> g = t2izoo.create_component("generator", {"name": "tiny-conv", "image_size": 16,
        ...                             "text_dim": 8, "ngf": 8})
        >>> text = t2izoo.TextFeatures(words=None, mask=None, sentence=torch.zeros(2, 8))
        >>> [tuple(x.shape[-2:]) for x in g(text, generator=torch.Generator().manual_seed(0)).images]
        [(8, 8), (16, 16)]
    """

    def __init__(self, config: TinyConvConfig) -> None:
        super().__init__(config)
        n_up = config.image_size.bit_length() - 3  # 4 -> image_size
        widths = [config.ngf * 2 ** min(n_up - i, 3) for i in range(n_up + 1)]
        self.fc = nn.Sequential(
            nn.Linear(config.z_dim + config.text_dim, widths[0] * 16),
            nn.BatchNorm1d(widths[0] * 16),
            nn.LeakyReLU(0.2, inplace=True),
        )
        self.blocks = nn.ModuleList(_up_block(widths[i], widths[i + 1]) for i in range(n_up))
        self.fusions = nn.ModuleList(
            t2izoo.create_component("fusion", config.fusion, channels=w, word_dim=config.text_dim,
                                    sentence_dim=config.text_dim)
            for w in widths[1:]
        )
        first_stage = n_up - config.num_stages
        self.heads = nn.ModuleDict({
            str(i): nn.Sequential(nn.Conv2d(self.fusions[i].out_channels, config.channels, 3, padding=1), nn.Tanh())
            for i in range(max(first_stage, 0), n_up)
        })
        self._width0 = widths[0]

    def make_recipe(self, pipeline, **options):  # noqa: ANN001, ANN201 - see t2izoo.training.Recipe
        """The training recipe: a conditional hinge GAN (`t2izoo_basic.recipe.TinyGANRecipe`)."""
        from .recipe import TinyGANRecipe

        return TinyGANRecipe(pipeline, **options)

    def sample_noise(self, batch_size: int, generator: torch.Generator | None = None) -> torch.Tensor:
        param = self.fc[0].weight
        device = generator.device if generator is not None else param.device
        return torch.randn(batch_size, self.config.z_dim, generator=generator, device=device).to(param)

    def forward(
        self, text: TextFeatures, noise: torch.Tensor | None = None, generator: torch.Generator | None = None
    ) -> GeneratorOutput:
        if noise is None:
            noise = self.sample_noise(text.batch_size, generator)
        h = self.fc(torch.cat([noise, text.sentence], dim=1)).view(-1, self._width0, 4, 4)
        images, attention = [], []
        for i, (block, fusion) in enumerate(zip(self.blocks, self.fusions)):
            fused = fusion(block(h), text)
            h = fused.features
            if str(i) in self.heads:
                images.append(self.heads[str(i)](h))
                attention.append(fused.attention)
        return GeneratorOutput(images=images, attention=attention)
