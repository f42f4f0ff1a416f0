"""Data: the built-in ``shapes`` world, loaders for real data sets, tokenizers, batching.

One entry point loads any data set; every item is a `Sample`, every batch a `Batch`.

Example:
    >>> from t2izoo.data import load_dataset, make_dataloader, get_tokenizer
    >>> ds = load_dataset("shapes", split="train", resolutions=(64, 128))
    >>> ds[0].captions[0]                                        # doctest: +SKIP
    'a small striped red circle on a white background'
    >>> tok = get_tokenizer("clip-bpe")
    >>> loader = make_dataloader(ds, batch_size=16, shuffle=True, seed=0, tokenizer=tok)
    >>> batch = next(iter(loader))
    >>> sorted(batch.images), batch.tokens.ids.shape[0]
    ([64, 128], 16)

Names are imported on first use, so ``import t2izoo.data`` does not import torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from t2izoo._lazy import lazy_exports

_LAZY = {
    # batching
    "Sample": ".batch",
    "Batch": ".batch",
    "collate": ".batch",
    "make_dataloader": ".batch",
    "SeededSampler": ".batch",
    "group_size_of": ".batch",
    # entry point and base classes
    "load_dataset": ".registry",
    "list_datasets": ".registry",
    "detect_format": ".registry",
    "check_data_options": ".registry",
    "CaptionedImageDataset": ".base",
    "DataError": ".errors",
    # shapes
    "ShapesDataset": ".shapes",
    "ShapesVocabulary": ".shapes",
    "SHAPES_VOCAB": ".shapes",
    "Scene": ".shapes",
    "render_scene": ".shapes",
    "sample_scene": ".shapes",
    # real data sets
    "CUBDataset": ".cub",
    "COCOCaptionsDataset": ".coco",
    "FashionMNISTDataset": ".fashion_mnist",
    "FASHION_MNIST_LABELS": ".fashion_mnist",
    "ImageFolderDataset": ".folder",
    "JSONLDataset": ".jsonl",
    # tokenizers
    "AttnGANTokenizer": ".tokenizers",
    "CLIPTokenizer": ".tokenizers",
    "T5Tokenizer": ".tokenizers",
    "get_tokenizer": ".tokenizers",
    "list_tokenizers": ".tokenizers",
    "train_shapes_sentencepiece": ".tokenizers",
    "SHAPES_SPIECE_MODEL": ".tokenizers",
    # pictures
    "caption_grid": ".preview",
}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)


if TYPE_CHECKING:  # pragma: no cover
    from .base import CaptionedImageDataset
    from .batch import Batch, Sample, SeededSampler, collate, group_size_of, make_dataloader
    from .coco import COCOCaptionsDataset
    from .cub import CUBDataset
    from .errors import DataError
    from .fashion_mnist import FASHION_MNIST_LABELS, FashionMNISTDataset
    from .folder import ImageFolderDataset
    from .jsonl import JSONLDataset
    from .preview import caption_grid
    from .registry import check_data_options, detect_format, list_datasets, load_dataset
    from .shapes import (
        SHAPES_VOCAB,
        Scene,
        ShapesDataset,
        ShapesVocabulary,
        render_scene,
        sample_scene,
    )
    from .tokenizers import (
        SHAPES_SPIECE_MODEL,
        AttnGANTokenizer,
        CLIPTokenizer,
        T5Tokenizer,
        get_tokenizer,
        list_tokenizers,
        train_shapes_sentencepiece,
    )
