"""A JSONL manifest: one JSON object per line naming an image and its caption(s).

Each line: ``{"image": "path", "caption": "..."}`` or ``{"image": ..., "captions": [...]}``,
optionally ``"class_id"``, ``"key"``, ``"split"`` and ``"attributes"``. Relative image paths are
resolved against the manifest's folder (or ``image_root``). Blank lines are ignored.

Example:
    >>> from t2izoo.data import JSONLDataset
    >>> ds = JSONLDataset("data/manifest.jsonl", split="train")   # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from .base import DEFAULT_RESOLUTIONS, CaptionedImageDataset, Record
from .errors import DataError, Problems, clean_caption

__all__ = ["JSONLDataset"]


class JSONLDataset(CaptionedImageDataset):
    """Images listed in a JSONL manifest.

    Args:
        manifest: the ``.jsonl`` file.
        split: keep only lines whose ``"split"`` equals this (lines without one are kept).
        image_root: base folder for relative image paths (default: the manifest's folder).
        on_error, non_ascii: bad-input policy (see `t2izoo.data.errors`).
    """

    def __init__(
        self,
        manifest: str | Path,
        split: str | None = None,
        resolutions: Sequence[int] = DEFAULT_RESOLUTIONS,
        *,
        image_root: str | Path | None = None,
        on_error: str = "raise",
        non_ascii: str = "error",
        crop: str = "center",
    ) -> None:
        self.manifest = Path(manifest)
        if not self.manifest.is_file():
            raise DataError(self.manifest, "manifest file is missing")
        root = Path(image_root) if image_root is not None else self.manifest.parent
        problems = Problems(f"jsonl:{self.manifest.name}", on_error)
        records: list[Record] = []
        lines = self.manifest.read_text(encoding="utf-8").splitlines()
        for n, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"{self.manifest}:{n}"
            try:
                item = json.loads(line)
            except json.JSONDecodeError as err:
                raise DataError(where, f"not valid JSON ({err.msg})") from err  # a broken manifest is never skipped
            if not isinstance(item, dict) or "image" not in item or not ("caption" in item or "captions" in item):
                raise DataError(where, "each line needs 'image' and 'caption' (or 'captions')")
            if split is not None and item.get("split", split) != split:
                continue
            try:
                texts = item["captions"] if "captions" in item else [item["caption"]]
                if isinstance(texts, str) or not isinstance(texts, list) or not texts:
                    raise DataError(where, "'captions' must be a non-empty list of strings", kind="bad captions")
                captions = [clean_caption(str(t), where, non_ascii) for t in texts]
                path = Path(item["image"])
                path = path if path.is_absolute() else root / path
                if not path.is_file():
                    raise DataError(path, f"image file is missing (manifest line {n})", kind="image file is missing")
            except DataError as err:
                problems.add_error(err)
                continue
            records.append(Record(
                path, captions, int(item.get("class_id", 0)), str(item.get("key", Path(item["image"]).stem)),
                attributes=item.get("attributes"),
            ))
        if not records and not problems.count:
            raise DataError(self.manifest, f"manifest lists no images{f' for split {split!r}' if split else ''}")
        problems.report(len(lines))
        self.problems = problems
        super().__init__(records, resolutions, on_error=on_error, name=f"jsonl:{self.manifest.name}", crop=crop)
