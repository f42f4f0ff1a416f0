"""Writers of tiny data sets in the exact on-disk formats the loaders read."""

from __future__ import annotations

import gzip
import json
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def write_image(path: Path, size: tuple[int, int] = (40, 30), colour: tuple[int, int, int] = (200, 10, 10)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.new("RGB", size, colour)
    img.putpixel((0, 0), (0, 255, 0))  # a marker pixel so crops are checkable
    img.save(path)
    return path


@pytest.fixture
def cub_root(tmp_path: Path) -> Path:
    """AttnGAN's birds layout with 3 train and 1 test image, 2 classes, Python-2 style pickles."""
    root = tmp_path / "birds"
    keys = {
        "train": ["001.Black_footed_Albatross/Black_Footed_Albatross_0001_796111",
                  "001.Black_footed_Albatross/Black_Footed_Albatross_0002_55",
                  "002.Laysan_Albatross/Laysan_Albatross_0003_1033"],
        "test": ["002.Laysan_Albatross/Laysan_Albatross_0004_930"],
    }
    all_keys = keys["train"] + keys["test"]
    lines, boxes = [], []
    for n, key in enumerate(all_keys, start=1):
        # images 100x60 with a red box region at x 10..50, y 5..45
        img = Image.new("RGB", (100, 60), (0, 0, 255))
        img.paste((255, 0, 0), (10, 5, 50, 45))
        (root / "CUB_200_2011" / "images" / key).parent.mkdir(parents=True, exist_ok=True)
        img.save(root / "CUB_200_2011" / "images" / f"{key}.jpg", quality=95)
        lines.append(f"{n} {key}.jpg")
        boxes.append(f"{n} 10.0 5.0 40.0 40.0")
        text = root / "text" / f"{key}.txt"
        text.parent.mkdir(parents=True, exist_ok=True)
        caps = [f"this bird number {n} has a white belly", "", f"a bird with grey wings, caption two of {n}"]
        text.write_text("\n".join(caps) + "\n")
    (root / "CUB_200_2011" / "images.txt").write_text("\n".join(lines) + "\n")
    (root / "CUB_200_2011" / "bounding_boxes.txt").write_text("\n".join(boxes) + "\n")
    for split, names in keys.items():
        (root / split).mkdir(parents=True)
        with open(root / split / "filenames.pickle", "wb") as f:
            pickle.dump(names, f, protocol=2)
        with open(root / split / "class_info.pickle", "wb") as f:
            pickle.dump([int(k[:3]) for k in names], f, protocol=2)
    ixtoword = {0: "<end>", 1: "this", 2: "bird", 3: "has", 4: "a", 5: "white", 6: "belly"}
    wordtoix = {w: i for i, w in ixtoword.items()}
    with open(root / "captions.pickle", "wb") as f:
        pickle.dump([[[1, 2, 3]], [[2]], ixtoword, wordtoix], f, protocol=2)
    return root


def write_coco(root: Path, year: int, split: str = "val", n: int = 3) -> Path:
    folder = root / f"{split}{year}"
    images, annotations = [], []
    for i in range(1, n + 1):
        name = f"COCO_{split}{year}_{i:012d}.jpg" if year == 2014 else f"{i:012d}.jpg"
        write_image(folder / name, (64, 48))
        images.append({"id": i, "file_name": name, "width": 64, "height": 48})
        for k in range(2):
            annotations.append({"id": 100 * i + k, "image_id": i, "caption": f"A photo number {i}, take {k}. "})
    ann = root / "annotations" / f"captions_{split}{year}.json"
    ann.parent.mkdir(parents=True, exist_ok=True)
    ann.write_text(json.dumps({"info": {}, "licenses": [], "images": images, "annotations": annotations}))
    return ann


def write_idx(path: Path, array: np.ndarray, gz: bool) -> Path:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + b"".join(struct.pack(">I", d) for d in array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    path = path.with_name(path.name + ".gz") if gz else path
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


def write_fashion(root: Path, gz: bool, n: int = 5) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for prefix in ("train", "t10k"):
        images = rng.integers(0, 256, size=(n, 28, 28)).astype(np.uint8)
        write_idx(root / f"{prefix}-images-idx3-ubyte", images, gz)
        write_idx(root / f"{prefix}-labels-idx1-ubyte", np.arange(n) % 10, gz)
    return root
