"""Pictures written during training: sample grids and word-attention maps, with captions.

Example:
    >>> import torch
    >>> from t2izoo.training import save_sample_grid
    >>> imgs = {"stage0_32": torch.zeros(2, 3, 32, 32), "final": torch.zeros(2, 3, 64, 64)}
    >>> save_sample_grid(imgs, ["a red circle", "a blue square"], "grid.png")   # doctest: +SKIP
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["save_sample_grid", "save_attention_maps", "to_uint8"]

_CAPTION_H = 28  # pixels under each row for its caption (two short lines)
_PAD = 2


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """``[B,C,H,W]`` in ``[-1,1]`` -> ``[B,H,W,3]`` uint8 (grey images repeated to RGB)."""
    x = ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu()
    if x.shape[1] == 1:
        x = x.repeat(1, 3, 1, 1)
    return x[:, :3].permute(0, 2, 3, 1).numpy()


def _resize(images: torch.Tensor, size: int) -> torch.Tensor:
    if images.shape[-1] == size:
        return images
    return F.interpolate(images.float(), size=(size, size), mode="nearest")


def _font():
    from PIL import ImageFont

    return ImageFont.load_default()


def _caption(draw, xy: tuple[int, int], text: str, width_px: int) -> None:
    chars = max(8, width_px // 6)
    lines = textwrap.wrap(text, chars)[:2]
    draw.multiline_text(xy, "\n".join(lines), fill=(0, 0, 0), font=_font(), spacing=1)


def save_sample_grid(
    images: Mapping[str, torch.Tensor],
    captions: Sequence[str],
    path: str | Path,
    *,
    max_rows: int = 16,
) -> Path:
    """One row per caption, one column per image tensor (stages, refined, final), captioned.

    Every tensor is ``[B,C,H,W]`` in ``[-1,1]``; smaller ones are scaled up (nearest) to the
    largest so that stages line up. Returns the PNG path.
    """
    from PIL import Image, ImageDraw

    names = [k for k, v in images.items() if v.dim() == 4 and v.shape[1] in (1, 3)]
    if not names:
        raise ValueError(f"save_sample_grid: no [B,C,H,W] image tensors among {list(images)}")
    rows = min(max_rows, len(captions), *(images[k].shape[0] for k in names))
    size = max(int(images[k].shape[-1]) for k in names)
    cols = len(names)
    cell_w = size + _PAD
    width = max(cols * cell_w, 160)
    header = 12
    canvas = Image.new("RGB", (width, header + rows * (size + _CAPTION_H)), "white")
    draw = ImageDraw.Draw(canvas)
    for c, name in enumerate(names):
        draw.text((c * cell_w, 0), name[: max(4, size // 6)], fill=(90, 90, 90), font=_font())
        arr = to_uint8(_resize(images[name][:rows], size))
        for r in range(rows):
            canvas.paste(Image.fromarray(arr[r]), (c * cell_w, header + r * (size + _CAPTION_H)))
    for r in range(rows):
        _caption(draw, (0, header + r * (size + _CAPTION_H) + size + 1), captions[r], width)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path)
    return path


def _words(caption: str, count: int) -> list[str]:
    import re

    words = re.findall(r"[a-z0-9]+", caption.lower())
    return (words + [""] * count)[:count]


def save_attention_maps(
    images: torch.Tensor,
    attention: torch.Tensor,
    captions: Sequence[str],
    path: str | Path,
    *,
    max_rows: int = 8,
    max_words: int = 12,
    words: Sequence[Sequence[str]] | None = None,
) -> Path:
    """For each sample: the image, then one panel per word with its attention map over the
    image (red = attended), the word written under it; the caption under the row.

    Args:
        images: ``[B,C,H,W]`` in ``[-1,1]``.
        attention: ``[B,L,h,w]`` word-to-region attention (any non-negative scale).
        captions: one per sample.
        words: the token strings per sample; default: the caption's lower-cased words (right
            for word-level tokenizers; pass the real tokens for sub-word ones).
    """
    from PIL import Image, ImageDraw

    rows = min(max_rows, images.shape[0], attention.shape[0], len(captions))
    n_words = min(max_words, attention.shape[1])
    size = max(64, int(images.shape[-1]))
    base = to_uint8(_resize(images[:rows], size)).astype(np.float32)
    att = attention[:rows, :n_words].detach().float().cpu()
    att = F.interpolate(att, size=(size, size), mode="bilinear", align_corners=False)
    # each map scaled to [0,1] on its own: the picture shows where, not how much
    flat = att.flatten(2)
    lo, hi = flat.min(-1, keepdim=True).values, flat.max(-1, keepdim=True).values
    att = ((flat - lo) / (hi - lo).clamp(min=1e-8)).view_as(att).numpy()
    cell_w = size + _PAD
    label_h = 12
    row_h = size + label_h + _CAPTION_H
    width = (n_words + 1) * cell_w
    canvas = Image.new("RGB", (width, rows * row_h), "white")
    draw = ImageDraw.Draw(canvas)
    red = np.array([255.0, 0.0, 0.0], dtype=np.float32)
    for r in range(rows):
        y = r * row_h
        canvas.paste(Image.fromarray(base[r].astype(np.uint8)), (0, y))
        labels = list(words[r]) if words is not None else _words(captions[r], n_words)
        labels = (labels + [""] * n_words)[:n_words]
        for k in range(n_words):
            a = att[r, k][..., None]
            panel = (base[r] * 0.45 + (0.55 * a) * red + (0.55 * (1 - a)) * base[r]).clip(0, 255)
            x = (k + 1) * cell_w
            canvas.paste(Image.fromarray(panel.astype(np.uint8)), (x, y))
            draw.text((x, y + size), labels[k][: max(4, size // 6)], fill=(0, 0, 0), font=_font())
        _caption(draw, (0, y + size + label_h), captions[r], width)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path)
    return path
