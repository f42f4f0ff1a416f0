"""Pixel-space diversity of generated images, streamed in float64."""

from __future__ import annotations

from collections.abc import Sequence

import torch

import t2izoo
from t2izoo.types import MetricResult

from .configs import PixelDiversityConfig


class PixelDiversity(t2izoo.Evaluator):
    """Mean over all pairs (i != j) of ``mean((x_i - x_j)**2)``, exactly, in O(1) memory.

    Uses ``mean_{i != j} ||x_i - x_j||^2 = 2 n/(n-1) (E||x||^2 - ||E x||^2)`` with running
    float64 sums, so the value is the same however the images are batched. Near 0 means the
    generator collapsed to one image.

    Example:
        >>> import t2izoo, torch
        >>> m = t2izoo.create_component("evaluator", "pixel-diversity")
        >>> m.update(torch.stack([torch.zeros(3, 4, 4), torch.ones(3, 4, 4)]))
        >>> m.compute().value
        1.0
    """

    def __init__(self, config: PixelDiversityConfig, **_: object) -> None:
        super().__init__(config)
        self.reset()

    def reset(self) -> None:
        self._n = 0
        self._sum: torch.Tensor | None = None
        self._sq = 0.0

    def update(
        self,
        images: torch.Tensor,
        prompts: Sequence[str] | None = None,
        real_images: torch.Tensor | None = None,
    ) -> None:
        flat = images.detach().to(torch.float64).flatten(1).cpu()
        if self._sum is None:
            self._sum = torch.zeros(flat.shape[1], dtype=torch.float64)
        elif flat.shape[1] != self._sum.numel():
            raise ValueError(f"images of {flat.shape[1]} values each after {self._sum.numel()} earlier")
        self._sum += flat.sum(0)
        self._sq += float((flat**2).sum())
        self._n += flat.shape[0]

    def compute(self) -> MetricResult:
        if self._n < 2 or self._sum is None:
            raise ValueError("pixel-diversity needs at least 2 images")
        d = self._sum.numel()
        mean_sq = self._sq / self._n
        sq_mean = float((self._sum / self._n).pow(2).sum())
        value = 2 * self._n / (self._n - 1) * (mean_sq - sq_mean) / d
        return MetricResult(
            name="pixel-diversity",
            value=value,
            protocol={"space": "pixels in [-1,1]", "pairs": "all i != j", "n": self._n},
        )
