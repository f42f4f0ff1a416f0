"""Tokenizers behind one interface (`t2izoo.interfaces.Tokenizer`), and a factory by name.

==================  =================================================================
``attngan-words``   `AttnGANTokenizer`: AttnGAN's word vocabulary (``vocab=`` a JSON file
                    saved by it, ``captions_pickle=`` AttnGAN's pickle, or ``corpus=`` texts)
``clip-bpe``        `CLIPTokenizer`: open_clip's BPE, 77 tokens
``t5-sentencepiece``  `T5Tokenizer`: a local ``spiece.model`` (default: the bundled shapes one)
==================  =================================================================

Example:
    >>> from t2izoo.data import get_tokenizer
    >>> get_tokenizer("clip-bpe", context_length=32)
    CLIPTokenizer(context_length=32)
    >>> tok = get_tokenizer("attngan-words", corpus=["a red bird"], max_length=18)
    >>> tok.vocab_size
    4
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ...interfaces import Tokenizer
from .attngan import ATTNGAN_WORDS_NUM, AttnGANTokenizer
from .clip import CLIPTokenizer
from .t5 import SHAPES_SPIECE_MODEL, T5Tokenizer
from .train_spiece import train_shapes_sentencepiece

__all__ = [
    "AttnGANTokenizer",
    "CLIPTokenizer",
    "T5Tokenizer",
    "ATTNGAN_WORDS_NUM",
    "SHAPES_SPIECE_MODEL",
    "get_tokenizer",
    "list_tokenizers",
    "shapes_corpus",
    "train_shapes_sentencepiece",
]

_NAMES = {
    "attngan-words": "AttnGAN word vocabulary (lower-case \\w+ words, unknown dropped, 0 = pad)",
    "clip-bpe": "open_clip BPE tokenizer (77 tokens, vocabulary bundled with open_clip)",
    "t5-sentencepiece": "T5 sentencepiece tokenizer from a local spiece.model (default: shapes model)",
}


def list_tokenizers() -> dict[str, str]:
    """Tokenizer name -> one-line description."""
    return dict(_NAMES)


def shapes_corpus(num_scenes: int = 2000, seed: int = 0) -> list[str]:
    """Captions of the first ``num_scenes`` shapes training scenes (to build a word vocabulary)."""
    from ..shapes import ShapesDataset

    ds = ShapesDataset("train", size=num_scenes, seed=seed, resolutions=(64,))
    return [c for i in range(num_scenes) for c in ds.scene(i)[1]]


def get_tokenizer(name: str, **kwargs: Any) -> Tokenizer:
    """Build a tokenizer by name.

    ``attngan-words`` needs one vocabulary source: ``vocab=`` (JSON from `AttnGANTokenizer.save`),
    ``captions_pickle=`` (AttnGAN's file) or ``corpus=`` (an iterable of captions, or the
    string ``"shapes"`` for the shapes world's words, sorted); other keywords go to the constructor.
    """
    if name == "attngan-words":
        vocab, pickle_path, corpus = kwargs.pop("vocab", None), kwargs.pop("captions_pickle", None), kwargs.pop("corpus", None)
        min_count = kwargs.pop("min_count", 1)
        given = [x is not None for x in (vocab, pickle_path, corpus)]
        if sum(given) != 1:
            raise ValueError("get_tokenizer('attngan-words') needs exactly one of vocab=<json file>, "
                             "captions_pickle=<AttnGAN captions.pickle> or corpus=<captions | 'shapes'>")
        if vocab is not None:
            tok = AttnGANTokenizer.load(Path(vocab))
            for key, value in kwargs.items():
                setattr(tok, key, value)
            return tok
        if pickle_path is not None:
            return AttnGANTokenizer.from_captions_pickle(pickle_path, **kwargs)
        if corpus == "shapes":
            # sorted, so that the ids depend only on the set of words the captions can use,
            # not on the order the random captions happen to introduce them
            words = AttnGANTokenizer.from_corpus(shapes_corpus(), min_count=min_count).ixtoword[1:]
            return AttnGANTokenizer(["<end>", *sorted(words)], **kwargs)
        texts: Iterable[str] = corpus  # type: ignore[assignment]
        return AttnGANTokenizer.from_corpus(texts, min_count=min_count, **kwargs)
    if name == "clip-bpe":
        return CLIPTokenizer(**kwargs)
    if name == "t5-sentencepiece":
        return T5Tokenizer(**kwargs)
    raise ValueError(f"unknown tokenizer {name!r}; choose one of {sorted(_NAMES)}")
