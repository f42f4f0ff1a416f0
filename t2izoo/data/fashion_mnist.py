"""Fashion-MNIST from its idx files (gzipped or not), captioned from the label names.

Expected under ``root`` (the files as distributed)::

    train-images-idx3-ubyte[.gz]   train-labels-idx1-ubyte[.gz]
    t10k-images-idx3-ubyte[.gz]    t10k-labels-idx1-ubyte[.gz]

Images are 28x28 grey; by default items keep one channel (``channels=1``) at 28 px.

Example:
    >>> from t2izoo.data import FashionMNISTDataset
    >>> ds = FashionMNISTDataset("data/fashion", split="test")        # doctest: +SKIP
    >>> ds[0].captions[0]                                             # doctest: +SKIP
    'an ankle boot'
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from .base import CaptionedImageDataset, Record
from .errors import DataError

__all__ = ["FashionMNISTDataset", "FASHION_MNIST_LABELS", "read_idx"]

# label id -> (official name, what a caption calls it)
FASHION_MNIST_LABELS: tuple[tuple[str, str], ...] = (
    ("T-shirt/top", "t-shirt"),
    ("Trouser", "pair of trousers"),
    ("Pullover", "pullover"),
    ("Dress", "dress"),
    ("Coat", "coat"),
    ("Sandal", "sandal"),
    ("Shirt", "shirt"),
    ("Sneaker", "sneaker"),
    ("Bag", "bag"),
    ("Ankle boot", "ankle boot"),
)
_TEMPLATES = ("{a} {x}", "a photo of {a} {x}", "a grey picture of {a} {x}", "{a} {x} on a black background",
              "a small image of {a} {x}")
_PREFIX = {"train": "train", "test": "t10k", "t10k": "t10k"}
_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: Path) -> np.ndarray:
    """Read an idx file (``.gz`` or raw): magic ``00 00 <type> <ndim>``, big-endian dims, data."""
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise DataError(path, f"cannot read idx file ({type(err).__name__}: {err})") from err
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES:
        raise DataError(path, f"not an idx file (magic bytes {raw[:4].hex()})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(path, "idx header is truncated")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_DTYPES[raw[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise DataError(path, f"idx data has {len(raw) - header} bytes but its header {shape} needs {expected}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


def _find(root: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz"):
        if (root / name).is_file():
            return root / name
    raise DataError(root / stem, "idx file is missing (looked for it with and without .gz)")


class FashionMNISTDataset(CaptionedImageDataset):
    """Fashion-MNIST with captions made from the label names.

    Args:
        root: folder holding the idx files.
        split: ``"train"`` (60k) or ``"test"`` (10k).
        resolutions: sides to produce (default: the native 28).
        channels: 1 (grey, default) or 3 (grey repeated as RGB).
    """

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        resolutions: Sequence[int] = (28,),
        *,
        channels: int = 1,
        on_error: str = "raise",
    ) -> None:
        self.root = Path(root)
        if split not in _PREFIX:
            raise ValueError(f"fashion-mnist: split must be 'train' or 'test', got {split!r}")
        prefix = _PREFIX[split]
        images_path = _find(self.root, f"{prefix}-images-idx3-ubyte")
        labels_path = _find(self.root, f"{prefix}-labels-idx1-ubyte")
        self.images = read_idx(images_path)
        self.labels = read_idx(labels_path)
        if self.images.ndim != 3 or self.images.dtype != np.uint8:
            raise DataError(images_path, f"expected uint8 images [N, H, W], found {self.images.dtype} {self.images.shape}")
        if self.labels.ndim != 1 or len(self.labels) != len(self.images):
            raise DataError(labels_path, f"expected {len(self.images)} labels, found shape {self.labels.shape}")
        if len(self.labels) and int(self.labels.max()) >= len(FASHION_MNIST_LABELS):
            raise DataError(labels_path, f"label {int(self.labels.max())} is out of range 0..9")
        records = []
        for i, label in enumerate(self.labels.tolist()):
            name, noun = FASHION_MNIST_LABELS[label]
            article = "an" if noun[0] in "aeiou" else "a"
            captions = [t.format(a=article, x=noun) for t in _TEMPLATES]
            records.append(Record(f"{images_path}#{i}", captions, int(label), f"{prefix}/{i}",
                                  attributes={"label": name, "label_id": int(label)}))
        super().__init__(records, resolutions, on_error=on_error, name=f"fashion-mnist/{split}",
                         crop="none", channels=channels)

    def load_image(self, record: Record) -> Image.Image:
        index = int(str(record.image).rsplit("#", 1)[1])
        return Image.fromarray(self.images[index], mode="L")
