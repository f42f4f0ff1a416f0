"""Hashed bag-of-words text encoder."""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

import torch
from torch import nn

import t2izoo
from t2izoo.types import TextFeatures, TokenBatch

from .configs import HashedEmbeddingConfig

_WORD = re.compile(r"[a-z0-9]+")


class HashedWordTokenizer(t2izoo.Tokenizer):
    """Lower-cased words hashed with CRC32 into ``buckets - 1`` ids (0 is padding).

    CRC32 rather than Python's ``hash`` so that ids are the same in every process and run.

    Example:
        >>> tok = HashedWordTokenizer(buckets=64, max_length=8)
        >>> tok(["A red circle"]).lengths.tolist()
        [3]
    """

    pad_id = 0

    def __init__(self, buckets: int, max_length: int) -> None:
        self.buckets, self.max_length = buckets, max_length

    @property
    def vocab_size(self) -> int:
        return self.buckets

    def __call__(self, texts: Sequence[str], max_length: int | None = None) -> TokenBatch:
        limit = max_length or self.max_length
        rows = [
            [1 + zlib.crc32(w.encode()) % (self.buckets - 1) for w in _WORD.findall(t.lower())][:limit]
            for t in texts
        ]
        width = max(1, max((len(r) for r in rows), default=1))
        ids = torch.zeros(len(rows), width, dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
        lengths = torch.tensor([len(r) for r in rows], dtype=torch.long)
        return TokenBatch(ids=ids, lengths=lengths, texts=list(texts))


class HashedEmbeddingEncoder(t2izoo.Encoder):
    """Words -> embeddings; sentence -> Linear(masked mean of the words).

    Example:
        >>> import t2izoo
        >>> enc = t2izoo.create_component("encoder", {"name": "hashed-embedding", "dim": 8})
        >>> enc.encode(["a red circle", "a square"]).words.shape
        torch.Size([2, 3, 8])
    """

    def __init__(self, config: HashedEmbeddingConfig) -> None:
        super().__init__(config)
        self.tokenizer = HashedWordTokenizer(config.buckets, config.max_length)
        self.embedding = nn.Embedding(config.buckets, config.dim, padding_idx=0)
        self.sentence_proj = nn.Linear(config.dim, config.dim)

    def forward(self, tokens: TokenBatch) -> TextFeatures:
        ids = tokens.ids.to(self.embedding.weight.device)
        mask = ids == 0
        words = self.embedding(ids)
        keep = (~mask).unsqueeze(-1).to(words.dtype)
        mean = (words * keep).sum(1) / keep.sum(1).clamp(min=1)
        return TextFeatures(words=words, mask=mask, sentence=self.sentence_proj(mean))
