"""`load_dataset`: one entry point for the built-in world and every on-disk layout.

Example:
    >>> from t2izoo.data import load_dataset
    >>> ds = load_dataset("shapes", split="test", size=100, resolutions=(64, 128))
    >>> ds = load_dataset("data/birds", split="train")          # AttnGAN's CUB layout, detected  # doctest: +SKIP
    >>> ds = load_dataset("pics/", format="folder", on_error="skip")                               # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import DataError

__all__ = ["load_dataset", "detect_format", "list_datasets", "dataset_class", "check_data_options", "FORMATS"]

# format -> (class path, default resolutions, what it reads)
FORMATS: dict[str, tuple[str, tuple[int, ...], str]] = {
    "shapes": ("t2izoo.data.shapes:ShapesDataset", (64, 128, 256), "built-in procedural captioned scenes"),
    "cub": ("t2izoo.data.cub:CUBDataset", (64, 128, 256), "CUB-200-2011 in AttnGAN's layout"),
    "coco": ("t2izoo.data.coco:COCOCaptionsDataset", (64, 128, 256), "COCO captions 2014/2017 JSON"),
    "fashion-mnist": ("t2izoo.data.fashion_mnist:FashionMNISTDataset", (28,), "Fashion-MNIST idx files"),
    "folder": ("t2izoo.data.folder:ImageFolderDataset", (64, 128, 256), "images with same-stem .txt captions"),
    "jsonl": ("t2izoo.data.jsonl:JSONLDataset", (64, 128, 256), "a JSONL manifest of images and captions"),
}
_ALIASES = {"birds": "cub", "cub200": "cub", "mscoco": "coco", "fashion_mnist": "fashion-mnist",
            "fmnist": "fashion-mnist", "imagefolder": "folder", "manifest": "jsonl"}


def list_datasets() -> dict[str, str]:
    """Format name -> one-line description."""
    return {name: desc for name, (_, _, desc) in FORMATS.items()}


def detect_format(path: str | Path) -> str:
    """Guess the layout of a local path; raise `DataError` listing what was looked for."""
    path = Path(path)
    if not path.exists():
        raise DataError(path, "no such file or folder")
    if path.is_file():
        if path.suffix in (".jsonl", ".ndjson"):
            return "jsonl"
        raise DataError(path, "cannot tell the data-set format of this file", "pass format=... ('jsonl')")
    if (path / "CUB_200_2011").is_dir():
        return "cub"
    if list(path.glob("annotations/captions_*.json")):
        return "coco"
    if list(path.glob("*-idx3-ubyte")) or list(path.glob("*-idx3-ubyte.gz")):
        return "fashion-mnist"
    manifests = list(path.glob("*.jsonl"))
    if len(manifests) == 1:
        return "jsonl"
    if any(p.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp", ".bmp") for p in path.rglob("*")):
        return "folder"
    raise DataError(
        path,
        "cannot detect the data-set layout (looked for CUB_200_2011/, annotations/captions_*.json, "
        "*-idx3-ubyte[.gz], one *.jsonl, image files)",
        f"pass format= one of {sorted(FORMATS)}",
    )


def _format_of(text: str, format: str | None) -> str:  # noqa: A002
    if format is None:
        fmt = "shapes" if text == "shapes" else None
        if fmt is None and _ALIASES.get(text, text) in FORMATS and not Path(text).exists():
            raise DataError(
                text, f"{text!r} names a format that needs local files",
                f"pass the folder: load_dataset('path/to/data', format={_ALIASES.get(text, text)!r})",
            )
        return fmt or detect_format(text)
    fmt = _ALIASES.get(format, format)
    if fmt not in FORMATS:
        raise ValueError(f"unknown data-set format {format!r}; choose one of {sorted(FORMATS)}")
    return fmt


def dataset_class(name_or_path: str | Path, format: str | None = None) -> type:  # noqa: A002
    """The data-set class `load_dataset` would use (to list or check its options).

    Example:
        >>> dataset_class("shapes").__name__
        'ShapesDataset'
    """
    module, cls_name = FORMATS[_format_of(str(name_or_path), format)][0].split(":")
    return getattr(importlib.import_module(module), cls_name)


def check_data_options(name_or_path: str | Path, options: Mapping[str, Any], *, reserved: Sequence[str] = ()) -> None:
    """Raise `ValueError` naming the first option the data set's class does not take.

    ``reserved`` are keyword arguments the caller sets itself (they are refused too), besides
    ``split``, ``resolutions`` and ``size``.

    Example:
        >>> check_data_options("shapes", {"max_objects": 1})
        >>> check_data_options("shapes", {"pairs": "shape"})
        Traceback (most recent call last):
        ...
        ValueError: data option 'pairs': not an option of the ShapesDataset data set; it takes [...]
    """
    import inspect

    cls = dataset_class(name_or_path)
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self", "split", "resolutions", "size", *reserved}
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise ValueError(
            f"data option {unknown[0]!r}: not an option of the {cls.__name__} data set; it takes {sorted(accepted)}"
        )


def load_dataset(
    name_or_path: str | Path,
    split: str = "train",
    resolutions: Sequence[int] | None = None,
    *,
    format: str | None = None,  # noqa: A002 - the word users know
    **opts: Any,
):  # noqa: ANN201 - a torch Dataset of Sample
    """Load a data set by name (``"shapes"``) or from a local path (layout detected or ``format=``).

    Args:
        name_or_path: ``"shapes"`` or a folder/file on disk.
        split: ``"train"``, ``"test"`` (and ``"compositional"`` for shapes).
        resolutions: square sides of the images per item (default: 64, 128, 256; 28 for
            Fashion-MNIST).
        format: force a layout: one of ``cub``, ``coco``, ``fashion-mnist``, ``folder``, ``jsonl``.
        **opts: passed to the data set class (``on_error="skip"``, ``size=``, ``seed=``, ...).

    Example:
        >>> ds = load_dataset("shapes", split="compositional", size=10, resolutions=(64,))
        >>> len(ds)
        10
    """
    text = str(name_or_path)
    fmt = _format_of(text, format)
    cls = dataset_class(text, fmt)
    default_res = FORMATS[fmt][1]
    res = tuple(default_res if resolutions is None else resolutions)
    if fmt == "shapes":
        return cls(split, resolutions=res, **opts)
    return cls(text, split, res, **opts)
