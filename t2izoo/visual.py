"""Pictures people look at: captioned image grids (PIL only)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

__all__ = ["captioned_grid"]


def captioned_grid(images: Sequence[Any], captions: Sequence[str] | None = None, *, columns: int | None = None,
                   cell: int | None = None, caption_lines: int = 3) -> Any:
    """Lay PIL images out in a grid with each caption written under its image.

    Example:
        >>> from PIL import Image
        >>> grid = captioned_grid([Image.new("RGB", (64, 64))] * 3, ["a", "b", "c"], columns=3)
        >>> grid.size[0]
        384
    """
    from PIL import Image, ImageDraw, ImageFont

    if not images:
        raise ValueError("captioned_grid needs at least one image")
    captions = list(captions or [""] * len(images))
    if len(captions) != len(images):
        raise ValueError(f"{len(images)} images but {len(captions)} captions")
    columns = columns or min(len(images), 8)
    side = cell or max(128, max(img.size[0] for img in images))
    font = ImageFont.load_default()
    chars = max(8, side // 7)
    line_h = 12
    text_h = caption_lines * line_h + 6 if any(captions) else 0
    rows = (len(images) + columns - 1) // columns
    grid = Image.new("RGB", (columns * side, rows * (side + text_h)), "white")
    draw = ImageDraw.Draw(grid)
    for i, (img, caption) in enumerate(zip(images, captions)):
        x, y = (i % columns) * side, (i // columns) * (side + text_h)
        grid.paste(img.convert("RGB").resize((side, side), Image.NEAREST), (x, y))
        for j, line in enumerate(textwrap.wrap(caption, chars)[:caption_lines]):
            draw.text((x + 3, y + side + 3 + j * line_h), line, fill="black", font=font)
    return grid
