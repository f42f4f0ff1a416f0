"""open_clip's BPE tokenizer returning a `t2izoo.types.TokenBatch`.

A thin wrapper used while (or where) ``t2izoo.data.tokenizers.CLIPTokenizer`` is not available;
`make_tokenizer` prefers the core one.
"""

from __future__ import annotations

from collections.abc import Sequence

import t2izoo
from t2izoo.types import TokenBatch

__all__ = ["OpenCLIPTokenizer", "make_tokenizer"]


class OpenCLIPTokenizer(t2izoo.Tokenizer):
    """CLIP BPE: ``[SOT] tokens [EOT] 0 0 ...``, exactly ``context_length`` ids per caption.

    ``lengths`` counts SOT and EOT, so positions ``>= length`` are padding.

    Example:
        >>> tok = OpenCLIPTokenizer(context_length=16)
        >>> batch = tok(["a red circle"])
        >>> batch.ids.shape, int(batch.lengths[0])
        (torch.Size([1, 16]), 5)
    """

    pad_id = 0

    def __init__(self, context_length: int = 77, model: str | None = None) -> None:
        import open_clip

        self.context_length = context_length
        # hf-hub/local-dir models may name their own (HF) tokenizer; built-ins use CLIP's BPE
        self._tok = (
            open_clip.get_tokenizer(model, context_length=context_length)
            if model and ":" in model
            else open_clip.SimpleTokenizer(context_length=context_length)
        )
        self.eot_id = getattr(self._tok, "eot_token_id", None)

    def __call__(self, texts: Sequence[str], max_length: int | None = None) -> TokenBatch:
        texts = [str(t) for t in texts]
        length = self.context_length if max_length is None else min(max_length, self.context_length)
        ids = self._tok(texts, context_length=length) if max_length is not None else self._tok(texts)
        ids = ids.long()
        if self.eot_id is not None:
            # everything up to and including EOT is a real token (id 0 is a real BPE token too)
            eot = (ids == self.eot_id).int().argmax(-1)
            lengths = eot + 1
        else:
            lengths = (ids != self.pad_id).sum(-1)
        return TokenBatch(ids=ids, lengths=lengths.long(), texts=texts)


def make_tokenizer(context_length: int, model: str | None = None) -> t2izoo.Tokenizer:
    """The core ``CLIPTokenizer`` when present (same BPE), else `OpenCLIPTokenizer`."""
    if not (model and ":" in model):
        try:
            from t2izoo.data.tokenizers import CLIPTokenizer  # written by the data package
        except ImportError:
            pass
        else:
            try:
                return CLIPTokenizer(context_length=context_length)
            except TypeError:  # a different constructor: keep ours rather than guess
                pass
    return OpenCLIPTokenizer(context_length=context_length, model=model)
