"""``pixels``: a weightless toy image backbone for tests and smoke runs (never for reporting).

Features are the images area-downsampled to ``size x size`` and flattened; "logits" are those
features scaled, so Inception-Score code paths can run without any weights.

Example:
    >>> import torch
    >>> from t2izoo.evaluation import load_image_backbone
    >>> fe = load_image_backbone("pixels", size=2)
    >>> fe.features(torch.zeros(1, 3, 8, 8)).features.shape
    torch.Size([1, 12])
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from .backbones import ImageFeatureExtractor, ImageFeatures, register_image_backbone

__all__ = ["PixelFeatures"]


class PixelFeatures(ImageFeatureExtractor):
    """Area-downsampled pixels as features (``3 * size * size``); a toy, weightless backbone."""

    def __init__(self, size: int = 4, channels: int = 3, resize: str = "area") -> None:
        super().__init__()
        self.size, self.channels = size, channels
        self.feature_dim = channels * size * size
        self.num_classes = self.feature_dim

    def extract(self, images: torch.Tensor) -> ImageFeatures:
        if images.shape[1] != self.channels:
            images = images.mean(1, keepdim=True).expand(-1, self.channels, -1, -1)
        feats = F.adaptive_avg_pool2d(images, self.size).flatten(1)
        return ImageFeatures(features=feats, logits=feats * 4)

    def protocol(self) -> dict[str, Any]:
        return {"backbone": f"pixels (toy, {self.size}x{self.size} area average)", "weights_sha256": None,
                "resize": "area", "input_size": None, "features": f"{self.feature_dim} pixels"}


def _loader(weights: str | None = None, resize: str = "area", size: int = 4, channels: int = 3) -> PixelFeatures:
    if weights is not None:
        raise ValueError("the 'pixels' backbone has no weights; leave 'weights' unset")
    return PixelFeatures(size=size, channels=channels)


register_image_backbone("pixels", _loader)
