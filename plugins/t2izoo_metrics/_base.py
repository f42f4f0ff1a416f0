"""What the evaluators share: lazy backbones kept outside the module tree, device following."""

from __future__ import annotations

from typing import Any

import torch

import t2izoo
from t2izoo.evaluation import ImageFeatureExtractor, TextImageEmbedder, load_embedder, load_image_backbone

from . import shapes_classifier  # noqa: F401 - registers the shapes-classifier / shapes-attributes backbones

__all__ = ["BackboneEvaluator", "EmbedderEvaluator", "to_unit_range"]


def to_unit_range(images: torch.Tensor) -> torch.Tensor:
    """``[-1, 1]`` -> ``[0, 1]`` float64 (clamped: generators may overshoot slightly)."""
    return ((images.detach().to(torch.float64).clamp(-1, 1) + 1) / 2)


def _check_images(images: torch.Tensor, what: str = "images") -> None:
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"{what} must be a [B, C, H, W] tensor in [-1, 1], got {shape}")


class BackboneEvaluator(t2izoo.Evaluator):
    """An evaluator over image-backbone features; the backbone loads on first use.

    The backbone is shared between evaluators (same name/weights/resize) and is *not* a
    submodule: it is frozen, would bloat every evaluator's state dict, and follows the device of
    the images it is given.
    """

    def __init__(self, config: Any, extractor: ImageFeatureExtractor | None = None, **context: Any) -> None:
        super().__init__(config)
        object.__setattr__(self, "_extractor", extractor)

    @property
    def extractor(self) -> ImageFeatureExtractor:
        if self._extractor is None:
            cfg = self.config
            object.__setattr__(self, "_extractor", load_image_backbone(
                cfg.backbone, weights=cfg.weights, resize=cfg.resize, **cfg.backbone_options))
        return self._extractor

    def features(self, images: torch.Tensor, what: str = "images"):  # noqa: ANN201
        _check_images(images, what)
        fe = self.extractor
        if fe.device != images.device and any(True for _ in fe.parameters()):
            fe.to(images.device)
        return fe.features(images)


class EmbedderEvaluator(t2izoo.Evaluator):
    """An evaluator over a text-image embedding space; the embedder loads on first use."""

    def __init__(self, config: Any, embedder: TextImageEmbedder | None = None, **context: Any) -> None:
        super().__init__(config)
        object.__setattr__(self, "_embedder", embedder)

    @property
    def embedder(self) -> TextImageEmbedder:
        if self._embedder is None:
            cfg = self.config
            options = dict(cfg.embedder_options)
            if cfg.embedder == "open-clip" and cfg.model is not None:
                options["model"] = cfg.model
            if cfg.resize is not None:
                options["resize"] = cfg.resize
            object.__setattr__(self, "_embedder", load_embedder(cfg.embedder, weights=cfg.weights, **options))
        return self._embedder

    def embed_images(self, images: torch.Tensor) -> torch.Tensor:
        _check_images(images)
        emb = self.embedder
        if emb.device != images.device and any(True for _ in emb.parameters()):
            emb.to(images.device)
        return emb.embed_images(images).detach().double().cpu()

    def embed_texts(self, texts: list[str]) -> torch.Tensor:
        return self.embedder.embed_texts(texts).detach().double().cpu()
