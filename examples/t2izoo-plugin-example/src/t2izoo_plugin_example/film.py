"""The FiLM fusion block."""

from __future__ import annotations

import torch
from torch import nn

import t2izoo
from t2izoo.types import FusionOutput, TextFeatures


class FiLMFusion(t2izoo.Fusion):
    """Scale and shift each channel by amounts predicted from the sentence vector.

    The last layer starts at zero, so a fresh block is the identity.

    Example:
        >>> import t2izoo, torch
        >>> f = t2izoo.create_component("fusion", "film", channels=4, sentence_dim=8)
        >>> text = t2izoo.TextFeatures(words=None, mask=None, sentence=torch.randn(2, 8))
        >>> x = torch.randn(2, 4, 3, 3)
        >>> torch.equal(f(x, text).features, x)
        True
    """

    def __init__(self, config, *, channels: int, sentence_dim: int, **_: object) -> None:
        super().__init__(config)
        self.out_channels = channels
        self.mlp = nn.Sequential(
            nn.Linear(sentence_dim, config.hidden), nn.ReLU(), nn.Linear(config.hidden, 2 * channels)
        )
        nn.init.zeros_(self.mlp[-1].weight)
        nn.init.zeros_(self.mlp[-1].bias)

    def forward(self, visual: torch.Tensor, text: TextFeatures) -> FusionOutput:
        gamma, beta = self.mlp(text.sentence).unsqueeze(-1).unsqueeze(-1).chunk(2, dim=1)
        return FusionOutput(features=visual * (1 + gamma) + beta)
