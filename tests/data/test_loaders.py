from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from t2izoo.data import (
    AttnGANTokenizer,
    COCOCaptionsDataset,
    CUBDataset,
    DataError,
    FashionMNISTDataset,
    ImageFolderDataset,
    JSONLDataset,
    collate,
    detect_format,
    load_dataset,
    make_dataloader,
)

from .conftest import write_coco, write_fashion, write_image


# --- CUB (AttnGAN layout) -------------------------------------------------------------------------
def test_cub_reads_attngan_layout(cub_root: Path):
    assert detect_format(cub_root) == "cub"
    train = load_dataset(cub_root, split="train", resolutions=(32, 64))
    assert isinstance(train, CUBDataset) and len(train) == 3
    s = train[0]
    assert s.key == "001.Black_footed_Albatross/Black_Footed_Albatross_0001_796111"
    assert s.class_id == 1 and train[2].class_id == 2
    assert s.captions == ["this bird number 1 has a white belly", "a bird with grey wings, caption two of 1"]
    assert s.images[64].shape == (3, 64, 64)
    # the bbox crop (box 40x40 at (10,5), enlarged 1.5x -> 60x55 clipped) keeps mostly the red bird
    red = (s.images[64][0] > 0.5) & (s.images[64][2] < -0.5)
    assert red.float().mean() > 0.4
    test = load_dataset(cub_root, split="test", resolutions=(32,))
    assert len(test) == 1 and test[0].class_id == 2


def test_cub_without_bbox_sees_the_whole_picture(cub_root: Path):
    whole = CUBDataset(cub_root, "train", (64,), use_bbox=False)[0].images[64]
    red = (whole[0] > 0.5) & (whole[2] < -0.5)
    assert red.float().mean() < 0.5


def test_cub_tokenizer_from_captions_pickle(cub_root: Path):
    tok = CUBDataset(cub_root, "train", (32,)).tokenizer()
    assert isinstance(tok, AttnGANTokenizer) and tok.vocab_size == 7
    batch = tok(["This bird has a WHITE belly and a hat"], max_length=18)
    assert batch.ids.tolist() == [[1, 2, 3, 4, 5, 6, 4]]  # 'and', 'hat' unknown -> dropped


def test_cub_missing_caption_file(cub_root: Path):
    missing = cub_root / "text" / "002.Laysan_Albatross" / "Laysan_Albatross_0003_1033.txt"
    missing.unlink()
    with pytest.raises(DataError, match="Laysan_Albatross_0003_1033.txt: caption file is missing"):
        CUBDataset(cub_root, "train", (32,))
    with pytest.warns(UserWarning, match=r"skipped 1 .*1 x caption file is missing"):
        ds = CUBDataset(cub_root, "train", (32,), on_error="skip")
    assert len(ds) == 2 and ds.problems.summary() == {"caption file is missing": 1}


def test_cub_corrupt_image_raise_and_skip(cub_root: Path):
    bad = cub_root / "CUB_200_2011" / "images" / "001.Black_footed_Albatross" / "Black_Footed_Albatross_0002_55.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is not a jpeg")
    ds = CUBDataset(cub_root, "train", (32,))
    with pytest.raises(DataError, match="Black_Footed_Albatross_0002_55.jpg: cannot decode image"):
        ds[1]
    skipping = CUBDataset(cub_root, "train", (32,), on_error="skip")
    with pytest.warns(UserWarning, match="unreadable"):
        assert skipping[1] is None
        batch = collate([skipping[0], skipping[1], skipping[2]])
    assert len(batch) == 2 and batch.skipped == 1
    assert batch.keys == [skipping.records[0].key, skipping.records[2].key]


def test_cub_wrong_layout(tmp_path: Path):
    (tmp_path / "x").mkdir()
    with pytest.raises(DataError, match="CUB_200_2011"):
        CUBDataset(tmp_path / "x", "train")
    with pytest.raises(DataError, match="cannot detect"):
        load_dataset(tmp_path / "x")


def test_cub_non_ascii_caption(cub_root: Path):
    key = "001.Black_footed_Albatross/Black_Footed_Albatross_0001_796111"
    (cub_root / "text" / f"{key}.txt").write_text("a bird with a na\u00efve look\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"\.txt:1: non-ASCII caption"):
        CUBDataset(cub_root, "train", (32,))
    assert CUBDataset(cub_root, "train", (32,), non_ascii="strip")[0].captions == ["a bird with a nave look"]


# --- COCO ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("year", [2014, 2017])
def test_coco_years(tmp_path: Path, year: int):
    write_coco(tmp_path, year, "val", n=3)
    assert detect_format(tmp_path) == "coco"
    ds = load_dataset(tmp_path, split="test", resolutions=(32,))
    assert isinstance(ds, COCOCaptionsDataset) and ds.year == year and len(ds) == 3
    assert ds[1].captions == ["A photo number 2, take 0.", "A photo number 2, take 1."]
    assert [ds[i].class_id for i in range(3)] == [0, 1, 2]  # every image its own class
    assert ds[0].images[32].shape == (3, 32, 32)


def test_coco_bad_inputs(tmp_path: Path):
    ann = write_coco(tmp_path, 2017, "val", n=3)
    data = json.loads(ann.read_text())
    data["annotations"][0]["caption"] = "   "
    ann.write_text(json.dumps(data))
    with pytest.raises(DataError, match="annotation id 100.*empty caption"):
        COCOCaptionsDataset(tmp_path, "val", (32,))
    (tmp_path / "val2017" / "000000000002.jpg").unlink()
    with pytest.warns(UserWarning, match="1 x empty caption.*1 x image file is missing"):
        ds = COCOCaptionsDataset(tmp_path, "val", (32,), on_error="skip")
    assert len(ds) == 2 and ds[0].captions == ["A photo number 1, take 1."]
    ann.write_text("{not json")
    with pytest.raises(DataError, match="not valid JSON"):
        COCOCaptionsDataset(tmp_path, "val", (32,))


# --- Fashion-MNIST -------------------------------------------------------------------------------
@pytest.mark.parametrize("gz", [True, False])
def test_fashion_mnist_idx(tmp_path: Path, gz: bool):
    root = write_fashion(tmp_path / "fm", gz)
    assert detect_format(root) == "fashion-mnist"
    ds = load_dataset(root, split="test")
    assert isinstance(ds, FashionMNISTDataset) and len(ds) == 5
    s = ds[3]
    assert s.images[28].shape == (1, 28, 28) and s.class_id == 3
    assert s.captions[0] == "a dress" and s.attributes == {"label": "Dress", "label_id": 3}
    # pixels are the idx bytes, mapped to [-1, 1]
    assert torch.equal(((s.images[28][0] + 1) * 127.5).round().to(torch.uint8), torch.from_numpy(ds.images[3].copy()))
    rgb = FashionMNISTDataset(root, "train", (32,), channels=3)[0]
    assert rgb.images[32].shape == (3, 32, 32)


def test_fashion_mnist_bad_files(tmp_path: Path):
    root = write_fashion(tmp_path / "fm", gz=False)
    (root / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x09abc")
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte: idx data has 3 bytes"):
        FashionMNISTDataset(root, "test")
    (root / "t10k-labels-idx1-ubyte").write_bytes(b"GIF89a")
    with pytest.raises(DataError, match="not an idx file"):
        FashionMNISTDataset(root, "test")
    (root / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match="idx file is missing"):
        FashionMNISTDataset(root, "test")


# --- image folder --------------------------------------------------------------------------------
def test_image_folder(tmp_path: Path):
    for cls in ("cats", "dogs"):
        for i in range(2):
            write_image(tmp_path / "pics" / cls / f"{i}.png")
            (tmp_path / "pics" / cls / f"{i}.txt").write_text(f"a {cls[:-1]} number {i}\n\nanother caption\n")
    assert detect_format(tmp_path / "pics") == "folder"
    ds = load_dataset(tmp_path / "pics", resolutions=(16,))
    assert isinstance(ds, ImageFolderDataset) and len(ds) == 4 and ds.classes == ["cats", "dogs"]
    assert [ds[i].class_id for i in range(4)] == [0, 0, 1, 1]
    assert ds[2].key == "dogs/0" and ds[2].captions == ["a dog number 0", "another caption"]


def test_image_folder_problems(tmp_path: Path):
    write_image(tmp_path / "a.png")
    (tmp_path / "a.txt").write_text("a red thing")
    write_image(tmp_path / "b.png")  # no b.txt
    write_image(tmp_path / "c.png")
    (tmp_path / "c.txt").write_text("\n  \n")
    with pytest.raises(DataError, match=r"b\.txt: caption file is missing"):
        ImageFolderDataset(tmp_path, resolutions=(16,))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = ImageFolderDataset(tmp_path, resolutions=(16,), on_error="skip")
    assert len(ds) == 1 and ds.problems.count == 2
    assert "skipped 2" in str(caught[0].message)
    (tmp_path / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    with pytest.warns(UserWarning, match=r"a\.png: cannot decode image"):
        assert ds[0] is None
    (tmp_path / "b.png").unlink()
    (tmp_path / "c.png").unlink()
    with pytest.raises(DataError, match=r"a\.png: cannot decode image"):
        ImageFolderDataset(tmp_path, resolutions=(16,))[0]


# --- JSONL manifest ------------------------------------------------------------------------------
def test_jsonl_manifest(tmp_path: Path):
    write_image(tmp_path / "img" / "x.png")
    write_image(tmp_path / "img" / "y.png", colour=(0, 0, 200))
    lines = [
        {"image": "img/x.png", "caption": "a red square", "class_id": 4, "split": "train"},
        {"image": "img/y.png", "captions": ["a blue square", "blue"], "split": "test", "key": "why"},
        {"image": "img/x.png", "caption": "no split given"},
    ]
    manifest = tmp_path / "data.jsonl"
    manifest.write_text("\n".join(json.dumps(x) for x in lines) + "\n\n")
    assert detect_format(manifest) == "jsonl" and detect_format(tmp_path) == "jsonl"
    train = load_dataset(manifest, split="train", resolutions=(16,))
    assert isinstance(train, JSONLDataset) and len(train) == 2 and train[0].class_id == 4
    test = load_dataset(manifest, split="test", resolutions=(16,))
    assert len(test) == 2 and test[0].key == "why" and test[0].captions == ["a blue square", "blue"]
    assert test[0].images[16][2].mean() > test[0].images[16][0].mean()  # blue image


def test_jsonl_errors_name_the_line(tmp_path: Path):
    manifest = tmp_path / "m.jsonl"
    manifest.write_text('{"image": "gone.png", "caption": "x"}\n{"image": "z.png"}\n')
    with pytest.raises(DataError, match=r"gone\.png: image file is missing \(manifest line 1\)"):
        JSONLDataset(manifest)
    manifest.write_text('{"image": "a.png", "caption": "x"}\n{"image": "z.png"}\n')
    write_image(tmp_path / "a.png")
    with pytest.raises(DataError, match=r"m\.jsonl:2: each line needs 'image' and 'caption'"):
        JSONLDataset(manifest, on_error="skip")
    manifest.write_text('{"image": "a.png", "caption": "caf\u00e9"}\n')
    with pytest.raises(DataError, match=r"m\.jsonl:1: non-ASCII caption"):
        JSONLDataset(manifest)


def test_real_loader_through_make_dataloader(cub_root: Path):
    ds = CUBDataset(cub_root, "train", (32,))
    tok = ds.tokenizer()
    batches = list(make_dataloader(ds, 2, shuffle=True, seed=0, tokenizer=tok, drop_last=False))
    assert [len(b) for b in batches] == [2, 1]
    assert batches[0].tokens.ids.shape[0] == 2 and batches[0].class_ids.dtype == torch.long
    assert sorted(k for b in batches for k in b.keys) == sorted(r.key for r in ds.records)
    assert np.isfinite(batches[0].images[32].numpy()).all()
