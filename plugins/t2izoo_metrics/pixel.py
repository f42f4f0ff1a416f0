"""Paired pixel metrics: SSIM and PSNR of generated vs real images.

Both map images from ``[-1, 1]`` to ``[0, 1]`` and use an explicit ``data_range`` (1.0), in
float64. SSIM follows Wang et al. / scikit-image (Gaussian window 11, sigma 1.5, population
variances, mean over the window-valid region); torchmetrics' SSIM pads and crops differently and
moves values by ~1e-4 on small images, so it is not used here.

Example:
    >>> import torch, t2izoo
    >>> ssim = t2izoo.create_component("evaluator", "ssim")             # doctest: +SKIP
    >>> x = torch.rand(2, 3, 32, 32) * 2 - 1
    >>> ssim.update(x, real_images=x); ssim.compute().value             # doctest: +SKIP
    1.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import torch
import torch.nn.functional as F

import t2izoo

from ._base import to_unit_range

__all__ = ["SSIM", "PSNR", "ssim_per_image", "psnr_per_image"]


def _gaussian_filter(x: torch.Tensor, kernel_size: int, sigma: float) -> torch.Tensor:
    coords = torch.arange(kernel_size, dtype=x.dtype, device=x.device) - (kernel_size - 1) / 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    g = g / g.sum()
    c = x.shape[1]
    x = F.conv2d(x, g.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)
    return F.conv2d(x, g.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)


def ssim_per_image(x: torch.Tensor, y: torch.Tensor, data_range: float, kernel_size: int = 11, sigma: float = 1.5,
                   k1: float = 0.01, k2: float = 0.03) -> torch.Tensor:
    """SSIM per image ``[B]`` of two ``[B, C, H, W]`` tensors with an explicit ``data_range``."""
    if x.shape != y.shape:
        raise ValueError(f"ssim: images {tuple(x.shape)} and real images {tuple(y.shape)} differ in shape")
    if min(x.shape[-2:]) < kernel_size:
        raise ValueError(f"ssim: images of {tuple(x.shape[-2:])} px are smaller than the {kernel_size}px window")
    x, y = x.to(torch.float64), y.to(torch.float64)
    mu_x, mu_y = _gaussian_filter(x, kernel_size, sigma), _gaussian_filter(y, kernel_size, sigma)
    sxx = _gaussian_filter(x * x, kernel_size, sigma) - mu_x**2
    syy = _gaussian_filter(y * y, kernel_size, sigma) - mu_y**2
    sxy = _gaussian_filter(x * y, kernel_size, sigma) - mu_x * mu_y
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    s = ((2 * mu_x * mu_y + c1) * (2 * sxy + c2)) / ((mu_x**2 + mu_y**2 + c1) * (sxx + syy + c2))
    return s.mean(dim=(1, 2, 3))


def psnr_per_image(x: torch.Tensor, y: torch.Tensor, data_range: float) -> torch.Tensor:
    """PSNR per image ``[B]`` in dB (``inf`` for identical images)."""
    if x.shape != y.shape:
        raise ValueError(f"psnr: images {tuple(x.shape)} and real images {tuple(y.shape)} differ in shape")
    mse = ((x.to(torch.float64) - y.to(torch.float64)) ** 2).mean(dim=(1, 2, 3))
    return 10 * torch.log10(data_range**2 / mse)


class _Paired(t2izoo.Evaluator):
    requires_real: ClassVar[bool] = True

    def __init__(self, config: Any, **context: Any) -> None:
        super().__init__(config)
        self.reset()

    def reset(self) -> None:
        self._n, self._sum, self._sq = 0, 0.0, 0.0

    def _values(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def update(self, images: torch.Tensor, prompts: Sequence[str] | None = None,
               real_images: torch.Tensor | None = None) -> None:
        if real_images is None:
            raise ValueError(f"{self.config.name} compares against paired real images: pass real_images=")
        v = self._values(to_unit_range(images), to_unit_range(real_images.to(images.device)))
        self._n += v.numel()
        self._sum += float(v.sum())
        self._sq += float((v * v).sum())

    def _result(self, protocol: dict[str, Any]) -> t2izoo.MetricResult:
        if self._n == 0:
            raise ValueError(f"{self.config.name}: no images were given")
        mean = self._sum / self._n
        std = math.sqrt(max(self._sq / self._n - mean**2, 0.0)) if math.isfinite(mean) else None
        base = {"value_range": "[-1,1] mapped to [0,1]", "data_range": self.config.data_range,
                "num_generated": self._n, "reduction": "mean over images", "std_ddof": 0, "dtype": "float64"}
        return t2izoo.MetricResult(self.config.name, mean, std, {**base, **protocol})


class SSIM(_Paired):
    """Mean SSIM of generated vs paired real images."""

    def _values(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        c = self.config
        return ssim_per_image(x, y, c.data_range, c.kernel_size, c.sigma, c.k1, c.k2)

    def compute(self) -> t2izoo.MetricResult:
        c = self.config
        return self._result({"window": f"gaussian {c.kernel_size}, sigma {c.sigma}", "k1": c.k1, "k2": c.k2,
                             "covariance": "population (ddof 0)", "region": "window-valid pixels"})


class PSNR(_Paired):
    """Mean per-image PSNR (dB) of generated vs paired real images."""

    def _values(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return psnr_per_image(x, y, self.config.data_range)

    def compute(self) -> t2izoo.MetricResult:
        return self._result({"unit": "dB"})
