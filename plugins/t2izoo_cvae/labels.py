"""Class-label vocabularies and how a label is read from a caption (no torch).

A `LabelVocabulary` is a list of classes, each with the phrases that name it. A prompt's label
is the class whose phrase occurs *first* in the prompt (whole words; at one position the longer
phrase wins, so "ankle boot" beats "boot"). A prompt may also be a class name exactly, or the
class index as digits ("7"). A prompt naming no class is an error that lists the classes.

Built-in vocabularies:

* ``fashion-mnist``: the 10 Fashion-MNIST classes in label order, with everyday synonyms
  ("sneaker", "boot", "top", "handbag" as in the seed paper's prompts).
* ``shapes``: the 80 (colour, shape) classes of the built-in shapes world, in the order of
  ``SHAPES_VOCAB.class_id`` (shape-major). A caption's label is its first colour word and its
  first shape word (paraphrases included: "disc", "box", "grey", "violet"...). In a shapes caption
  that is the object mentioned first, which is not always the scene's ``class_id`` (the first
  object drawn): the label describes an object that is in the picture.

Example:
    >>> vocab = get_vocabulary("fashion-mnist")
    >>> vocab.label("a photo of an ankle boot"), vocab.names[9]
    (9, 'Ankle boot')
    >>> get_vocabulary("shapes").label("a big grey disc left of a red star")
    9
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, cached_property

__all__ = ["LabelVocabulary", "UnknownLabelError", "get_vocabulary", "BUILTIN_VOCABULARIES"]


class UnknownLabelError(ValueError):
    """A prompt names none of a vocabulary's classes."""


def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    # whole words only, and a hyphen counts as part of a word: "shirt" must not match "t-shirt"
    body = r"\s+".join(re.escape(w) for w in phrase.lower().split())
    return re.compile(rf"(?<![\w-]){body}(?![\w-])")


@dataclass(frozen=True)
class LabelVocabulary:
    """Classes in label order, each with the phrases that name it.

    Args:
        name: the vocabulary's name (for messages).
        names: display name of each class, in label order.
        phrases: per class, the phrases that name it in a caption (lower-case).
    """

    name: str
    names: tuple[str, ...]
    phrases: tuple[tuple[str, ...], ...]

    def __post_init__(self) -> None:
        if len(self.names) != len(self.phrases) or not self.names:
            raise ValueError(f"label vocabulary {self.name!r}: need one phrase list per class")

    @property
    def num_classes(self) -> int:
        return len(self.names)

    @cached_property
    def _patterns(self) -> list[tuple[int, str, re.Pattern[str]]]:
        return [
            (label, phrase, _phrase_pattern(phrase))
            for label, phrases in enumerate(self.phrases)
            for phrase in phrases
        ]

    def find(self, prompt: str) -> int | None:
        """The label of ``prompt`` or ``None`` when it names no class (see the module doc)."""
        text = prompt.strip().lower()
        for i, name in enumerate(self.names):
            if text == name.lower():
                return i
        if text.isdigit():
            index = int(text)
            return index if index < self.num_classes else None
        best: tuple[int, int, int] | None = None  # (start, -length, label)
        for label, phrase, pattern in self._patterns:
            m = pattern.search(text)
            if m is not None:
                key = (m.start(), -len(phrase), label)
                if best is None or key < best:
                    best = key
        return None if best is None else best[2]

    def label(self, prompt: str) -> int:
        """The label of ``prompt``; raises `UnknownLabelError` naming the classes it could be."""
        found = self.find(prompt)
        if found is None:
            shown = ", ".join(repr(p[0]) for p in self.phrases[:12])
            more = f" (and {self.num_classes - 12} more)" if self.num_classes > 12 else ""
            raise UnknownLabelError(
                f"label vocabulary {self.name!r}: the prompt {prompt!r} names none of its "
                f"{self.num_classes} classes. Name one, e.g. {shown}{more}, or give the class "
                f"index 0..{self.num_classes - 1}."
            )
        return found

    def labels(self, prompts: Sequence[str]) -> list[int]:
        return [self.label(p) for p in prompts]


class _ShapesVocabulary(LabelVocabulary):
    """(colour, shape) classes: the first colour word and the first shape word of a caption."""

    def find(self, prompt: str) -> int | None:
        text = prompt.strip().lower()
        direct = super().find(prompt)
        if direct is not None and (text.isdigit() or text in (n.lower() for n in self.names)):
            return direct
        colour, shape = _first(text, _shape_words()[0]), _first(text, _shape_words()[1])
        if colour is None or shape is None:
            return None
        from t2izoo.data import SHAPES_VOCAB

        return SHAPES_VOCAB.class_id(shape, colour)


def _first(text: str, words: dict[str, str]) -> str | None:
    best: tuple[int, int, str] | None = None
    for phrase, canonical in words.items():
        m = _phrase_pattern(phrase).search(text)
        if m is not None and (best is None or (m.start(), -len(phrase)) < best[:2]):
            best = (m.start(), -len(phrase), canonical)
    return None if best is None else best[2]


@cache
def _shape_words() -> tuple[dict[str, str], dict[str, str]]:
    """phrase -> canonical colour, phrase -> canonical shape (the captions' paraphrases)."""
    from t2izoo.data import SHAPES_VOCAB
    from t2izoo.data.shapes.captions import PARAPHRASES

    colours = {p: c for c in SHAPES_VOCAB.colours for p in PARAPHRASES.get(c, (c,))}
    shapes = {p: s for s in SHAPES_VOCAB.shapes for p in PARAPHRASES.get(s, (s,))}
    return colours, shapes


# Fashion-MNIST: official names come from t2izoo.data; the phrases add what people type.
_FASHION_SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("t-shirt", "t shirt", "tshirt", "tee", "top"),
    ("trousers", "trouser", "pair of trousers", "pants", "jeans"),
    ("pullover", "sweater", "jumper"),
    ("dress",),
    ("coat", "jacket"),
    ("sandal", "sandals"),
    ("shirt", "blouse"),
    ("sneaker", "sneakers", "trainer", "trainers"),
    ("bag", "handbag", "purse"),
    ("ankle boot", "ankle boots", "boot", "boots"),
)


@cache
def _fashion() -> LabelVocabulary:
    from t2izoo.data import FASHION_MNIST_LABELS

    names = tuple(name for name, _ in FASHION_MNIST_LABELS)
    phrases = tuple(
        tuple(dict.fromkeys((noun, *syn)))  # the data set's caption noun first, no repeats
        for (_, noun), syn in zip(FASHION_MNIST_LABELS, _FASHION_SYNONYMS, strict=True)
    )
    return LabelVocabulary("fashion-mnist", names, phrases)


@cache
def _shapes() -> LabelVocabulary:
    from t2izoo.data import SHAPES_VOCAB

    names = tuple(SHAPES_VOCAB.class_name(i) for i in range(SHAPES_VOCAB.num_classes))
    return _ShapesVocabulary("shapes", names, tuple((n,) for n in names))


BUILTIN_VOCABULARIES = {"fashion-mnist": _fashion, "shapes": _shapes}


def get_vocabulary(name: str | None = None, classes: Sequence[str] | None = None) -> LabelVocabulary:
    """A built-in vocabulary by name, or one made from ``classes``.

    Each entry of ``classes`` is ``"name"`` or ``"name|synonym|synonym"``.

    Example:
        >>> get_vocabulary(classes=["cat|kitten", "dog|puppy"]).label("a sleepy puppy")
        1
    """
    if classes:
        split = [tuple(p.strip() for p in c.split("|") if p.strip()) for c in classes]
        if any(not s for s in split):
            raise ValueError(f"label classes: an entry of {list(classes)!r} is empty")
        return _custom(tuple(split))
    if name not in BUILTIN_VOCABULARIES:
        raise ValueError(
            f"label vocabulary {name!r} is not built in; choose one of {sorted(BUILTIN_VOCABULARIES)} "
            "or list the classes (label.classes=[...])"
        )
    return BUILTIN_VOCABULARIES[name]()


@cache
def _custom(split: tuple[tuple[str, ...], ...]) -> LabelVocabulary:
    return LabelVocabulary("custom", tuple(s[0] for s in split), tuple(tuple(p.lower() for p in s) for s in split))
