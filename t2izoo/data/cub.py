"""CUB-200-2011 birds in AttnGAN's layout.

Expected under ``root`` (AttnGAN's ``data/birds``)::

    CUB_200_2011/images.txt            "<id> <class>/<name>.jpg" per line
    CUB_200_2011/bounding_boxes.txt    "<id> <x> <y> <w> <h>" per line, same ids
    CUB_200_2011/images/<class>/<name>.jpg
    text/<class>/<name>.txt            one caption per line (10 per image)
    train/filenames.pickle             list of keys "<class>/<name>"
    test/filenames.pickle
    train/class_info.pickle            (optional) list of class ids, one per key
    test/class_info.pickle
    captions.pickle                    (optional) AttnGAN's vocabulary, see AttnGANTokenizer

Images are cropped to a square around the bird's box enlarged 1.5x (AttnGAN's rule), then
resized to each resolution.

Example:
    >>> from t2izoo.data import CUBDataset
    >>> ds = CUBDataset("data/birds", split="test", resolutions=(64, 128, 256))  # doctest: +SKIP
    >>> tok = ds.tokenizer()          # AttnGANTokenizer from captions.pickle    # doctest: +SKIP
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from pathlib import Path

from .base import DEFAULT_RESOLUTIONS, CaptionedImageDataset, Record
from .errors import DataError, Problems, clean_caption

__all__ = ["CUBDataset", "read_filenames_pickle", "read_caption_file"]


def _load_pickle(path: Path) -> object:
    try:
        with open(path, "rb") as f:
            # AttnGAN's pickles were written by Python 2: latin1 keeps its byte strings intact
            return pickle.load(f, encoding="latin1")
    except (OSError, pickle.UnpicklingError, EOFError, ValueError) as err:
        raise DataError(path, f"cannot read pickle ({type(err).__name__}: {err})") from err


def read_filenames_pickle(path: Path) -> list[str]:
    """AttnGAN's ``filenames.pickle``: a list of keys ``"<class>/<name>"`` (no extension)."""
    if not path.is_file():
        raise DataError(path, "filenames.pickle is missing", "expected AttnGAN's layout <root>/<split>/filenames.pickle")
    names = _load_pickle(path)
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, (str, bytes)) for n in names):
        raise DataError(path, f"expected a list of file keys, found {type(names).__name__}")
    return [n.decode() if isinstance(n, bytes) else n for n in names]


def read_caption_file(path: Path, limit: int | None, non_ascii: str) -> list[str]:
    """Captions of one image: non-empty lines, AttnGAN's '\\ufffd\\ufffd' -> ' ' repair, first ``limit``."""
    if not path.is_file():
        raise DataError(path, "caption file is missing")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise DataError(path, f"caption file is not UTF-8 ({err.reason} at byte {err.start})",
                        kind="caption file is not UTF-8") from err
    captions = []
    for n, line in enumerate(text.split("\n"), start=1):
        line = line.replace("\ufffd\ufffd", " ")
        if not line.strip():
            continue
        captions.append(clean_caption(line, f"{path}:{n}", non_ascii))
        if limit is not None and len(captions) == limit:
            break
    if not captions:
        raise DataError(path, "caption file has no captions")
    return captions


class CUBDataset(CaptionedImageDataset):
    """CUB-200-2011 with AttnGAN's splits and captions (see the module docstring for the layout).

    Args:
        root: AttnGAN's ``birds`` folder.
        split: ``"train"`` or ``"test"``.
        resolutions: square sides per item.
        captions_per_image: keep the first N captions of each file (AttnGAN: 10).
        on_error: ``"raise"`` or ``"skip"`` (count and warn) for missing/corrupt files.
        non_ascii: ``"error"``, ``"strip"`` (AttnGAN's behaviour) or ``"keep"``.
        use_bbox: crop around the bird's box (AttnGAN does).
    """

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        resolutions: Sequence[int] = DEFAULT_RESOLUTIONS,
        *,
        captions_per_image: int | None = 10,
        on_error: str = "raise",
        non_ascii: str = "error",
        use_bbox: bool = True,
    ) -> None:
        self.root = Path(root)
        if split not in ("train", "test"):
            raise ValueError(f"cub: split must be 'train' or 'test', got {split!r}")
        self.split = split
        cub = self.root / "CUB_200_2011"
        if not cub.is_dir():
            raise DataError(cub, "folder is missing", "not AttnGAN's CUB layout: expected <root>/CUB_200_2011/")
        keys = read_filenames_pickle(self.root / split / "filenames.pickle")
        class_ids = self._class_ids(len(keys))
        boxes = self._bboxes(cub) if use_bbox else {}
        problems = Problems(f"cub/{split}", on_error)
        records = []
        for key, class_id in zip(keys, class_ids):
            image = cub / "images" / f"{key}.jpg"
            try:
                if not image.is_file():
                    raise DataError(image, "image file is missing")
                if use_bbox and key not in boxes:
                    raise DataError(cub / "bounding_boxes.txt", f"no bounding box for {key!r}", kind="no bounding box")
                captions = read_caption_file(self.root / "text" / f"{key}.txt", captions_per_image, non_ascii)
            except DataError as err:
                problems.add_error(err)
                continue
            records.append(Record(image, captions, int(class_id), key, bbox=boxes.get(key)))
        problems.report(len(keys))
        self.problems = problems
        super().__init__(records, resolutions, on_error=on_error, name=f"cub/{split}")

    def _class_ids(self, n: int) -> list[int]:
        path = self.root / self.split / "class_info.pickle"
        if not path.is_file():  # AttnGAN's fallback: every image its own class
            return list(range(n))
        ids = _load_pickle(path)
        try:
            ids = [int(i) for i in ids]  # type: ignore[union-attr]
        except (TypeError, ValueError) as err:
            raise DataError(path, f"expected a list of integer class ids ({err})") from err
        if len(ids) != n:
            raise DataError(path, f"has {len(ids)} class ids but filenames.pickle lists {n} images")
        return ids

    @staticmethod
    def _bboxes(cub: Path) -> dict[str, tuple[float, float, float, float]]:
        names_path, boxes_path = cub / "images.txt", cub / "bounding_boxes.txt"
        for p in (names_path, boxes_path):
            if not p.is_file():
                raise DataError(p, "file is missing", "AttnGAN crops birds with CUB's bounding boxes; pass use_bbox=False to skip")
        names: dict[str, str] = {}
        for n, line in enumerate(names_path.read_text().splitlines(), start=1):
            if line.strip():
                parts = line.split()
                if len(parts) != 2:
                    raise DataError(f"{names_path}:{n}", f"expected '<id> <path>', found {line!r}")
                names[parts[0]] = parts[1].rsplit(".", 1)[0]
        boxes = {}
        for n, line in enumerate(boxes_path.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            parts = line.split()
            try:
                image_id, values = parts[0], tuple(int(float(v)) for v in parts[1:])
            except ValueError as err:
                raise DataError(f"{boxes_path}:{n}", f"expected '<id> <x> <y> <w> <h>', found {line!r}") from err
            if len(values) != 4 or image_id not in names:
                raise DataError(f"{boxes_path}:{n}", f"expected '<id> <x> <y> <w> <h>' with an id of images.txt, found {line!r}")
            boxes[names[image_id]] = values
        return boxes  # type: ignore[return-value]

    def tokenizer(self):  # noqa: ANN201 - returns AttnGANTokenizer (imported lazily)
        """AttnGAN's word vocabulary from ``<root>/captions.pickle``, else built from the train captions."""
        from .tokenizers import AttnGANTokenizer

        path = self.root / "captions.pickle"
        if path.is_file():
            return AttnGANTokenizer.from_captions_pickle(path)
        return AttnGANTokenizer.from_corpus([c for r in self.records for c in r.captions])
