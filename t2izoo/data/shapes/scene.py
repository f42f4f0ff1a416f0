"""Scenes of the ``shapes`` world and how they are drawn at random (integers only).

A scene is one to three objects, each in its own cell of a 3x3 board, on a coloured background.
All geometry is integer (scene units), and the random draws use numpy's PCG64 integer stream
only, so a ``(seed, split, index)`` gives the same scene on every machine.

Example:
    >>> import numpy as np
    >>> from t2izoo.data.shapes import sample_scene
    >>> scene = sample_scene(np.random.Generator(np.random.PCG64(0)))
    >>> 1 <= len(scene.objects) <= 3
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .vocab import CELL, GRID, SHAPES_VOCAB, ShapesVocabulary

__all__ = ["ShapeObject", "Scene", "sample_scene", "scene_rng", "allowed_pairs", "SPLIT_CODES"]

# Splits draw from disjoint random streams; the compositional split also changes the rules.
SPLIT_CODES = {"train": 0, "test": 1, "compositional": 2}
_MARGIN = 24  # scene units kept free at each cell border


@dataclass(frozen=True)
class ShapeObject:
    """One object: attribute names plus its centre (scene units)."""

    shape: str
    colour: str
    size: str
    texture: str
    cell: int  # 0..8, row-major on the 3x3 board
    x: int
    y: int

    @property
    def position(self) -> str:
        return SHAPES_VOCAB.positions[self.cell]

    @property
    def row(self) -> int:
        return self.cell // GRID

    @property
    def col(self) -> int:
        return self.cell % GRID


@dataclass(frozen=True)
class Scene:
    """Objects (drawn in order) on a background."""

    objects: tuple[ShapeObject, ...]
    background: str

    def relations(self) -> list[tuple[int, str, int]]:
        """Every true ``(i, relation, j)`` for ``i != j``: "object i is <relation> object j"."""
        out = []
        for i, a in enumerate(self.objects):
            for j, b in enumerate(self.objects):
                if i == j:
                    continue
                if a.col < b.col:
                    out.append((i, "left of", j))
                elif a.col > b.col:
                    out.append((i, "right of", j))
                if a.row < b.row:
                    out.append((i, "above", j))
                elif a.row > b.row:
                    out.append((i, "below", j))
        return out

    def attributes(self, vocab: ShapesVocabulary = SHAPES_VOCAB) -> dict[str, Any]:
        """Structured ground truth: names and ids of every attribute, plus the relations."""
        objects = []
        for obj in self.objects:
            d: dict[str, Any] = {
                "shape": obj.shape, "colour": obj.colour, "size": obj.size, "texture": obj.texture,
                "cell": obj.cell, "x": obj.x, "y": obj.y, "position": obj.position,
            }
            for key, names in vocab.fields().items():
                d[key + "_id"] = names.index(d[key])
            objects.append(d)
        return {
            "background": self.background,
            "background_id": vocab.backgrounds.index(self.background),
            "objects": objects,
            "relations": [list(r) for r in self.relations()],
        }


def scene_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The per-sample random stream: PCG64 seeded from ``(seed, split, index)``."""
    if split not in SPLIT_CODES:
        raise ValueError(f"shapes: unknown split {split!r}; expected one of {sorted(SPLIT_CODES)}")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(seed), SPLIT_CODES[split], int(index)])))


_PAIRS: dict[int, tuple[ShapesVocabulary, list[tuple[str, str]], list[tuple[str, str]]]] = {}


def _pairs(vocab: ShapesVocabulary) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(seen, held-out) (shape, colour) pairs, cached per vocabulary object."""
    cached = _PAIRS.get(id(vocab))
    if cached is None or cached[0] is not vocab:
        held = vocab.heldout_pairs
        all_pairs = [(s, c) for s in vocab.shapes for c in vocab.colours]
        cached = (vocab, [p for p in all_pairs if p not in held], [p for p in all_pairs if p in held])
        _PAIRS[id(vocab)] = cached
    return cached[1], cached[2]


def allowed_pairs(vocab: ShapesVocabulary = SHAPES_VOCAB, *, compositional: bool = False) -> list[tuple[str, str]]:
    """The (shape, colour) pairs a split may use: the seen ones, plus the held-out ones in ``compositional``."""
    seen, unseen = _pairs(vocab)
    return seen + unseen if compositional else list(seen)


def sample_scene(
    rng: np.random.Generator,
    vocab: ShapesVocabulary = SHAPES_VOCAB,
    *,
    compositional: bool = False,
    min_objects: int = 1,
    max_objects: int = 3,
) -> Scene:
    """Draw one scene.

    Outside the compositional split no object uses a held-out (shape, colour) pair; in it the
    first object always does (the others may or may not), so the split tests unseen pairs.
    """
    if not 1 <= min_objects <= max_objects <= GRID * GRID:
        raise ValueError(f"shapes: need 1 <= min_objects <= max_objects <= 9, got {min_objects}, {max_objects}")
    seen, unseen = _pairs(vocab)
    # every choice comes from one vector of 30-bit draws (value % n): one numpy call per scene
    draws = rng.integers(0, 1 << 30, size=2 + 5 * max_objects).tolist()
    n = min_objects + draws[0] % (max_objects - min_objects + 1)
    background = vocab.backgrounds[draws[1] % len(vocab.backgrounds)]
    cells = rng.permutation(GRID * GRID)[:n].tolist()
    objects = []
    for k, cell in enumerate(cells):
        d = draws[2 + 5 * k: 7 + 5 * k]
        if compositional and k == 0:
            shape, colour = unseen[d[0] % len(unseen)]
        elif compositional:
            shape, colour = (seen + unseen)[d[0] % (len(seen) + len(unseen))]
        else:
            shape, colour = seen[d[0] % len(seen)]
        size = vocab.sizes[d[1] % len(vocab.sizes)]
        texture = vocab.textures[d[2] % len(vocab.textures)]
        # jitter inside the cell so that the object never crosses its border
        slack = CELL // 2 - vocab.size_radius[size] - _MARGIN
        row, col = divmod(cell, GRID)
        x = col * CELL + CELL // 2 + d[3] % (2 * slack + 1) - slack
        y = row * CELL + CELL // 2 + d[4] % (2 * slack + 1) - slack
        objects.append(ShapeObject(shape, colour, size, texture, int(cell), x, y))
    return Scene(tuple(objects), background)
