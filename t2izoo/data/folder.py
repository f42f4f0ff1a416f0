"""An image folder with captions beside the images: ``cat.png`` + ``cat.txt``.

Every image file (``.png .jpg .jpeg .webp .bmp``, searched recursively) needs a text file with
the same stem in the same folder, one caption per non-empty line. Images in sub-folders get the
sub-folder's index (sorted names) as their class; images at the top level are class 0.

Example:
    >>> from t2izoo.data import ImageFolderDataset
    >>> ds = ImageFolderDataset("my_pictures", resolutions=(64,), on_error="skip")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .base import DEFAULT_RESOLUTIONS, CaptionedImageDataset, Record
from .cub import read_caption_file
from .errors import DataError, Problems

__all__ = ["ImageFolderDataset", "IMAGE_SUFFIXES"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")


class ImageFolderDataset(CaptionedImageDataset):
    """Images with same-stem ``.txt`` captions.

    Args:
        root: the folder.
        split: optional sub-folder (``root/split``) when the folder has ``train``/``test`` inside.
        resolutions: square sides per item.
        on_error: ``"raise"`` or ``"skip"`` for missing caption files, empty captions, corrupt images.
        non_ascii: ``"error"``, ``"strip"`` or ``"keep"``.
    """

    def __init__(
        self,
        root: str | Path,
        split: str | None = None,
        resolutions: Sequence[int] = DEFAULT_RESOLUTIONS,
        *,
        on_error: str = "raise",
        non_ascii: str = "error",
        crop: str = "center",
    ) -> None:
        self.root = Path(root)
        base = self.root / split if split and (self.root / split).is_dir() else self.root
        if not base.is_dir():
            raise DataError(base, "folder is missing")
        images = sorted(p for p in base.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not images:
            raise DataError(base, f"no image files ({', '.join(IMAGE_SUFFIXES)}) found", "wrong folder or layout?")
        classes = sorted({p.parent.relative_to(base).parts[0] for p in images if p.parent != base})
        class_index = {name: i for i, name in enumerate(classes)}
        problems = Problems(f"folder:{base.name}", on_error)
        records = []
        for path in images:
            rel = path.relative_to(base)
            try:
                captions = read_caption_file(path.with_suffix(".txt"), None, non_ascii)
            except DataError as err:
                problems.add_error(err)
                continue
            class_id = class_index[rel.parts[0]] if len(rel.parts) > 1 else 0
            records.append(Record(path, captions, class_id, rel.with_suffix("").as_posix()))
        problems.report(len(images))
        self.problems = problems
        self.classes = classes
        super().__init__(records, resolutions, on_error=on_error, name=f"folder:{base}", crop=crop)
