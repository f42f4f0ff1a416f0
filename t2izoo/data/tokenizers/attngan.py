"""AttnGAN's word tokenizer: lower-case ``\\w+`` words, ASCII only, unknown words dropped.

Id 0 is the padding/end word ``<end>``; the vocabulary is a list (``ixtoword``). AttnGAN's
released vocabulary order exists only in its ``captions.pickle`` (``[train_captions,
test_captions, ixtoword, wordtoix]``), so checkpoints must be paired with `from_captions_pickle`.

Example:
    >>> from t2izoo.data import AttnGANTokenizer
    >>> tok = AttnGANTokenizer.from_corpus(["A red bird.", "a small bird"])
    >>> tok.words("A RED, bird!! with zebra-stripes")
    ['a', 'red', 'bird', 'with', 'zebra', 'stripes']
    >>> batch = tok(["a red bird", "a bird"])
    >>> batch.ids.tolist(), batch.lengths.tolist()
    ([[1, 2, 3], [1, 3, 0]], [3, 2])
"""

from __future__ import annotations

import json
import pickle
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from ...interfaces import Tokenizer
from ...types import TokenBatch
from ..errors import DataError

__all__ = ["AttnGANTokenizer", "ATTNGAN_WORDS_NUM"]

ATTNGAN_WORDS_NUM = 18  # AttnGAN's cfg.TEXT.WORDS_NUM: words kept per caption in training
_WORD = re.compile(r"\w+")  # the RegexpTokenizer(r'\w+') rule: runs of word characters


class AttnGANTokenizer(Tokenizer):
    """Word-level tokenizer with AttnGAN's rules.

    Args:
        ixtoword: the vocabulary in id order; entry 0 must be ``"<end>"``.
        max_length: default cap on words per caption (``None``: no cap). AttnGAN trains with 18.
        truncation: ``"head"`` keeps the first words; ``"random"`` keeps a random ordered subset
            (AttnGAN's training rule), drawn from ``seed``.
        seed: seed of the ``"random"`` truncation stream.
    """

    pad_id = 0
    name = "attngan-words"

    def __init__(
        self,
        ixtoword: Sequence[str],
        max_length: int | None = None,
        truncation: str = "head",
        seed: int = 0,
    ) -> None:
        words = list(ixtoword)
        if not words or words[0] != "<end>":
            raise ValueError(f"AttnGANTokenizer: id 0 must be '<end>', got {words[:1]}")
        if len(set(words)) != len(words):
            dup = [w for w, n in Counter(words).items() if n > 1][:5]
            raise ValueError(f"AttnGANTokenizer: duplicate words in the vocabulary: {dup}")
        if truncation not in ("head", "random"):
            raise ValueError(f"AttnGANTokenizer: truncation must be 'head' or 'random', got {truncation!r}")
        self.ixtoword = words
        self.wordtoix = {w: i for i, w in enumerate(words)}
        self.max_length = max_length
        self.truncation = truncation
        self._rng = np.random.Generator(np.random.PCG64(seed))

    @property
    def vocab_size(self) -> int:
        return len(self.ixtoword)

    def __repr__(self) -> str:
        return f"AttnGANTokenizer(vocab_size={self.vocab_size}, max_length={self.max_length})"

    # --- tokenising ---------------------------------------------------------------------------
    @staticmethod
    def words(text: str) -> list[str]:
        """Lower-case ``\\w+`` words with non-ASCII characters removed (empty words dropped)."""
        out = []
        for token in _WORD.findall(text.lower()):
            token = token.encode("ascii", "ignore").decode("ascii")
            if token:
                out.append(token)
        return out

    def encode(self, text: str) -> list[int]:
        """Ids of the known words of ``text`` (unknown words are dropped, as in AttnGAN)."""
        return [self.wordtoix[w] for w in self.words(text) if w in self.wordtoix]

    def decode(self, ids: Iterable[int]) -> str:
        return " ".join(self.ixtoword[int(i)] for i in ids if int(i) != self.pad_id)

    def _cap(self, ids: list[int], limit: int | None) -> list[int]:
        if limit is None or len(ids) <= limit:
            return ids
        if self.truncation == "head":
            return ids[:limit]
        keep = np.sort(self._rng.permutation(len(ids))[:limit])
        return [ids[i] for i in keep.tolist()]

    def __call__(self, texts: Sequence[str], max_length: int | None = None) -> TokenBatch:
        """Tokenise and pad with 0 to the longest caption of the batch.

        A caption with no known word gets length 0 (a row of padding).
        """
        if isinstance(texts, str):
            raise TypeError("AttnGANTokenizer expects a list of captions, got one string")
        limit = self.max_length if max_length is None else max_length
        rows = [self._cap(self.encode(t), limit) for t in texts]
        width = max([len(r) for r in rows] + [1])
        ids = torch.zeros(len(rows), width, dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = torch.tensor(r, dtype=torch.long)
        lengths = torch.tensor([len(r) for r in rows], dtype=torch.long)
        return TokenBatch(ids=ids, lengths=lengths, texts=list(texts))

    # --- building and storing -----------------------------------------------------------------
    @classmethod
    def from_corpus(cls, texts: Iterable[str], min_count: int = 1, **kwargs) -> AttnGANTokenizer:
        """Vocabulary of every word seen at least ``min_count`` times, in first-seen order."""
        counts: Counter[str] = Counter()
        order: dict[str, None] = {}
        for text in texts:
            for w in cls.words(text):
                counts[w] += 1
                order.setdefault(w, None)
        return cls(["<end>", *[w for w in order if counts[w] >= min_count and w != "<end>"]], **kwargs)

    @classmethod
    def from_captions_pickle(cls, path: str | Path, **kwargs) -> AttnGANTokenizer:
        """AttnGAN's ``captions.pickle``: ``[train_captions, test_captions, ixtoword, wordtoix]``."""
        path = Path(path)
        if not path.is_file():
            raise DataError(path, "captions.pickle is missing")
        try:
            with open(path, "rb") as f:
                data = pickle.load(f, encoding="latin1")  # written by Python 2
        except (OSError, pickle.UnpicklingError, EOFError, ValueError) as err:
            raise DataError(path, f"cannot read pickle ({type(err).__name__}: {err})") from err
        if not isinstance(data, (list, tuple)) or len(data) < 4 or not isinstance(data[2], Mapping):
            raise DataError(path, "expected [train_captions, test_captions, ixtoword, wordtoix]")
        ixtoword: Mapping[int, str] = data[2]
        wordtoix: Mapping[str, int] = data[3]
        if not all(i in ixtoword for i in range(len(ixtoword))):
            raise DataError(path, "ixtoword keys are not 0..N-1")
        words = [ixtoword[i] for i in range(len(ixtoword))]
        bad = [w for i, w in enumerate(words) if wordtoix.get(w) != i][:3]
        words = [w.decode() if isinstance(w, bytes) else w for w in words]
        if bad:
            raise DataError(path, f"ixtoword and wordtoix disagree on {bad}")
        return cls(words, **kwargs)

    def save(self, path: str | Path) -> None:
        """Write the vocabulary and settings as JSON."""
        payload = {"type": self.name, "ixtoword": self.ixtoword, "max_length": self.max_length,
                   "truncation": self.truncation}
        Path(path).write_text(json.dumps(payload, indent=0), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> AttnGANTokenizer:
        """Read what `save` wrote."""
        path = Path(path)
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise DataError(path, f"cannot read tokenizer JSON ({err})") from err
        if payload.get("type") != cls.name:
            raise DataError(path, f"not an {cls.name} tokenizer file (type={payload.get('type')!r})")
        return cls(payload["ixtoword"], max_length=payload.get("max_length"),
                   truncation=payload.get("truncation", "head"))
