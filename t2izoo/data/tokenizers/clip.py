"""CLIP's byte-pair-encoding tokenizer, from open_clip (its vocabulary ships inside the package).

Example:
    >>> from t2izoo.data import CLIPTokenizer
    >>> tok = CLIPTokenizer()
    >>> batch = tok(["a red circle"])
    >>> batch.ids.shape, batch.lengths.tolist()     # <start> a red circle <end>, padded to 77
    (torch.Size([1, 77]), [5])
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import torch

from ...interfaces import Tokenizer
from ...types import TokenBatch

__all__ = ["CLIPTokenizer"]


def _open_clip_tokenizer_module() -> ModuleType:
    """open_clip's ``tokenizer`` module, without importing the whole of open_clip.

    ``import open_clip`` builds every model family (about 8 s on a small CPU); its tokenizer
    module needs only the standard library, ftfy, regex, numpy and torch. So it is loaded on its
    own when open_clip is not imported yet, and through the package otherwise or on failure.
    """
    if "open_clip" in sys.modules:
        import open_clip.tokenizer

        return open_clip.tokenizer
    try:
        spec = importlib.util.find_spec("open_clip")
        path = Path(next(iter(spec.submodule_search_locations))) / "tokenizer.py"  # type: ignore[union-attr]
        name = "t2izoo._open_clip_tokenizer"
        if name in sys.modules:
            return sys.modules[name]
        file_spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(file_spec)  # type: ignore[arg-type]
        file_spec.loader.exec_module(module)  # type: ignore[union-attr]
        sys.modules[name] = module
        return module
    except Exception:  # noqa: BLE001 - any surprise: fall back to the ordinary import
        import open_clip.tokenizer

        return open_clip.tokenizer


class CLIPTokenizer(Tokenizer):
    """open_clip's ``SimpleTokenizer``: ``<start>`` BPE tokens ``<end>``, zero padded.

    Rows always have ``context_length`` columns because CLIP's text tower has one position
    embedding per column; a caption that is too long is cut and still ends with ``<end>``.

    Args:
        context_length: tokens per row (CLIP: 77).
    """

    pad_id = 0
    name = "clip-bpe"

    def __init__(self, context_length: int = 77) -> None:
        SimpleTokenizer = _open_clip_tokenizer_module().SimpleTokenizer

        if context_length < 2:
            raise ValueError(f"CLIPTokenizer: context_length must be >= 2, got {context_length}")
        self.context_length = context_length
        self._tok = SimpleTokenizer(context_length=context_length)
        self.sot_id = int(self._tok.encoder["<start_of_text>"])
        self.eot_id = int(self._tok.encoder["<end_of_text>"])

    @property
    def vocab_size(self) -> int:
        return len(self._tok.encoder)

    def __repr__(self) -> str:
        return f"CLIPTokenizer(context_length={self.context_length})"

    def __call__(self, texts: Sequence[str], max_length: int | None = None) -> TokenBatch:
        if isinstance(texts, str):
            raise TypeError("CLIPTokenizer expects a list of captions, got one string")
        width = self.context_length if max_length is None else int(max_length)
        ids = self._tok(list(texts), context_length=width).to(torch.long)
        lengths = (ids != self.pad_id).sum(dim=1)
        return TokenBatch(ids=ids, lengths=lengths, texts=list(texts))

    def decode(self, ids: Sequence[int]) -> str:
        keep = [int(i) for i in ids if int(i) not in (self.pad_id, self.sot_id, self.eot_id)]
        return self._tok.decode(keep).strip()
