"""Read the attributes a ``shapes`` caption mentions (no torch; pure string work).

Captions paraphrase ("disc", "plus sign", "tiny", "covered in dots") and do not always mention
every object or attribute, so the parser returns only what the caption *says*: shapes, colours,
and (shape, colour) pairs it can bind, either ``<colour> ... <shape>`` inside one noun phrase or
``the <shape> is <colour>``. It is precise rather than complete: every pair it returns is meant
to be true of the scene (tests check this on the data set's own captions).

Example:
    >>> parse_caption("a little striped orange disc above a big gray plus sign")
    {'shapes': ['circle', 'cross'], 'colours': ['orange', 'gray'], 'pairs': [('circle', 'orange'), ('cross', 'gray')]}
"""

from __future__ import annotations

import re

from t2izoo.data import SHAPES_VOCAB
from t2izoo.data.shapes import PARAPHRASES

__all__ = ["parse_caption", "SHAPE_WORDS", "COLOUR_WORDS"]

# canonical name -> surface forms, longest first when matching; the data package's caption
# paraphrases are the single source, so the parser can never drift from what captions say
SHAPE_WORDS: dict[str, tuple[str, ...]] = {
    s: tuple(sorted(PARAPHRASES.get(s, (s,)), key=len, reverse=True)) for s in SHAPES_VOCAB.shapes
}
COLOUR_WORDS: dict[str, tuple[str, ...]] = {c: PARAPHRASES.get(c, (c,)) for c in SHAPES_VOCAB.colours}

# words that end a noun phrase: a colour seen before one of these does not bind to a later shape
_BREAKS = {"and", "with", "of", "above", "below", "over", "under", "beneath", "than", "is", "sits",
           "there", "where", "on", "in", "at", "near", "against", "to", "right", "left", "a", "an",
           "the", "one", "that"}


def _lexicon() -> list[tuple[list[str], str, str]]:
    entries = []
    for kind, table in (("shape", SHAPE_WORDS), ("colour", COLOUR_WORDS)):
        for name, forms in table.items():
            for form in forms:
                entries.append((form.split(), kind, name))
    return sorted(entries, key=lambda e: -len(e[0]))


_LEXICON = _lexicon()


def _tokens(caption: str) -> list[tuple[str, str]]:
    """(kind, value) tokens: kind is 'shape', 'colour' or 'word'."""
    words = re.findall(r"[a-z]+", caption.lower())
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(words):
        for form, kind, name in _LEXICON:
            if words[i:i + len(form)] == form:
                out.append((kind, name))
                i += len(form)
                break
        else:
            out.append(("word", words[i]))
            i += 1
    return out


def parse_caption(caption: str) -> dict[str, list]:
    """Shapes, colours and bound (shape, colour) pairs a caption mentions, in order of mention."""
    toks = _tokens(caption)
    shapes = [v for k, v in toks if k == "shape"]
    colours = [v for k, v in toks if k == "colour"]
    pairs: list[tuple[str, str]] = []
    pending: str | None = None  # a colour adjective waiting for its noun
    for i, (kind, value) in enumerate(toks):
        if kind == "colour":
            pending = value
        elif kind == "shape":
            if pending is not None:
                pairs.append((value, pending))
            elif i + 2 < len(toks) and toks[i + 1] == ("word", "is") and toks[i + 2][0] == "colour":
                # "the hexagon is cyan": only directly after "is"
                pairs.append((value, toks[i + 2][1]))
            pending = None
        elif value in _BREAKS:
            # function words and articles end a noun phrase: "a red circle and a square" must not
            # give ("square", "red")
            pending = None
    return {"shapes": shapes, "colours": colours, "pairs": list(dict.fromkeys(pairs))}
