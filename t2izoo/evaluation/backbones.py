"""The two small interfaces evaluators see, and the by-name registry of their implementations.

* `ImageFeatureExtractor`: images in ``[-1, 1]`` -> `ImageFeatures` (pooled features and, where
  the backbone has a classifier, logits). Used by FID, KID, IS and the shapes metrics.
* `TextImageEmbedder`: images and captions -> vectors in one space. Used by CLIP score and
  R-precision (CLIP space, DAMSM space, the shapes attribute space).

Evaluators never construct a backbone themselves: they call `load_image_backbone` /
`load_embedder` with the names from their config, or are handed an instance (``extractor=`` /
``embedder=`` context), which is how tests inject tiny ones. A name may also be an import string
``"package.module:factory"`` so that third parties (or a DAMSM implementation) plug in without
touching this module.

Example:
    >>> import torch
    >>> from t2izoo.evaluation import ImageFeatureExtractor, ImageFeatures
    >>> class MeanColour(ImageFeatureExtractor):
    ...     feature_dim = 3
    ...     def extract(self, images):
    ...         return ImageFeatures(features=images.mean(dim=(2, 3)))
    ...     def protocol(self):
    ...         return {"backbone": "mean-colour"}
    >>> MeanColour().features(torch.zeros(2, 3, 8, 8)).features.shape
    torch.Size([2, 3])
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from t2izoo._registry import import_object
from t2izoo.interfaces import module_device

__all__ = [
    "ImageFeatures",
    "ImageFeatureExtractor",
    "TextImageEmbedder",
    "register_image_backbone",
    "register_embedder",
    "load_image_backbone",
    "load_embedder",
    "image_backbone_names",
    "embedder_names",
    "clear_backbone_cache",
]


@dataclass
class ImageFeatures:
    """What an image backbone returns for a batch.

    Attributes:
        features: ``[B, D]`` pooled features (Inception pool3: D = 2048).
        logits: ``[B, K]`` classifier logits, or ``None`` when the backbone has no classifier.
    """

    features: torch.Tensor
    logits: torch.Tensor | None = None


class ImageFeatureExtractor(nn.Module, ABC):
    """Images ``[B, C, H, W]`` in ``[-1, 1]`` -> `ImageFeatures`; frozen, in eval mode.

    `features` memoises the last two batches: FID, KID and IS built on one shared backbone (see
    `load_image_backbone`) and fed the same tensor run the network once per batch.
    """

    feature_dim: int = 0
    num_classes: int | None = None

    def __init__(self) -> None:
        super().__init__()
        # (tensor, version, output) for the last two batches: a runner feeds generated then real
        # images to each evaluator in turn. Holding the tensor itself (not its address) means
        # a freed batch's memory cannot be reused by a new batch that would then hit the memo.
        self._memo: list[tuple[torch.Tensor, int, ImageFeatures]] = []

    @abstractmethod
    def extract(self, images: torch.Tensor) -> ImageFeatures:
        """Run the network (no memo); ``images`` are already on this module's device."""

    @abstractmethod
    def protocol(self) -> dict[str, Any]:
        """Backbone name, weights sha256, resize policy, input size: what makes numbers comparable."""

    @property
    def device(self) -> torch.device:
        return module_device(self)

    @torch.no_grad()
    def features(self, images: torch.Tensor) -> ImageFeatures:
        """`extract` with eval mode, no grad, device move and a one-batch memo."""
        version = _version(images)
        for tensor, seen, cached in self._memo:
            if tensor is images and seen == version:
                return cached
        self.eval()
        out = self.extract(images.to(self.device, torch.float32))
        self._memo = [*self._memo[-1:], (images, version, out)]
        return out

    def clear_memo(self) -> None:
        """Drop the memoised batches (and the references that keep them alive)."""
        self._memo = []


def _version(t: torch.Tensor) -> int:
    try:
        return t._version
    except RuntimeError:  # inference-mode tensors have no version counter (and cannot change later)
        return -1


class TextImageEmbedder(nn.Module, ABC):
    """Images and captions -> vectors in one joint space (CLIP, DAMSM, shapes attributes)."""

    @abstractmethod
    def embed_images(self, images: torch.Tensor) -> torch.Tensor:
        """``[B, C, H, W]`` in ``[-1, 1]`` -> ``[B, D]`` (need not be normalised)."""

    @abstractmethod
    def embed_texts(self, texts: Sequence[str]) -> torch.Tensor:
        """``B`` captions -> ``[B, D]`` (need not be normalised)."""

    @abstractmethod
    def protocol(self) -> dict[str, Any]:
        """Space name, backbone, weights sha256, preprocessing."""

    @property
    def device(self) -> torch.device:
        return module_device(self)


_IMAGE_BACKBONES: dict[str, Callable[..., ImageFeatureExtractor]] = {}
_EMBEDDERS: dict[str, Callable[..., TextImageEmbedder]] = {}
_CACHE: dict[tuple[Any, ...], nn.Module] = {}


def register_image_backbone(name: str, loader: Callable[..., ImageFeatureExtractor]) -> None:
    """Make ``load_image_backbone(name, ...)`` call ``loader(weights=..., resize=..., **options)``."""
    _IMAGE_BACKBONES[name] = loader


def register_embedder(name: str, loader: Callable[..., TextImageEmbedder]) -> None:
    """Make ``load_embedder(name, ...)`` call ``loader(weights=..., **options)``."""
    _EMBEDDERS[name] = loader


def _builtin() -> None:
    # imported here: these modules import torchvision/timm/open_clip only when a loader runs
    from . import clip, damsm, inception, pixels  # noqa: F401


def image_backbone_names() -> list[str]:
    _builtin()
    return sorted(_IMAGE_BACKBONES)


def embedder_names() -> list[str]:
    _builtin()
    return sorted(_EMBEDDERS)


def _import_string(spec: str) -> Callable[..., Any]:
    return import_object(spec, what="backbone factory")


def _resolve(name: str, table: dict[str, Callable[..., Any]], what: str) -> Callable[..., Any]:
    _builtin()
    if name in table:
        return table[name]
    if ":" in name:
        return _import_string(name)
    raise ValueError(
        f"unknown {what} {name!r}; known: {', '.join(sorted(table))} "
        "(or give an import string 'package.module:factory')"
    )


def _cached(key: tuple[Any, ...], make: Callable[[], nn.Module], device: str | torch.device | None) -> Any:
    if key not in _CACHE:
        module = make().eval()
        for p in module.parameters():
            p.requires_grad_(False)
        _CACHE[key] = module
    module = _CACHE[key]
    if device is not None:
        module.to(device)
    return module


def load_image_backbone(
    name: str,
    *,
    weights: str | None = None,
    resize: str | None = None,
    device: str | torch.device | None = None,
    shared: bool = True,
    **options: Any,
) -> ImageFeatureExtractor:
    """Build (or reuse) an image backbone by name: ``fid-inception``, ``timm-inception``, ...

    With ``shared=True`` one instance per (name, weights, resize, options) is kept, so evaluators
    of one run share it and, with the memo in `ImageFeatureExtractor.features`, one forward pass.

    Example:
        >>> fe = load_image_backbone("fid-inception", weights="pt_inception-2015-12-05-6726825d.pth")  # doctest: +SKIP
    """
    loader = _resolve(name, _IMAGE_BACKBONES, "image backbone")

    def make() -> nn.Module:
        kwargs = dict(options)
        if resize is not None:
            kwargs["resize"] = resize
        return loader(weights=weights, **kwargs)

    if not shared:
        module = make().eval()
        return module.to(device) if device is not None else module
    key = ("image", name, weights, resize, tuple(sorted((k, repr(v)) for k, v in options.items())))
    return _cached(key, make, device)


def load_embedder(
    name: str,
    *,
    weights: str | None = None,
    device: str | torch.device | None = None,
    shared: bool = True,
    **options: Any,
) -> TextImageEmbedder:
    """Build (or reuse) a text-image embedder by name: ``open-clip``, or ``package.module:factory``.

    Example:
        >>> emb = load_embedder("open-clip", model="ViT-B-32", weights="laion2b_s34b_b79k")  # doctest: +SKIP
    """
    loader = _resolve(name, _EMBEDDERS, "embedder")

    def make() -> nn.Module:
        return loader(weights=weights, **options)

    if not shared:
        module = make().eval()
        return module.to(device) if device is not None else module
    key = ("embedder", name, weights, tuple(sorted((k, repr(v)) for k, v in options.items())))
    return _cached(key, make, device)


def clear_backbone_cache() -> None:
    """Forget shared backbones (frees their memory)."""
    _CACHE.clear()
