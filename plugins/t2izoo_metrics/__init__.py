"""t2izoo_metrics: the evaluators (FID, KID, IS, CLIP score, SSIM, PSNR, R-precision, shapes).

Import-light: configs are pydantic models, factories are import strings resolved on first use.

Example:
    >>> import t2izoo
    >>> fid = t2izoo.create_component("evaluator", "shapes-fid")        # doctest: +SKIP
    >>> fid.update(fake_images, real_images=real_images)                 # doctest: +SKIP
    >>> fid.compute().value                                              # doctest: +SKIP
"""

from __future__ import annotations

import t2izoo

from .configs import (
    CLIPScoreConfig,
    FIDConfig,
    ISConfig,
    KIDConfig,
    PSNRConfig,
    RPrecisionConfig,
    ShapesAccuracyConfig,
    ShapesFIDConfig,
    SSIMConfig,
)

__all__ = ["t2izoo_register_components"]

_COMPONENTS = (
    ("fid", FIDConfig, "t2izoo_metrics.features:FID", "Frechet Inception Distance (pool3, float64 stats)"),
    ("shapes-fid", ShapesFIDConfig, "t2izoo_metrics.features:FID", "FID in the shapes-classifier feature space"),
    ("kid", KIDConfig, "t2izoo_metrics.features:KID", "Kernel Inception Distance (unbiased, subsets)"),
    ("is", ISConfig, "t2izoo_metrics.features:InceptionScore", "Inception Score (10 splits, std ddof 0)"),
    ("clip-score", CLIPScoreConfig, "t2izoo_metrics.alignment:CLIPScore",
     "CLIP score: mean cosine, max over candidates, torchmetrics 100*max(cos,0)"),
    ("r-precision", RPrecisionConfig, "t2izoo_metrics.alignment:RPrecision",
     "R-precision (1 true vs 99 captions, top-1, folds)"),
    ("ssim", SSIMConfig, "t2izoo_metrics.pixel:SSIM", "SSIM vs paired real images (explicit data_range)"),
    ("psnr", PSNRConfig, "t2izoo_metrics.pixel:PSNR", "PSNR vs paired real images"),
    ("shapes-accuracy", ShapesAccuracyConfig, "t2izoo_metrics.shapes_accuracy:ShapesAccuracy",
     "attribute accuracy of shapes scenes by the project's classifier"),
)


@t2izoo.hookimpl
def t2izoo_register_components(registry) -> None:  # noqa: ANN001 - pluggy passes the registry
    for name, config, factory, description in _COMPONENTS:
        registry.register("evaluator", name, config=config, factory=factory, description=description)
