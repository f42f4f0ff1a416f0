"""The ``label`` encoder: a prompt -> the one-hot vector of the class it names."""

from __future__ import annotations

from collections.abc import Sequence

import torch

import t2izoo
from t2izoo.types import TextFeatures, TokenBatch

from .configs import LabelEncoderConfig
from .labels import LabelVocabulary, get_vocabulary

__all__ = ["LabelTokenizer", "LabelEncoder"]


class LabelTokenizer(t2izoo.Tokenizer):
    """Captions -> one token each: the class label (``-1`` for "no class" when allowed).

    Example:
        >>> from t2izoo_cvae.labels import get_vocabulary
        >>> LabelTokenizer(get_vocabulary("fashion-mnist"))(["a sneaker", "a bag"]).ids.tolist()
        [[7], [8]]
    """

    pad_id = -1

    def __init__(self, vocabulary: LabelVocabulary, unknown: str = "error") -> None:
        self.vocabulary, self.unknown = vocabulary, unknown

    def __call__(self, texts: Sequence[str], max_length: int | None = None) -> TokenBatch:
        if isinstance(texts, str):
            raise TypeError("LabelTokenizer expects a list of captions, got one string")
        if self.unknown == "error":
            labels = self.vocabulary.labels(texts)
        else:
            labels = [-1 if (found := self.vocabulary.find(t)) is None else found for t in texts]
        ids = torch.tensor(labels, dtype=torch.long).view(-1, 1)
        return TokenBatch(ids=ids, lengths=(ids[:, 0] >= 0).long(), texts=list(texts))


class LabelEncoder(t2izoo.Encoder):
    """One-hot class labels as the sentence vector; no word features (``words=None``).

    Has no parameters: a label is its own embedding, as in the seed paper's Fashion-MNIST model.

    Example:
        >>> import t2izoo
        >>> enc = t2izoo.create_component("encoder", "label")        # Fashion-MNIST classes
        >>> enc.encode(["a sneaker", "an ankle boot"]).sentence.argmax(1).tolist()
        [7, 9]
    """

    def __init__(self, config: LabelEncoderConfig, **_: object) -> None:
        super().__init__(config)
        self.vocabulary = get_vocabulary(config.vocabulary, config.classes)
        self.tokenizer = LabelTokenizer(self.vocabulary, config.unknown)
        # an empty buffer carries device and dtype through .to(), so outputs follow the module
        self.register_buffer("_anchor", torch.zeros(0), persistent=False)

    @property
    def num_classes(self) -> int:
        return self.vocabulary.num_classes

    def forward(self, tokens: TokenBatch) -> TextFeatures:
        labels = tokens.ids[:, 0].to(self._anchor.device)
        onehot = torch.zeros(labels.shape[0], self.num_classes, device=self._anchor.device, dtype=self._anchor.dtype)
        known = labels >= 0
        onehot[known.nonzero(as_tuple=True)[0], labels[known]] = 1
        return TextFeatures(words=None, mask=None, sentence=onehot)
