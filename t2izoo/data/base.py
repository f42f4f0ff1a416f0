"""Shared machinery of file-based data sets: records, image decoding, multi-resolution resize.

A loader indexes its files into `Record` objects once (checking that files exist and captions
are usable) and `CaptionedImageDataset` decodes an image only when an item is asked for.

Example:
    >>> from t2izoo.data.base import CaptionedImageDataset, Record
    >>> ds = CaptionedImageDataset([Record("a.png", ["a red bird"], 0, "a")], resolutions=(64,))
    >>> ds[0].images[64].shape                                   # doctest: +SKIP
    torch.Size([3, 64, 64])
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from .batch import Sample
from .errors import DataError, check_on_error

__all__ = ["Record", "CaptionedImageDataset", "pil_to_tensor", "tensor_to_pil", "square_resize"]

DEFAULT_RESOLUTIONS = (64, 128, 256)


@dataclass
class Record:
    """One indexed item before decoding.

    Attributes:
        image: the image file.
        captions: validated captions (at least one).
        class_id: integer class.
        key: stable identifier.
        bbox: optional crop box ``(x, y, w, h)`` in pixels (CUB bounding boxes).
        attributes: optional structured ground truth.
    """

    image: Path | str
    captions: list[str]
    class_id: int
    key: str
    bbox: tuple[float, float, float, float] | None = None
    attributes: dict[str, Any] | None = None


def pil_to_tensor(image: Image.Image) -> torch.Tensor:
    """PIL image (RGB or L) -> ``[C, H, W]`` float tensor in ``[-1, 1]``."""
    array = np.asarray(image, dtype=np.uint8)
    if array.ndim == 2:
        array = array[:, :, None]
    return torch.from_numpy(array.copy()).permute(2, 0, 1).float().div_(127.5).sub_(1.0)


def tensor_to_pil(image: torch.Tensor) -> Image.Image:
    """``[C, H, W]`` tensor in ``[-1, 1]`` -> PIL image (RGB, or L for one channel)."""
    array = ((image.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    array = array.permute(1, 2, 0).cpu().numpy()
    if array.shape[2] == 1:
        return Image.fromarray(array[:, :, 0], mode="L")
    return Image.fromarray(array, mode="RGB")


def square_resize(image: Image.Image, size: int, crop: str = "center") -> Image.Image:
    """Make ``image`` a ``size`` x ``size`` square: centre crop then resize, or plain resize.

    PIL's bicubic filter widens its support when reducing, so downscaling is anti-aliased.
    """
    if crop == "center":
        w, h = image.size
        side = min(w, h)
        if w != h:
            left, top = (w - side) // 2, (h - side) // 2
            image = image.crop((left, top, left + side, top + side))
    elif crop != "none":
        raise ValueError(f"crop must be 'center' or 'none', got {crop!r}")
    if image.size != (size, size):
        image = image.resize((size, size), Image.BICUBIC)
    return image


def bbox_crop(image: Image.Image, bbox: tuple[float, float, float, float]) -> Image.Image:
    """Square crop around a ``(x, y, w, h)`` box, enlarged by 1.5x its longer side (AttnGAN's bird rule)."""
    width, height = image.size
    x, y, w, h = bbox
    r = int(np.maximum(w, h) * 0.75)
    cx, cy = int((2 * x + w) / 2), int((2 * y + h) / 2)
    y1, y2 = max(0, cy - r), min(height, cy + r)
    x1, x2 = max(0, cx - r), min(width, cx + r)
    return image.crop((x1, y1, x2, y2))


class CaptionedImageDataset(Dataset):
    """A list of `Record` objects served as `Sample` objects at several resolutions.

    Args:
        records: the indexed items.
        resolutions: square sides to produce, e.g. ``(64, 128, 256)``.
        on_error: ``"raise"`` a `DataError` naming the file when an image cannot be decoded, or
            ``"skip"``: return ``None`` (dropped and counted by `collate`) and warn.
        name: shown in messages.
        crop: ``"center"`` square crop before resizing, or ``"none"`` (stretch).
        channels: 3 (RGB) or 1 (grey).
    """

    def __init__(
        self,
        records: Sequence[Record],
        resolutions: Sequence[int] = DEFAULT_RESOLUTIONS,
        *,
        on_error: str = "raise",
        name: str = "images",
        crop: str = "center",
        channels: int = 3,
    ) -> None:
        if not resolutions:
            raise ValueError(f"{name}: resolutions must name at least one size")
        if channels not in (1, 3):
            raise ValueError(f"{name}: channels must be 1 or 3, got {channels}")
        self.records = list(records)
        self.resolutions = tuple(sorted(int(r) for r in resolutions))
        self.on_error = check_on_error(on_error)
        self.name = name
        self.crop = crop
        self.channels = channels

    def __len__(self) -> int:
        return len(self.records)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, items={len(self)}, resolutions={self.resolutions})"

    @property
    def class_count(self) -> int:
        return len({r.class_id for r in self.records})

    def load_image(self, record: Record) -> Image.Image:
        """Decode the record's image (override for in-memory formats)."""
        path = Path(record.image)
        if not path.is_file():
            raise DataError(path, "image file is missing")
        try:
            with Image.open(path) as img:
                img.load()  # force decoding here so truncated files fail with their name
                image = img.convert("RGB")
        except (OSError, ValueError, Image.DecompressionBombError) as err:
            raise DataError(path, f"cannot decode image ({type(err).__name__}: {err})") from err
        if record.bbox is not None:
            image = bbox_crop(image, record.bbox)
        return image

    def __getitem__(self, index: int) -> Sample | None:
        if not 0 <= index < len(self.records):
            raise IndexError(f"{self.name}: index {index} out of range for {len(self.records)} items")
        record = self.records[index]
        try:
            image = self.load_image(record)
        except DataError as err:
            if self.on_error == "raise":
                raise
            warnings.warn(f"{self.name}: skipping unreadable item: {err}", stacklevel=2)
            return None
        mode = "L" if self.channels == 1 else "RGB"
        if image.mode != mode:
            image = image.convert(mode)
        images = {r: pil_to_tensor(square_resize(image, r, self.crop)) for r in self.resolutions}
        return Sample(
            images=images,
            captions=list(record.captions),
            class_id=record.class_id,
            key=record.key,
            attributes=record.attributes,
        )
