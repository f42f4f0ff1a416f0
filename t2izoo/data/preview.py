"""A grid of images with their captions written underneath (what ``t2izoo data preview`` saves).

Example:
    >>> from t2izoo.data import load_dataset, caption_grid
    >>> ds = load_dataset("shapes", size=8, resolutions=(128,))
    >>> grid = caption_grid([ds[i] for i in range(8)], columns=4)
    >>> grid.size[0]
    1064
"""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

from .base import tensor_to_pil
from .batch import Sample

__all__ = ["caption_grid", "wrap_text"]


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)  # Pillow's bundled TrueType font (needs FreeType)
    except (TypeError, OSError):  # older Pillow or no FreeType: the bitmap font
        return ImageFont.load_default()


def wrap_text(text: str, font: ImageFont.ImageFont | ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Greedy word wrap to ``width`` pixels."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if font.getlength(trial) <= width or not current:
            current = trial
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


def caption_grid(
    items: Sequence[Sample | tuple[Image.Image, str]],
    columns: int = 4,
    *,
    cell: int = 256,
    resolution: int | None = None,
    font_size: int = 14,
    max_lines: int = 6,
    padding: int = 8,
) -> Image.Image:
    """Lay images out in a grid, each with its caption wrapped underneath.

    Args:
        items: `Sample` objects (the largest resolution, or ``resolution``, and the chosen
            caption are shown) or ``(PIL image, caption)`` pairs.
        columns: images per row.
        cell: side each image is shown at (nearest-neighbour scaling keeps pixels honest).
        font_size: caption text size in pixels.
        max_lines: captions longer than this are cut with an ellipsis.
    """
    if not items:
        raise ValueError("caption_grid: no items to show")
    pairs: list[tuple[Image.Image, str]] = []
    for item in items:
        if isinstance(item, Sample):
            res = resolution if resolution is not None else max(item.images)
            pairs.append((tensor_to_pil(item.images[res]), item.caption))
        else:
            pairs.append((item[0], item[1]))
    font = _font(font_size)
    line_h = int(font_size * 1.3)
    wrapped = []
    for _, caption in pairs:
        lines = wrap_text(caption, font, cell - 2)
        if len(lines) > max_lines:
            lines = lines[: max_lines - 1] + [lines[max_lines - 1] + " ..."]
        wrapped.append(lines)
    text_h = line_h * max(len(lines) for lines in wrapped) + padding
    columns = max(1, min(columns, len(pairs)))
    rows = (len(pairs) + columns - 1) // columns
    cw, ch = cell + padding, cell + text_h + padding
    grid = Image.new("RGB", (columns * cw + padding, rows * ch + padding), (255, 255, 255))
    draw = ImageDraw.Draw(grid)
    for k, ((image, _), lines) in enumerate(zip(pairs, wrapped)):
        x, y = padding + (k % columns) * cw, padding + (k // columns) * ch
        shown = image.convert("RGB")
        if shown.size != (cell, cell):
            scale = Image.NEAREST if shown.size[0] < cell else Image.LANCZOS
            shown = shown.resize((cell, cell), scale)
        grid.paste(shown, (x, y))
        for n, line in enumerate(lines):
            draw.text((x + 1, y + cell + 4 + n * line_h), line, fill=(0, 0, 0), font=font)
    return grid
