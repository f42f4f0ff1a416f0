"""The interpolation refiner: the parameter-free baseline every learned refiner must beat."""

from __future__ import annotations

import torch
import torch.nn.functional as F

import t2izoo
from t2izoo.types import TextFeatures

from .configs import InterpolateConfig


class InterpolateRefiner(t2izoo.Refiner):
    """Upsample by ``scale`` with bicubic, bilinear or nearest interpolation; ignores the text.

    Example:
        >>> import t2izoo, torch
        >>> r = t2izoo.create_component("refiner", {"name": "interpolate", "scale": 4})
        >>> text = t2izoo.TextFeatures(words=None, mask=None, sentence=torch.zeros(1, 4))
        >>> r(torch.zeros(1, 3, 8, 8), text).shape
        torch.Size([1, 3, 32, 32])
    """

    def __init__(self, config: InterpolateConfig, **_: object) -> None:
        super().__init__(config)

    def forward(
        self, images: torch.Tensor, text: TextFeatures, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        expected = self.config.image_size
        if expected is not None and images.shape[-1] != expected:
            raise ValueError(f"refiner 'interpolate' expects {expected}px inputs, got {images.shape[-1]}px")
        kwargs = {} if self.config.mode == "nearest" else {"align_corners": False, "antialias": self.config.antialias}
        out = F.interpolate(images, scale_factor=self.config.scale, mode=self.config.mode, **kwargs)
        return out.clamp(-1, 1)
