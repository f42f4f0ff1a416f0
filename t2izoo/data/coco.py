"""COCO captions, 2014 or 2017, from the official JSON annotations.

Expected under ``root``::

    annotations/captions_train2014.json   (or captions_val2014.json, captions_train2017.json, ...)
    train2014/COCO_train2014_000000000009.jpg   (2017: train2017/000000000009.jpg)

The JSON holds ``images`` (``id``, ``file_name``) and ``annotations`` (``image_id``,
``caption``); an image has about five captions. COCO has no classes: as in AttnGAN, every
image is its own class (``class_id`` = its position in the split).

Example:
    >>> from t2izoo.data import COCOCaptionsDataset
    >>> ds = COCOCaptionsDataset("data/coco", split="val", year=2014)   # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from .base import DEFAULT_RESOLUTIONS, CaptionedImageDataset, Record
from .errors import DataError, Problems, clean_caption

__all__ = ["COCOCaptionsDataset", "find_coco_annotations"]

_SPLITS = {"train": "train", "val": "val", "test": "val", "validation": "val"}


def find_coco_annotations(root: Path, split: str, year: int | None) -> tuple[Path, int]:
    """Locate ``annotations/captions_<split><year>.json``; with ``year=None`` prefer 2017."""
    years = [year] if year is not None else [2017, 2014]
    for y in years:
        path = root / "annotations" / f"captions_{split}{y}.json"
        if path.is_file():
            return path, y
    wanted = ", ".join(f"annotations/captions_{split}{y}.json" for y in years)
    raise DataError(root, f"no COCO caption annotations found (looked for {wanted})",
                    "pass annotations=<file> to point at the JSON directly")


class COCOCaptionsDataset(CaptionedImageDataset):
    """COCO images with their captions.

    Args:
        root: folder holding ``annotations/`` and the image folders.
        split: ``"train"`` or ``"val"`` (``"test"`` means val, as in the usual T2I protocol).
        year: 2014 or 2017 (default: whichever is present, 2017 first).
        annotations: explicit path to a ``captions_*.json`` (overrides split/year lookup).
        image_dir: explicit image folder (default ``<root>/<split><year>``).
        on_error, non_ascii: bad-input policy (see `t2izoo.data.errors`).
    """

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        resolutions: Sequence[int] = DEFAULT_RESOLUTIONS,
        *,
        year: int | None = None,
        annotations: str | Path | None = None,
        image_dir: str | Path | None = None,
        on_error: str = "raise",
        non_ascii: str = "error",
    ) -> None:
        self.root = Path(root)
        if split not in _SPLITS:
            raise ValueError(f"coco: split must be one of {sorted(_SPLITS)}, got {split!r}")
        coco_split = _SPLITS[split]
        if annotations is None:
            ann_path, year = find_coco_annotations(self.root, coco_split, year)
        else:
            ann_path = Path(annotations)
        self.year = year
        images_root = Path(image_dir) if image_dir is not None else self.root / f"{coco_split}{year}"
        data = self._read_json(ann_path)
        problems = Problems(f"coco/{split}", on_error)
        captions: dict[int, list[str]] = {}
        for n, ann in enumerate(data["annotations"]):
            try:
                image_id, text = ann["image_id"], ann["caption"]
            except (KeyError, TypeError) as err:
                raise DataError(ann_path, f"annotation #{n} lacks 'image_id' or 'caption': {ann!r}") from err
            try:
                captions.setdefault(int(image_id), []).append(
                    clean_caption(str(text), f"{ann_path} (annotation id {ann.get('id', n)})", non_ascii)
                )
            except DataError as err:
                problems.add_error(err)  # drop this caption; the image keeps its others
        records = []
        for n, image in enumerate(sorted(data["images"], key=lambda im: im.get("id", 0))):
            try:
                image_id, file_name = int(image["id"]), str(image["file_name"])
            except (KeyError, TypeError, ValueError) as err:
                raise DataError(ann_path, f"image entry #{n} lacks 'id' or 'file_name': {image!r}") from err
            path = images_root / file_name
            if image_id not in captions:
                problems.add(ann_path, f"image {image_id} ({file_name}) has no captions", kind="image without captions")
                continue
            if not path.is_file():
                problems.add(path, "image file is missing", kind="image file is missing")
                continue
            records.append(Record(path, captions[image_id], len(records), Path(file_name).stem))
        problems.report(len(data["images"]))
        self.problems = problems
        super().__init__(records, resolutions, on_error=on_error, name=f"coco{year or ''}/{split}")

    @staticmethod
    def _read_json(path: Path) -> dict:
        if not path.is_file():
            raise DataError(path, "annotation file is missing")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise DataError(path, f"not valid JSON ({err})") from err
        if not isinstance(data, dict) or "images" not in data or "annotations" not in data:
            raise DataError(path, "not a COCO captions file: expected top-level 'images' and 'annotations'")
        return data
