"""Tiny injectable backbones for the metric tests."""

from __future__ import annotations

import pytest
import torch

from t2izoo.evaluation import ImageFeatureExtractor, ImageFeatures, TextImageEmbedder


class LookupEmbedder(TextImageEmbedder):
    """Images carry their embedding in the first D pixels of channel 0; captions map by a dict."""

    def __init__(self, texts: dict[str, torch.Tensor]) -> None:
        super().__init__()
        self.texts = texts
        self.dim = next(iter(texts.values())).numel()

    def embed_images(self, images):
        return images[:, 0].flatten(1)[:, : self.dim].double()

    def embed_texts(self, texts):
        return torch.stack([self.texts[t] for t in texts]).double()

    def protocol(self):
        return {"space": "lookup", "backbone": "lookup-test"}


class FixedFeatures(ImageFeatureExtractor):
    """Features are the first D pixels of channel 0 (so tests choose features exactly)."""

    def __init__(self, dim: int, with_logits: bool = False) -> None:
        super().__init__()
        self.feature_dim, self.with_logits = dim, with_logits
        self.calls = 0

    def extract(self, images):
        self.calls += 1
        f = images[:, 0].flatten(1)[:, : self.feature_dim]
        return ImageFeatures(features=f, logits=f if self.with_logits else None)

    def protocol(self):
        return {"backbone": "fixed-test", "resize": "none"}


def images_with(rows: torch.Tensor, side: int = 8) -> torch.Tensor:
    """Pack ``[N, D]`` rows (D <= side*side) into ``[N, 3, side, side]`` images (channel 0)."""
    n, d = rows.shape
    img = torch.zeros(n, 3, side, side, dtype=rows.dtype)
    img[:, 0].view(n, -1)[:, :d] = rows
    return img


@pytest.fixture
def pack():
    return images_with
