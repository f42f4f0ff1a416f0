"""A text-side attribute term for DAMSM pretraining: the caption must say which shapes it names.

DAMSM teaches the text encoder only the distinctions its image encoder can see. On the shapes
world at 64 px that groups the shapes as round or pointed: the published encoder's sentence
vectors of "a big red circle ..." and "... hexagon ..." have cosine 0.985, and the circle and
hexagon word features (centred) 0.94. The generator and the discriminators read those features,
so nothing downstream can tell the two apart either. This head asks the text side directly:
from the sentence vector, and from the best-matching word, predict which values of one scene
attribute (e.g. the shapes present) the scene holds. It is dropped after training.

Example:
    >>> import torch
    >>> from t2izoo.types import TextFeatures
    >>> head = AttributeHead("shape", word_dim=4, sentence_dim=4)
    >>> text = TextFeatures(words=torch.randn(2, 3, 4), mask=None, sentence=torch.randn(2, 4))
    >>> attrs = [{"objects": [{"shape_id": 0}]}, {"objects": [{"shape_id": 2}, {"shape_id": 5}]}]
    >>> losses = head(text, attrs)
    >>> sorted(losses), head.targets(attrs)[1].tolist()
    (['attr_s', 'attr_w'], [0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0])
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ATTRIBUTES", "AttributeHead", "require_scene_attributes"]

#: scene attributes the head can predict -> the shapes vocabulary field with their values
ATTRIBUTES = {"shape": "shapes", "colour": "colours", "size": "sizes", "texture": "textures"}


def require_scene_attributes(attributes: list[dict[str, Any]] | None, option: str) -> list[dict[str, Any]]:
    """``attributes`` if every item has its scene's objects, else a ValueError naming ``option``."""
    if attributes is None or any(a is None or "objects" not in a for a in attributes):
        raise ValueError(f"{option} needs data with scene attributes (the built-in shapes data), and this batch has none")
    return attributes


class AttributeHead(nn.Module):
    """Multi-label logits of one object attribute from the sentence vector and from the words.

    The word branch scores every word and keeps each value's best word (masked max), so some
    single word of the caption must carry the value: the features the generator's attention reads.
    Both branches are cosine classifiers (``scale * cos(feature, w_k) + b_k``): a plain linear
    layer could meet the targets by blowing up tiny feature differences with large weights,
    whereas a fixed scale makes the features themselves point in different directions.
    """

    def __init__(self, attribute: str, word_dim: int, sentence_dim: int, scale: float = 10.0) -> None:
        super().__init__()
        from t2izoo.data import SHAPES_VOCAB

        if attribute not in ATTRIBUTES:
            raise ValueError(f"text_attribute must be one of {sorted(ATTRIBUTES)}, got {attribute!r}")
        self.attribute = attribute
        self.num_values = len(getattr(SHAPES_VOCAB, ATTRIBUTES[attribute]))
        self.scale = scale
        self.sentence = nn.Linear(sentence_dim, self.num_values)
        self.word = nn.Linear(word_dim, self.num_values)

    def _logits(self, layer: nn.Linear, features: torch.Tensor) -> torch.Tensor:
        cosine = F.normalize(features.float(), dim=-1) @ F.normalize(layer.weight, dim=1).T
        return self.scale * cosine + layer.bias

    def targets(self, attributes: list[dict[str, Any]] | None) -> torch.Tensor:
        """``[B, K]`` multi-hot of the values the objects of each scene have."""
        scenes = require_scene_attributes(attributes, f"the damsm recipe's text_attribute={self.attribute}")
        out = torch.zeros(len(scenes), self.num_values)
        key = f"{self.attribute}_id"
        for i, scene in enumerate(scenes):
            for obj in scene["objects"]:
                out[i, int(obj[key])] = 1.0
        return out

    def forward(self, text: Any, attributes: list[dict[str, Any]] | None) -> dict[str, torch.Tensor]:
        """BCE of the sentence branch (``attr_s``) and of the word branch (``attr_w``)."""
        target = self.targets(attributes).to(text.sentence.device)
        sentence_logits = self._logits(self.sentence, text.sentence)
        word_logits = self._logits(self.word, text.words)  # [B, L, K]
        if text.mask is not None:
            word_logits = word_logits.masked_fill(text.mask.unsqueeze(-1), float("-inf"))
        word_logits = word_logits.max(dim=1).values
        return {
            "attr_s": F.binary_cross_entropy_with_logits(sentence_logits, target),
            "attr_w": F.binary_cross_entropy_with_logits(word_logits, target),
        }
