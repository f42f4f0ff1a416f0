"""The built-in ``shapes`` world: seeded, captioned scenes of coloured, textured shapes.

The vocabulary and scene sampling are plain Python and numpy; the data set and renderer import
torch/PIL on first use, so ``from t2izoo.data.shapes import SHAPES_VOCAB`` stays light.

Example:
    >>> from t2izoo.data.shapes import ShapesDataset, SHAPES_VOCAB
    >>> ds = ShapesDataset("compositional", size=10, resolutions=(64,))
    >>> first = ds[0].attributes["objects"][0]
    >>> (first["shape"], first["colour"]) in SHAPES_VOCAB.heldout_pairs
    True
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from t2izoo._lazy import lazy_exports

from .vocab import SHAPES_VOCAB, ShapesVocabulary

_LAZY = {
    "ShapesDataset": ".dataset",
    "SHAPES_SPLITS": ".dataset",
    "DEFAULT_SIZES": ".dataset",
    "Scene": ".scene",
    "ShapeObject": ".scene",
    "sample_scene": ".scene",
    "scene_rng": ".scene",
    "render_scene": ".render",
    "make_captions": ".captions",
    "paraphrases": ".captions",
    "PARAPHRASES": ".captions",
}

__all__ = ["SHAPES_VOCAB", "ShapesVocabulary", *_LAZY]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)


if TYPE_CHECKING:  # pragma: no cover
    from .captions import PARAPHRASES, make_captions, paraphrases
    from .dataset import DEFAULT_SIZES, SHAPES_SPLITS, ShapesDataset
    from .render import render_scene
    from .scene import Scene, ShapeObject, sample_scene, scene_rng
