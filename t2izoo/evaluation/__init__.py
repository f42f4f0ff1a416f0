"""Pieces shared by evaluators and the evaluation runner.

* float64 streaming statistics and the Frechet distance (`StreamingMoments`, `frechet_distance`),
* Inception Score / KID accumulators and the R-precision retrieval hit (`scores`),
* named resize policies (`resize_images`), recorded in every metric's protocol,
* the backbone interfaces (`ImageFeatureExtractor`, `TextImageEmbedder`) and their loaders
  (`load_image_backbone("fid-inception")`, `load_embedder("open-clip")`), which read weights from a
  local path or the Hugging Face cache and otherwise raise `WeightsNotFoundError` saying what to
  fetch and where to put it.

Example:
    >>> import numpy as np
    >>> from t2izoo.evaluation import frechet_distance
    >>> frechet_distance(np.zeros(4), np.eye(4), np.zeros(4), np.eye(4))
    0.0
"""

from __future__ import annotations

from .backbones import (
    ImageFeatureExtractor,
    ImageFeatures,
    TextImageEmbedder,
    clear_backbone_cache,
    embedder_names,
    image_backbone_names,
    load_embedder,
    load_image_backbone,
    register_embedder,
    register_image_backbone,
)
from .resize import RESIZE_POLICIES, resize_images
from .scores import (
    FeatureReservoir,
    StreamingInceptionScore,
    kernel_inception_distance,
    polynomial_mmd_unbiased,
    retrieval_hits,
)
from .stats import StreamingMoments, frechet_distance, load_statistics, save_statistics
from .weights import WeightsNotFoundError, find_weights, sha256_file, weights_dir

__all__ = [
    "ImageFeatureExtractor",
    "ImageFeatures",
    "TextImageEmbedder",
    "clear_backbone_cache",
    "embedder_names",
    "image_backbone_names",
    "load_embedder",
    "load_image_backbone",
    "register_embedder",
    "register_image_backbone",
    "RESIZE_POLICIES",
    "resize_images",
    "FeatureReservoir",
    "StreamingInceptionScore",
    "kernel_inception_distance",
    "polynomial_mmd_unbiased",
    "retrieval_hits",
    "StreamingMoments",
    "frechet_distance",
    "load_statistics",
    "save_statistics",
    "WeightsNotFoundError",
    "find_weights",
    "sha256_file",
    "weights_dir",
]
