"""Configs of the metric evaluators (pydantic only: importing this never imports torch).

Every field that changes a number is recorded in the metric's protocol.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

import t2izoo

__all__ = [
    "FIDConfig",
    "ShapesFIDConfig",
    "KIDConfig",
    "ISConfig",
    "CLIPScoreConfig",
    "SSIMConfig",
    "PSNRConfig",
    "RPrecisionConfig",
    "ShapesAccuracyConfig",
]

_RESIZE = ("tf1-bilinear", "bilinear", "bilinear-antialias", "bilinear-align-corners", "bicubic-antialias",
           "nearest", "none", "area")


def _check_resize(value: str | None) -> str | None:
    if value is not None and value not in _RESIZE:
        raise ValueError(f"unknown resize policy {value!r}; choose one of {', '.join(_RESIZE)}")
    return value


class _ImageBackboneConfig(t2izoo.ComponentConfig):
    backbone: str = Field("fid-inception", description="image backbone: fid-inception, timm-inception, "
                          "shapes-classifier, or 'package.module:factory'")
    weights: str | None = Field(None, description="weights file; None = the backbone's default location")
    resize: str | None = Field(None, description="resize policy; None = the backbone's reference policy")
    backbone_options: dict[str, Any] = Field(default_factory=dict, description="extra loader arguments")

    _check = field_validator("resize")(classmethod(lambda cls, v: _check_resize(v)))

    @classmethod
    def tiny(cls) -> dict[str, Any]:
        # the weightless toy backbone: conformance and smoke tests run without any download
        return {"backbone": "pixels", "backbone_options": {"size": 2}}


class FIDConfig(_ImageBackboneConfig):
    """Frechet distance of backbone features (Inception pool3 by default), float64 statistics."""

    name: str = "fid"
    reference_stats: str | None = Field(None, description=".npz of real statistics (mu, sigma, protocol) "
                                        "used instead of real images")


class ShapesFIDConfig(FIDConfig):
    """FID in the project's shapes-classifier feature space (works offline)."""

    name: str = "shapes-fid"
    backbone: str = "shapes-classifier"

    @classmethod
    def tiny(cls) -> dict[str, Any]:
        return {}  # the shipped classifier (pinned by the shapes-accuracy card) is small enough


class KIDConfig(_ImageBackboneConfig):
    """Kernel Inception Distance: unbiased cubic-polynomial MMD^2 over random subsets."""

    name: str = "kid"
    subsets: int = Field(100, ge=1)
    subset_size: int = Field(1000, ge=2)
    max_samples: int = Field(10000, ge=2, description="reservoir size per set (bounds memory)")
    degree: int = Field(3, ge=1)
    seed: int = 0

    @classmethod
    def tiny(cls) -> dict[str, Any]:
        return {**super().tiny(), "subsets": 5}


class ISConfig(_ImageBackboneConfig):
    """Inception Score over splits, std with ddof 0 (as the original)."""

    name: str = "is"
    splits: int = Field(10, ge=1)
    split_assignment: Literal["round-robin", "contiguous"] = "round-robin"
    num_samples: int | None = Field(None, ge=1, description="N, needed by split_assignment='contiguous'")

    @classmethod
    def tiny(cls) -> dict[str, Any]:
        return {**super().tiny(), "splits": 2}


class _EmbedderConfig(t2izoo.ComponentConfig):
    embedder: str = Field("open-clip", description="open-clip, shapes-attributes, or 'package.module:factory'")
    model: str | None = Field("ViT-B-32", description="open_clip architecture (ignored by other embedders)")
    weights: str | None = Field("laion2b_s34b_b79k", description="checkpoint path or pretrained tag in the HF cache")
    resize: str | None = None
    embedder_options: dict[str, Any] = Field(default_factory=dict)

    _check = field_validator("resize")(classmethod(lambda cls, v: _check_resize(v)))

    @classmethod
    def tiny(cls) -> dict[str, Any]:
        # the shapes attribute space ships with the plugin: no CLIP download needed
        return {"embedder": "shapes-attributes", "model": None, "weights": None}


class CLIPScoreConfig(_EmbedderConfig):
    """CLIP score: raw mean cosine, max over candidate captions (eq. 13), torchmetrics 100*max(cos,0)."""

    name: str = "clip-score"
    report: Literal["cosine", "max-candidates", "torchmetrics"] = Field(
        "cosine", description="which variant is the headline value (all three are in the protocol)")


class RPrecisionConfig(_EmbedderConfig):
    """R-precision: 1 true caption vs ``distractors`` others, top-1, over ``folds``."""

    name: str = "r-precision"
    distractors: int = Field(99, ge=1)
    folds: int = Field(10, ge=1)
    seed: int = 0
    pool_size: int = Field(2000, ge=2, description="distinct captions kept as the distractor pool")
    caption_pool: str | None = Field(None, description="text file, one caption per line; default: the "
                                     "distinct prompts seen while evaluating")

    @classmethod
    def tiny(cls) -> dict[str, Any]:
        return {**super().tiny(), "distractors": 1, "folds": 2}


class _PixelConfig(t2izoo.ComponentConfig):
    # images are mapped from [-1, 1] to [0, 1] first, so data_range is 1 by construction
    data_range: float = Field(1.0, gt=0, description="range of the [0,1]-mapped images (always explicit)")


class SSIMConfig(_PixelConfig):
    """SSIM against paired real images: Gaussian window 11, sigma 1.5, K1 0.01, K2 0.03."""

    name: str = "ssim"
    kernel_size: int = Field(11, ge=3)
    sigma: float = Field(1.5, gt=0)
    k1: float = 0.01
    k2: float = 0.03


class PSNRConfig(_PixelConfig):
    """PSNR against paired real images, per image then averaged."""

    name: str = "psnr"


class ShapesAccuracyConfig(t2izoo.ComponentConfig):
    """Attribute accuracy of generated shapes scenes, read by the project's shapes classifier."""

    name: str = "shapes-accuracy"
    weights: str | None = Field(None, description="classifier weights (file or folder); None = the ones "
                                 "pinned by the shapes-accuracy card")
    resize: str = "bilinear-antialias"

    _check = field_validator("resize")(classmethod(lambda cls, v: _check_resize(v)))
