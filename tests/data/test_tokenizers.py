from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch

from t2izoo.data import (
    SHAPES_SPIECE_MODEL,
    AttnGANTokenizer,
    CLIPTokenizer,
    DataError,
    T5Tokenizer,
    get_tokenizer,
    list_tokenizers,
    train_shapes_sentencepiece,
)
from t2izoo.interfaces import Tokenizer
from t2izoo.types import TokenBatch


def test_attngan_rules():
    tok = AttnGANTokenizer(["<end>", "a", "red", "bird", "s", "wing"])
    assert tok.words("A red-bird's WING, caf\u00e9!") == ["a", "red", "bird", "s", "wing", "caf"]
    batch = tok(["A red bird", "the bird", "zebra"])
    assert batch.ids.tolist() == [[1, 2, 3], [3, 0, 0], [0, 0, 0]]
    assert batch.lengths.tolist() == [3, 1, 0] and batch.texts[1] == "the bird"
    assert tok.decode(batch.ids[0]) == "a red bird" and tok.pad_id == 0 and tok.vocab_size == 6


def test_attngan_cap_at_18_words():
    tok = AttnGANTokenizer.from_corpus([" ".join(f"w{i}" for i in range(30))], max_length=18)
    long = " ".join(f"w{i}" for i in range(30))
    assert tok([long]).ids.tolist() == [list(range(1, 19))]
    assert tok([long], max_length=5).lengths.tolist() == [5]
    rnd = AttnGANTokenizer(tok.ixtoword, max_length=18, truncation="random", seed=0)
    ids = rnd([long]).ids[0].tolist()
    assert len(ids) == 18 and ids == sorted(ids) and ids != list(range(1, 19))  # ordered random subset


def test_attngan_from_corpus_min_count_and_roundtrip(tmp_path: Path):
    tok = AttnGANTokenizer.from_corpus(["a red bird", "a blue bird", "a bird"], min_count=2)
    assert tok.ixtoword == ["<end>", "a", "bird"]
    tok.save(tmp_path / "vocab.json")
    back = get_tokenizer("attngan-words", vocab=tmp_path / "vocab.json")
    assert back.ixtoword == tok.ixtoword and torch.equal(back(["a bird"]).ids, tok(["a bird"]).ids)
    (tmp_path / "bad.json").write_text('{"type": "clip"}')
    with pytest.raises(DataError, match="bad.json: not an attngan-words tokenizer file"):
        AttnGANTokenizer.load(tmp_path / "bad.json")


def test_attngan_from_captions_pickle(tmp_path: Path):
    ixtoword = {0: "<end>", 1: "this", 2: "bird"}
    path = tmp_path / "captions.pickle"
    with open(path, "wb") as f:
        pickle.dump([[[1, 2]], [[2]], ixtoword, {w: i for i, w in ixtoword.items()}], f, protocol=2)
    tok = AttnGANTokenizer.from_captions_pickle(path, max_length=18)
    assert tok.ixtoword == ["<end>", "this", "bird"] and tok.max_length == 18
    with open(path, "wb") as f:
        pickle.dump([[], [], {0: "<end>", 1: "x"}, {"<end>": 0, "x": 5}], f, protocol=2)
    with pytest.raises(DataError, match="disagree"):
        AttnGANTokenizer.from_captions_pickle(path)


def test_clip_bpe():
    tok = get_tokenizer("clip-bpe")
    assert isinstance(tok, CLIPTokenizer) and isinstance(tok, Tokenizer) and tok.vocab_size == 49408
    batch = tok(["a red circle", "a much longer caption about a small blue star"])
    assert batch.ids.shape == (2, 77) and batch.ids[0, 0].item() == tok.sot_id
    assert batch.ids[0, batch.lengths[0] - 1].item() == tok.eot_id and batch.ids[0, batch.lengths[0]:].eq(0).all()
    assert tok.decode(batch.ids[0]) == "a red circle"
    short = tok(["one two three four five six seven"], max_length=5)
    assert short.ids.shape == (1, 5) and short.ids[0, -1].item() == tok.eot_id


def test_t5_sentencepiece_bundled_model():
    assert SHAPES_SPIECE_MODEL.is_file() and SHAPES_SPIECE_MODEL.stat().st_size < 50_000
    tok = get_tokenizer("t5-sentencepiece")
    assert isinstance(tok, T5Tokenizer) and tok.pad_id == 0 and tok.eos_id == 1
    batch = tok(["a small red circle left of a big striped star", "a star"])
    assert isinstance(batch, TokenBatch) and batch.ids.shape[0] == 2
    n = batch.lengths.tolist()
    assert batch.ids[0, n[0] - 1].item() == 1 and batch.ids[1, n[1]:].eq(0).all() and n[0] > n[1]
    assert tok.decode(batch.ids[0]) == "a small red circle left of a big striped star"
    assert tok(["a small red circle"], max_length=3).ids.shape[1] == 3
    # the shapes words are single pieces (the model was trained on shapes captions)
    assert tok(["circle"]).lengths.item() == 2


def test_train_shapes_sentencepiece_is_reproducible(tmp_path: Path):
    a = train_shapes_sentencepiece(tmp_path / "a", vocab_size=120, num_scenes=300)
    b = train_shapes_sentencepiece(tmp_path / "b", vocab_size=120, num_scenes=300)
    assert a.read_bytes() == b.read_bytes()
    tok = T5Tokenizer(a)
    assert 20 < tok.vocab_size <= 120
    with pytest.raises(DataError, match="sentencepiece model is missing"):
        T5Tokenizer(tmp_path / "nothing")


def test_factory_errors():
    assert set(list_tokenizers()) == {"attngan-words", "clip-bpe", "t5-sentencepiece"}
    with pytest.raises(ValueError, match="unknown tokenizer 'bert'"):
        get_tokenizer("bert")
    with pytest.raises(ValueError, match="exactly one of"):
        get_tokenizer("attngan-words")
    shapes_tok = get_tokenizer("attngan-words", corpus="shapes", max_length=18)
    assert {"circle", "striped", "left", "grey", "rhombus"} <= set(shapes_tok.ixtoword)
    assert shapes_tok.ixtoword[1:] == sorted(shapes_tok.ixtoword[1:])
