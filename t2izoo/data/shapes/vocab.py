"""The attribute vocabulary of the ``shapes`` world, with integer ids for classifiers.

Everything here is plain data (no torch), so evaluators and captions share one source of truth.

Example:
    >>> from t2izoo.data.shapes import SHAPES_VOCAB as V
    >>> V.shapes[:3], len(V.colours)
    (('circle', 'square', 'triangle'), 10)
    >>> V.class_id("circle", "red"), V.class_name(0)
    (0, 'red circle')
    >>> ("circle", "red") in V.heldout_pairs      # only in the compositional split
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["ShapesVocabulary", "SHAPES_VOCAB", "SCENE_UNITS", "GRID"]

# Scenes live on an integer canvas of SCENE_UNITS x SCENE_UNITS, split into a GRID x GRID board
# of cells; one object per cell keeps every relation word unambiguous and objects apart.
SCENE_UNITS = 3072
GRID = 3
CELL = SCENE_UNITS // GRID

# Unit outlines: integer vertices on a radius of 1000, precomputed so that rendering never
# depends on a platform's sin/cos.
SHAPE_OUTLINES: dict[str, tuple[tuple[int, int], ...]] = {
    "square": ((-780, -780), (780, -780), (780, 780), (-780, 780)),
    "triangle": ((0, -800), (920, 740), (-920, 740)),
    "diamond": ((0, -1000), (720, 0), (0, 1000), (-720, 0)),
    "pentagon": ((0, -950), (951, -259), (588, 859), (-588, 859), (-951, -259)),
    "hexagon": ((1000, 0), (500, 866), (-500, 866), (-1000, 0), (-500, -866), (500, -866)),
    "star": (
        (0, -1000), (247, -340), (951, -309), (399, 130), (588, 809),
        (0, 420), (-588, 809), (-399, 130), (-951, -309), (-247, -340),
    ),
    "cross": (
        (-320, -900), (320, -900), (320, -320), (900, -320), (900, 320), (320, 320),
        (320, 900), (-320, 900), (-320, 320), (-900, 320), (-900, -320), (-320, -320),
    ),
}


@dataclass(frozen=True)
class ShapesVocabulary:
    """Attribute names (tuples give the integer ids) and the fixed rules of the world.

    Attributes:
        shapes, colours, sizes, textures, backgrounds, positions, relations: names in id order.
        colour_rgb, background_rgb: name -> (r, g, b).
        size_radius: name -> radius in scene units.
        heldout_pairs: (shape, colour) pairs that never occur in ``train``/``test`` and are
            the subject of the ``compositional`` split.
    """

    shapes: tuple[str, ...] = ("circle", "square", "triangle", "diamond", "pentagon", "hexagon", "star", "cross")
    colours: tuple[str, ...] = (
        "red", "orange", "yellow", "green", "cyan", "blue", "purple", "pink", "brown", "gray",
    )
    sizes: tuple[str, ...] = ("small", "large")
    textures: tuple[str, ...] = ("plain", "striped", "dotted")
    backgrounds: tuple[str, ...] = ("white", "black", "beige", "navy")
    positions: tuple[str, ...] = (
        "top left", "top", "top right", "left", "center", "right", "bottom left", "bottom", "bottom right",
    )
    relations: tuple[str, ...] = ("left of", "right of", "above", "below")
    colour_rgb: dict[str, tuple[int, int, int]] = field(
        default_factory=lambda: {
            "red": (220, 30, 40), "orange": (245, 140, 20), "yellow": (245, 215, 30),
            "green": (40, 170, 60), "cyan": (30, 200, 210), "blue": (40, 80, 220),
            "purple": (135, 50, 180), "pink": (245, 120, 180), "brown": (130, 80, 40),
            "gray": (128, 128, 128),
        }
    )
    background_rgb: dict[str, tuple[int, int, int]] = field(
        default_factory=lambda: {
            "white": (250, 250, 250), "black": (12, 12, 12), "beige": (232, 218, 186),
            "navy": (20, 28, 72),
        }
    )
    size_radius: dict[str, int] = field(default_factory=lambda: {"small": 270, "large": 440})

    @property
    def heldout_pairs(self) -> frozenset[tuple[str, str]]:
        # colour (3*shape) mod 10 gives every shape exactly one held-out colour and never the
        # same colour twice, so every shape and every colour still occurs in train.
        n = len(self.colours)
        return frozenset(
            (s, self.colours[(-3 * i) % n]) for i, s in enumerate(self.shapes)
        )

    @property
    def num_classes(self) -> int:
        return len(self.shapes) * len(self.colours)

    def class_id(self, shape: str, colour: str) -> int:
        """Class of a (shape, colour) combination: ``shape_id * len(colours) + colour_id``."""
        return self.shapes.index(shape) * len(self.colours) + self.colours.index(colour)

    def class_name(self, class_id: int) -> str:
        shape, colour = divmod(int(class_id), len(self.colours))
        return f"{self.colours[colour]} {self.shapes[shape]}"

    def fields(self) -> dict[str, tuple[str, ...]]:
        """Per-object attribute fields and their names (id = index), in `encode` column order."""
        return {
            "shape": self.shapes,
            "colour": self.colours,
            "size": self.sizes,
            "texture": self.textures,
            "position": self.positions,
        }

    def words(self) -> list[str]:
        """Every word an attribute name uses (for a tokenizer's vocabulary check)."""
        names = [*self.shapes, *self.colours, *self.sizes, *self.textures, *self.backgrounds,
                 *self.positions, *self.relations]
        return sorted({w for name in names for w in name.split()})

    def encode(self, attributes: dict[str, Any], max_objects: int = 3) -> list[list[int]]:
        """Attributes of one scene -> ``max_objects`` rows of ``[shape, colour, size, texture,
        position]`` ids; rows of absent objects are ``-1``.

        Example:
            >>> SHAPES_VOCAB.encode({"objects": [{"shape": "star", "colour": "red", "size": "small",
            ...     "texture": "plain", "position": "center"}]}, max_objects=2)
            [[6, 0, 0, 0, 4], [-1, -1, -1, -1, -1]]
        """
        fields = self.fields()
        rows = []
        for obj in attributes["objects"][:max_objects]:
            rows.append([names.index(obj[key]) for key, names in fields.items()])
        rows += [[-1] * len(fields)] * (max_objects - len(rows))
        return rows

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able description (what ``t2izoo data info shapes`` prints)."""
        return {
            **{k + "s" if not k.endswith("s") else k: list(v) for k, v in self.fields().items()},
            "backgrounds": list(self.backgrounds),
            "relations": list(self.relations),
            "heldout_pairs": sorted(" ".join(reversed(p)) for p in self.heldout_pairs),
            "num_classes": self.num_classes,
        }


SHAPES_VOCAB = ShapesVocabulary()
