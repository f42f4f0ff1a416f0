"""Anti-aliased rendering of a `Scene` with PIL, integer geometry only.

Each resolution is drawn on a canvas ``supersample`` times larger and box-filtered down
(``Image.reduce``), which is exact integer arithmetic: the same scene gives byte-identical
pixels on every machine. Textures are anchored in scene units, so a 256-px image shows stripes
and dots that the 64-px one can only blur: detail for super-resolution to recover.

Example:
    >>> from t2izoo.data.shapes import render_scene, sample_scene, scene_rng
    >>> img = render_scene(sample_scene(scene_rng(0, "train", 0)), 64)
    >>> img.size, img.mode
    ((64, 64), 'RGB')
"""

from __future__ import annotations

from PIL import Image, ImageDraw

from .scene import Scene, ShapeObject
from .vocab import SCENE_UNITS, SHAPE_OUTLINES, SHAPES_VOCAB, ShapesVocabulary

__all__ = ["render_scene", "STRIPE_PERIOD", "DOT_PERIOD"]

STRIPE_PERIOD = 192  # scene units: 4 px at 64 px, 16 px at 256 px
DOT_PERIOD = 192
DOT_RADIUS = 52
_CIRCLE_RADIUS = 900  # per mille of the object radius: a circle of equal visual weight


def _shade(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """A contrasting shade of the same hue for stripes and dots: darker on light colours."""
    luminance = (299 * rgb[0] + 587 * rgb[1] + 114 * rgb[2]) // 1000
    if luminance > 140:
        return (rgb[0] * 45 // 100, rgb[1] * 45 // 100, rgb[2] * 45 // 100)
    return tuple(c + (255 - c) * 60 // 100 for c in rgb)  # type: ignore[return-value]


def _draw_object(img: Image.Image, obj: ShapeObject, vocab: ShapesVocabulary) -> None:
    side = img.size[0]

    def px(units: int) -> int:  # scene units -> canvas pixels (floor, exact)
        return units * side // SCENE_UNITS

    radius = vocab.size_radius[obj.size]
    x0, y0 = px(obj.x - radius) - 1, px(obj.y - radius) - 1
    x1, y1 = px(obj.x + radius) + 2, px(obj.y + radius) + 2
    w, h = x1 - x0, y1 - y0

    mask = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(mask)
    if obj.shape == "circle":
        r = radius * _CIRCLE_RADIUS // 1000
        draw.ellipse((px(obj.x - r) - x0, px(obj.y - r) - y0, px(obj.x + r) - x0, px(obj.y + r) - y0), fill=255)
    else:
        points = [
            ((obj.x * 1000 + vx * radius) * side // (SCENE_UNITS * 1000) - x0,
             (obj.y * 1000 + vy * radius) * side // (SCENE_UNITS * 1000) - y0)
            for vx, vy in SHAPE_OUTLINES[obj.shape]
        ]
        draw.polygon(points, fill=255)

    colour = vocab.colour_rgb[obj.colour]
    layer = Image.new("RGB", (w, h), colour)
    if obj.texture != "plain":
        pattern = ImageDraw.Draw(layer)
        shade = _shade(colour)
        if obj.texture == "striped":
            # diagonal bands {u + v in [k P, k P + P/2)} anchored at the scene origin
            lo = (obj.x + obj.y - 2 * radius) // STRIPE_PERIOD - 1
            hi = (obj.x + obj.y + 2 * radius) // STRIPE_PERIOD + 1
            for k in range(lo, hi + 1):
                a = px(k * STRIPE_PERIOD) - x0 - y0
                b = px(k * STRIPE_PERIOD + STRIPE_PERIOD // 2) - x0 - y0
                pattern.polygon([(a + 1, -1), (b + 1, -1), (b - h - 1, h + 1), (a - h - 1, h + 1)], fill=shade)
        else:  # dotted: a square lattice of discs
            for gy in range((obj.y - radius) // DOT_PERIOD, (obj.y + radius) // DOT_PERIOD + 1):
                for gx in range((obj.x - radius) // DOT_PERIOD, (obj.x + radius) // DOT_PERIOD + 1):
                    cx, cy = gx * DOT_PERIOD + DOT_PERIOD // 2, gy * DOT_PERIOD + DOT_PERIOD // 2
                    pattern.ellipse(
                        (px(cx - DOT_RADIUS) - x0, px(cy - DOT_RADIUS) - y0,
                         px(cx + DOT_RADIUS) - x0, px(cy + DOT_RADIUS) - y0),
                        fill=shade,
                    )
    img.paste(layer, (x0, y0), mask)


def render_scene(
    scene: Scene, size: int, supersample: int = 4, vocab: ShapesVocabulary = SHAPES_VOCAB
) -> Image.Image:
    """Draw ``scene`` as a ``size`` x ``size`` RGB image, anti-aliased by ``supersample``.

    Args:
        scene: what to draw.
        size: output side in pixels.
        supersample: draw at ``size * supersample`` and box-filter down (1 = aliased).
    """
    if size < 8 or supersample < 1:
        raise ValueError(f"render_scene: need size >= 8 and supersample >= 1, got {size}, {supersample}")
    canvas = Image.new("RGB", (size * supersample, size * supersample), vocab.background_rgb[scene.background])
    for obj in scene.objects:
        _draw_object(canvas, obj, vocab)
    return canvas.reduce(supersample) if supersample > 1 else canvas
