"""The t5 encoder: masked-mean sentence, local folders written by save_pretrained, offline errors."""

import shutil

import pytest
import torch
from pydantic import ValidationError

import t2izoo
from t2izoo.data import SHAPES_SPIECE_MODEL

ARCH = {"d_model": 16, "d_ff": 32, "num_layers": 1, "num_heads": 2, "d_kv": 8}
TINY = {"name": "t5", "pretrained": False, "architecture": ARCH, "max_length": 16}


def test_words_are_hidden_states_and_sentence_their_masked_mean():
    torch.manual_seed(0)
    enc = t2izoo.create_component("encoder", TINY).eval()
    prompts = ["a red circle", "a big blue square left of a small green star"]
    feats = enc.encode(prompts)
    tokens = enc.tokenize(prompts)
    assert feats.words.shape == (2, tokens.ids.shape[1], 16) and feats.mask.dtype == torch.bool
    assert feats.mask[0].sum() == tokens.ids.shape[1] - tokens.lengths[0] > 0
    assert feats.words[0][feats.mask[0]].abs().sum() == 0
    n = int(tokens.lengths[0])
    alone = enc.t5(input_ids=tokens.ids[:1, :n]).last_hidden_state[0]
    torch.testing.assert_close(feats.words[0, :n], alone, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(feats.sentence[0], alone.mean(0), atol=1e-5, rtol=1e-5)
    # padding does not change a caption's features
    torch.testing.assert_close(enc.encode(prompts[:1]).sentence[0], feats.sentence[0], atol=1e-5, rtol=1e-5)
    assert enc.config.ports().outputs == {"word_dim": 16, "sentence_dim": 16, "tokenizer": "t5-sentencepiece"}


def test_frozen_t5_has_no_trainable_weights_and_stays_in_eval():
    enc = t2izoo.create_component("encoder", TINY)
    assert not any(p.requires_grad for p in enc.parameters())
    enc.train()
    assert not enc.t5.training
    free = t2izoo.create_component("encoder", {**TINY, "frozen": False})
    assert all(p.requires_grad for p in free.parameters())


def _write_checkpoint(folder):
    from transformers import T5Config, T5EncoderModel

    torch.manual_seed(3)
    model = T5EncoderModel(T5Config(vocab_size=300, dropout_rate=0.0, **ARCH)).eval()
    model.save_pretrained(folder)
    shutil.copyfile(SHAPES_SPIECE_MODEL, folder / "spiece.model")
    return model


def test_loads_a_local_folder_written_by_save_pretrained(tmp_path):
    folder = tmp_path / "my-t5"
    reference = _write_checkpoint(folder)
    cfg = {"name": "t5", "model": str(folder), "extra_ids": 0}
    assert t2izoo.build_config({"encoder": cfg, "generator": {"name": "cvae", "text_dim": 16}}).encoder.ports().outputs["sentence_dim"] == 16
    enc = t2izoo.create_component("encoder", cfg)
    tokens = enc.tokenize(["a small red circle"])
    expected = reference(input_ids=tokens.ids).last_hidden_state.mean(1)
    torch.testing.assert_close(enc(tokens).sentence, expected, atol=1e-5, rtol=1e-5)
    assert enc.spiece_file == folder / "spiece.model"


def test_local_folder_errors_name_the_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such folder"):
        t2izoo.create_component("encoder", {"name": "t5", "model": str(tmp_path / "absent")})
    folder = tmp_path / "half"
    _write_checkpoint(folder)
    (folder / "model.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="missing model.safetensors"):
        t2izoo.create_component("encoder", {"name": "t5", "model": str(folder)})
    folder2 = tmp_path / "no-tok"
    _write_checkpoint(folder2)
    (folder2 / "spiece.model").unlink()
    with pytest.raises(FileNotFoundError, match="has no spiece.model"):
        t2izoo.create_component("encoder", {"name": "t5", "model": str(folder2)})


def test_offline_hub_id_says_what_is_missing_and_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(Exception, match=r"t5.model='t5-small'.*not available.*hf download t5-small") as info:
        t2izoo.create_component("encoder", {"name": "t5", "model": "t5-small", "cache_dir": str(tmp_path)})
    assert type(info.value).__name__ == "T5WeightsError"


def test_hub_width_is_known_without_a_download_and_random_init_needs_an_architecture():
    assert t2izoo.build_config("cvae-t5-gated-coco").encoder.ports().outputs["sentence_dim"] == 512
    with pytest.raises(ValidationError, match="needs t5.architecture"):
        t2izoo.create_component("encoder", {"name": "t5", "pretrained": False})


def test_saved_pipeline_carries_the_tokenizer(tmp_path):
    torch.manual_seed(0)
    pipe = t2izoo.build({"encoder": TINY, "generator": {"name": "cvae", "text_dim": 16, "image_size": 8, "hidden": [8]}})
    pipe.save_pretrained(tmp_path / "model")
    assert (tmp_path / "model" / "encoder" / "spiece.model").read_bytes() == SHAPES_SPIECE_MODEL.read_bytes()
    again = t2izoo.build(str(tmp_path / "model"), pretrained=tmp_path / "model")
    a = pipe(["a red star"], seed=0).tensors
    torch.testing.assert_close(again(["a red star"], seed=0).tensors, a)
