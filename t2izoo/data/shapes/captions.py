"""Captions for ``shapes`` scenes: templates, paraphrases and word-order variation.

Every caption is true of its scene (relations are read from the cell board), lower-case ASCII,
and drawn from the scene's own random stream, so it is as reproducible as the image.

Example:
    >>> from t2izoo.data.shapes import sample_scene, scene_rng
    >>> from t2izoo.data.shapes.captions import make_captions
    >>> caps = make_captions(sample_scene(scene_rng(0, "train", 2)), scene_rng(0, "train", 2), n=3)
    >>> len(caps), all(c.isascii() for c in caps)
    (3, True)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .scene import Scene, ShapeObject

__all__ = ["make_captions", "paraphrases", "TEMPLATES_ONE", "TEMPLATES_MANY", "PARAPHRASES"]

# name -> ways to say it (the first is the canonical word)
PARAPHRASES: dict[str, tuple[str, ...]] = {
    "circle": ("circle", "disc", "round shape"),
    "square": ("square", "box"),
    "triangle": ("triangle",),
    "diamond": ("diamond", "rhombus"),
    "pentagon": ("pentagon",),
    "hexagon": ("hexagon",),
    "star": ("star", "five pointed star"),
    "cross": ("cross", "plus sign"),
    "gray": ("gray", "grey"),
    "purple": ("purple", "violet"),
    "small": ("small", "little", "tiny"),
    "large": ("large", "big"),
    "top left": ("in the top left corner", "at the top left", "in the upper left"),
    "top": ("at the top", "near the top", "in the top middle"),
    "top right": ("in the top right corner", "at the top right", "in the upper right"),
    "left": ("on the left", "at the left side", "in the middle of the left side"),
    "center": ("in the center", "in the middle", "at the center of the image"),
    "right": ("on the right", "at the right side", "in the middle of the right side"),
    "bottom left": ("in the bottom left corner", "at the bottom left", "in the lower left"),
    "bottom": ("at the bottom", "near the bottom", "in the bottom middle"),
    "bottom right": ("in the bottom right corner", "at the bottom right", "in the lower right"),
    "left of": ("to the left of", "left of", "on the left side of"),
    "right of": ("to the right of", "right of", "on the right side of"),
    "above": ("above", "over", "higher than"),
    "below": ("below", "under", "beneath"),
}
# texture -> adjectives used before the noun, or phrases used after it
_TEXTURE_PRE = {"plain": ("plain", "solid", ""), "striped": ("striped",), "dotted": ("dotted", "spotted", "polka dot")}
_TEXTURE_POST = {"plain": ("in a single colour",), "striped": ("with stripes", "with diagonal stripes"),
                 "dotted": ("with dots", "covered in dots")}
_TEXTURE_NOUN = {"plain": "a plain fill", "striped": "stripes", "dotted": "dots"}


class _Say:
    """Chooses paraphrases with the scene's random stream.

    Draws its choices 64 at a time (one numpy call instead of one per word: captions were the
    slowest part of a sample); a choice among n options is ``value % n`` of a 30-bit draw.
    """

    _CHUNK = 64

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self._values: list[int] = []

    def integer(self, n: int) -> int:
        if not self._values:
            self._values = self.rng.integers(0, 1 << 30, size=self._CHUNK).tolist()[::-1]
        return self._values.pop() % n

    def pick(self, options: tuple[str, ...] | list[str]) -> str:
        return options[self.integer(len(options))]

    def word(self, name: str) -> str:
        return self.pick(PARAPHRASES.get(name, (name,)))

    def noun_phrase(self, obj: ShapeObject, with_article: bool = True) -> str:
        """``small striped red circle`` with varied adjective order and paraphrases."""
        size, colour, shape = self.word(obj.size), self.word(obj.colour), self.word(obj.shape)
        style = self.integer(3)
        if style == 0:  # adjectives: size texture colour
            words = [size, self.pick(_TEXTURE_PRE[obj.texture]), colour, shape]
        elif style == 1:  # adjectives: size colour, texture after the noun
            words = [size, colour, shape, self.pick(_TEXTURE_POST[obj.texture])]
        else:  # texture first
            words = [self.pick(_TEXTURE_PRE[obj.texture]), size, colour, shape]
        text = " ".join(w for w in words if w)
        return _article(text) if with_article else text

    def position(self, obj: ShapeObject) -> str:
        return self.word(obj.position)


def _article(text: str) -> str:
    return ("an " if text[0] in "aeiou" else "a ") + text


def _relation(scene: Scene, i: int, j: int, say: _Say) -> str:
    rels = [r for a, r, b in scene.relations() if a == i and b == j]
    return say.word(rels[say.integer(len(rels))])


Template = Callable[[Scene, _Say], str]

# one-object templates (also used for the first object of larger scenes where noted)
TEMPLATES_ONE: tuple[Template, ...] = (
    lambda s, a: f"{a.noun_phrase(s.objects[0])} {a.position(s.objects[0])}",
    lambda s, a: f"{a.position(s.objects[0])} there is {a.noun_phrase(s.objects[0])}",
    lambda s, a: f"{a.noun_phrase(s.objects[0])} on a {s.background} background",
    lambda s, a: f"a {s.background} background with {a.noun_phrase(s.objects[0])} {a.position(s.objects[0])}",
    lambda s, a: f"a picture of {a.noun_phrase(s.objects[0])}",
    lambda s, a: (f"{_article(a.word(s.objects[0].colour))} {a.word(s.objects[0].shape)} that is "
                  f"{a.word(s.objects[0].size)} with {_TEXTURE_NOUN[s.objects[0].texture]}"),
    lambda s, a: (f"the {a.word(s.objects[0].shape)} is {a.word(s.objects[0].colour)} and "
                  f"{a.word(s.objects[0].size)}, on {s.background}"),
    lambda s, a: f"an image showing {a.noun_phrase(s.objects[0])} {a.position(s.objects[0])}",
    lambda s, a: f"one {a.noun_phrase(s.objects[0], with_article=False)} against a {s.background} backdrop",
    lambda s, a: (f"{a.word(s.objects[0].size)} and {a.word(s.objects[0].colour)}, "
                  f"{_article(a.word(s.objects[0].shape))} sits {a.position(s.objects[0])}"),
    lambda s, a: f"there is {a.noun_phrase(s.objects[0])} on {s.background}",
)


def _list(scene: Scene, say: _Say) -> str:
    phrases = [say.noun_phrase(o) for o in scene.objects]
    return ", ".join(phrases[:-1]) + " and " + phrases[-1]


def _pair(scene: Scene, say: _Say) -> tuple[int, int]:
    n = len(scene.objects)
    i = say.integer(n)
    j = (i + 1 + say.integer(n - 1)) % n  # any other object, uniformly
    return i, j


def _rel_sentence(scene: Scene, say: _Say) -> str:
    i, j = _pair(scene, say)
    return f"{say.noun_phrase(scene.objects[i])} {_relation(scene, i, j, say)} {say.noun_phrase(scene.objects[j])}"


def _rel_there_is(scene: Scene, say: _Say) -> str:
    i, j = _pair(scene, say)
    return (f"there is {say.noun_phrase(scene.objects[i])} {_relation(scene, i, j, say)} "
            f"{say.noun_phrase(scene.objects[j])}")


def _rel_inverted(scene: Scene, say: _Say) -> str:
    i, j = _pair(scene, say)  # word order: the landmark first
    return (f"{_relation(scene, i, j, say)} {say.noun_phrase(scene.objects[j])} is "
            f"{say.noun_phrase(scene.objects[i])}")


def _count(scene: Scene, say: _Say) -> str:
    n = ("two", "three")[len(scene.objects) - 2]
    return f"{n} shapes on a {scene.background} background: {_list(scene, say)}"


def _positions(scene: Scene, say: _Say) -> str:
    return ", ".join(f"{say.noun_phrase(o)} {say.position(o)}" for o in scene.objects)


def _rel_and_rest(scene: Scene, say: _Say) -> str:
    i, j = _pair(scene, say)
    text = f"{say.noun_phrase(scene.objects[i])} {_relation(scene, i, j, say)} {say.noun_phrase(scene.objects[j])}"
    rest = [k for k in range(len(scene.objects)) if k not in (i, j)]
    for k in rest:
        text += f", and {say.noun_phrase(scene.objects[k])} {say.position(scene.objects[k])}"
    return text


# templates for two or three objects
TEMPLATES_MANY: tuple[Template, ...] = (
    _rel_sentence,
    _rel_there_is,
    _rel_inverted,
    _rel_and_rest,
    _count,
    _positions,
    lambda s, a: f"{_list(s, a)} on a {s.background} background",
    lambda s, a: f"a {s.background} image with {_list(s, a)}",
    lambda s, a: f"a picture of {_list(s, a)}",
    lambda s, a: f"in this image: {_list(s, a)}",
    lambda s, a: f"a scene where {_rel_sentence(s, a)}",
)


def make_captions(scene: Scene, rng: np.random.Generator, n: int = 5) -> list[str]:
    """``n`` captions of ``scene``, each from a different template while templates last."""
    if n < 1:
        raise ValueError(f"shapes: n_captions must be >= 1, got {n}")
    say = _Say(rng)
    templates = TEMPLATES_ONE if len(scene.objects) == 1 else TEMPLATES_MANY
    order = rng.permutation(len(templates)).tolist()  # distinct templates first
    captions = []
    for k in range(n):
        text = templates[order[k % len(order)]](scene, say)
        captions.append(" ".join(text.split()))  # collapse the gaps left by empty adjectives
    return captions


def paraphrases(name: str) -> tuple[str, ...]:
    """Every way the captions may say ``name`` (words split), e.g. ``gray`` -> ``('gray', 'grey')``."""
    return tuple(w for phrase in PARAPHRASES.get(name, (name,)) for w in phrase.split())
