"""T5's sentencepiece tokenizer, from a local ``spiece.model`` (default: the shapes model shipped
with t2izoo, see `train_shapes_sentencepiece`).

Example:
    >>> from t2izoo.data import T5Tokenizer
    >>> tok = T5Tokenizer()                             # the bundled shapes spiece.model
    >>> batch = tok(["a small red circle", "a star"])
    >>> int(batch.ids[0, batch.lengths[0] - 1]) == tok.eos_id   # rows end with </s>
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from ...interfaces import Tokenizer
from ...types import TokenBatch
from ..errors import DataError

__all__ = ["T5Tokenizer", "SHAPES_SPIECE_MODEL"]

SHAPES_SPIECE_MODEL = Path(__file__).resolve().parent.parent / "assets" / "shapes_spiece.model"


class T5Tokenizer(Tokenizer):
    """Sentencepiece unigram tokenizer with T5's conventions: ``<pad>``=0, ``</s>``=1, ``<unk>``=2,
    ``</s>`` appended, padding on the right to the longest caption.

    Args:
        model: a ``spiece.model`` file, or a folder holding one (a T5 checkpoint folder such as
            ``t5-small``'s). Default: the shapes model bundled with t2izoo.
        max_length: default cap on tokens per caption, ``</s>`` included (T5: 512; None = no cap).
        extra_ids: T5's ``<extra_id_N>`` sentinels appended to the vocabulary (t5-small: 100).
    """

    pad_id = 0
    name = "t5-sentencepiece"

    def __init__(self, model: str | Path | None = None, max_length: int | None = None, extra_ids: int = 0) -> None:
        from transformers import T5Tokenizer as HFT5Tokenizer  # lazy: transformers is heavy

        path = Path(model) if model is not None else SHAPES_SPIECE_MODEL
        folder = path if path.is_dir() else path.parent
        if path.is_dir():
            path = path / "spiece.model"
        if not path.is_file():
            raise DataError(path, "sentencepiece model is missing",
                            "give a spiece.model file or a folder with one (a T5 checkpoint folder)")
        self.model_file = path
        self.max_length = max_length
        self.extra_ids = extra_ids
        try:
            if path.name == "spiece.model":
                self._tok = HFT5Tokenizer.from_pretrained(str(folder), extra_ids=extra_ids)
            else:
                self._tok = HFT5Tokenizer.from_pretrained(str(folder), vocab_file=str(path), extra_ids=extra_ids)
        except Exception as err:  # noqa: BLE001 - surface any conversion failure with the file name
            raise DataError(path, f"cannot load sentencepiece model ({type(err).__name__}: {err})") from err
        self.eos_id = int(self._tok.eos_token_id)
        self.unk_id = int(self._tok.unk_token_id)
        if int(self._tok.pad_token_id) != self.pad_id:
            raise DataError(path, f"<pad> has id {self._tok.pad_token_id}, T5 convention is 0")

    @property
    def vocab_size(self) -> int:
        return len(self._tok)

    def __repr__(self) -> str:
        return f"T5Tokenizer(model={str(self.model_file)!r}, vocab_size={self.vocab_size})"

    def __call__(self, texts: Sequence[str], max_length: int | None = None) -> TokenBatch:
        if isinstance(texts, str):
            raise TypeError("T5Tokenizer expects a list of captions, got one string")
        limit = self.max_length if max_length is None else max_length
        enc = self._tok(list(texts), padding="longest", truncation=limit is not None, max_length=limit,
                        return_tensors="pt")
        ids = enc["input_ids"].to(torch.long)
        lengths = enc["attention_mask"].sum(dim=1).to(torch.long)
        return TokenBatch(ids=ids, lengths=lengths, texts=list(texts))

    def decode(self, ids: Sequence[int]) -> str:
        return self._tok.decode([int(i) for i in ids], skip_special_tokens=True)
