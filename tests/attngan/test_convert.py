"""Checkpoint conversion: original key layouts, strict loading, and output parity with the release.

The "original" models are `reference_attngan.py`: an independent re-statement of the released
forward pass with its module names. Their state dicts are written in the pre-0.4 layout (no
``num_batches_tracked``) with the legacy serialisation, the way the released files were.
"""

from __future__ import annotations

import pickle

import pytest
import torch

import t2izoo
from t2izoo.types import TokenBatch

from .reference_attngan import (
    RefGNet,
    RefRNNEncoder,
    g_net_keys,
    legacy_state_dict,
    randomize_,
    rnn_encoder_keys,
)

t2izoo_attngan = pytest.importorskip("t2izoo_attngan")
from t2izoo_attngan.convert import (  # noqa: E402
    DAMSM_DIR,
    ConversionError,
    convert_attngan,
    infer_generator_config,
    read_checkpoint,
)

WORDS = ["<end>", "this", "bird", "is", "red", "with", "white", "wings", "and", "a", "short", "beak", "small", "blue"]


def write_captions_pickle(path, words=WORDS):
    ixtoword = dict(enumerate(words))
    wordtoix = {w: i for i, w in ixtoword.items()}
    train = [[1, 2, 3, 4], [9, 12, 13, 2]]
    with open(path, "wb") as f:
        pickle.dump([train, train[:1], ixtoword, wordtoix], f, protocol=2)
    return path


def save_legacy(state, path):
    torch.save(state, path, _use_new_zipfile_serialization=False)
    return path


@pytest.mark.parametrize("preset,ngf,r_num", [("attngan-bird", 32, 2), ("attngan-coco", 48, 3)])
def test_original_key_layout_matches_restatement_and_ours(preset, ngf, r_num):
    expected = g_net_keys(ngf, r_num=r_num)
    ref = {k: tuple(v.shape) for k, v in legacy_state_dict(RefGNet(ngf=ngf, r_num=r_num)).items()}
    assert ref == expected
    pipe = t2izoo.build(preset)
    ours = {k: tuple(v.shape) for k, v in pipe.generator.state_dict().items() if not k.endswith("num_batches_tracked")}
    assert ours == expected
    enc = {k: tuple(v.shape) for k, v in pipe.encoder.state_dict().items()}
    assert enc == rnn_encoder_keys(pipe.encoder.config.vocab_size)


@pytest.fixture
def released_files(tmp_path):
    """A tiny 'release': G (ngf 4, three stages), text encoder, captions.pickle."""
    torch.manual_seed(0)
    g = randomize_(RefGNet(ngf=4, nef=16, ncf=6, z_dim=5, branch_num=3, r_num=2), seed=1).eval()
    e = randomize_(RefRNNEncoder(len(WORDS), ninput=12, nhidden=16), seed=2).eval()
    files = {
        "generator": save_legacy(legacy_state_dict(g), tmp_path / "netG.pth"),
        "text_encoder": save_legacy(legacy_state_dict(e), tmp_path / "text_encoder.pth"),
        "captions": write_captions_pickle(tmp_path / "captions.pickle"),
    }
    return g, e, files


def test_read_checkpoint_strips_dataparallel_prefix(tmp_path):
    save_legacy({"module.ca_net.fc.weight": torch.zeros(2, 2)}, tmp_path / "x.pth")
    assert list(read_checkpoint(tmp_path / "x.pth")) == ["ca_net.fc.weight"]
    torch.save({"a": [1, 2]}, tmp_path / "bad.pth")
    with pytest.raises(ConversionError, match="state dict of tensors"):
        read_checkpoint(tmp_path / "bad.pth")


def test_infer_generator_config_reads_sizes(released_files):
    _, _, files = released_files
    cfg = infer_generator_config(read_checkpoint(files["generator"]))
    assert cfg == {"name": "attngan", "ngf": 4, "c_dim": 6, "z_dim": 5, "sentence_dim": 16,
                   "branch_num": 3, "word_dim": 16, "r_num": 2}


def _tokens(captions):
    rows = [[WORDS.index(w) for w in c.split()] for c in captions]
    width = max(map(len, rows))
    ids = torch.zeros(len(rows), width, dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
    return TokenBatch(ids=ids, lengths=torch.tensor([len(r) for r in rows]), texts=list(captions))


# sorted by decreasing length, as the original's data loader delivers them
CAPTIONS = ["this bird is red with white wings and a short beak", "a small blue bird with red wings", "a red bird"]


def _reference_outputs(g, e, tokens, z, eps):
    with torch.no_grad():
        words, sent = e(tokens.ids, tokens.lengths)
        mask = tokens.ids == 0
        mask = mask[:, : words.size(2)]
        imgs, atts, mu, logvar = g(z, sent, words, mask, eps)
    return words, sent, imgs, atts


def test_convert_then_outputs_equal_the_release_with_legacy_mask(released_files, tmp_path):
    g, e, files = released_files
    out = convert_attngan(files["generator"], files["text_encoder"], files["captions"], tmp_path / "model",
                          mask_mode="legacy")
    pipe = t2izoo.build(str(out), pretrained=out)
    assert pipe.config.generator.mask_mode == "legacy"
    tokens = _tokens(CAPTIONS)
    assert torch.equal(pipe.encoder.tokenize(CAPTIONS).ids, tokens.ids)  # vocabulary order kept
    z, eps = torch.randn(3, 5), torch.randn(3, 6)
    ref_words, ref_sent, ref_imgs, ref_atts = _reference_outputs(g, e, tokens, z, eps)
    with torch.no_grad():
        text = pipe.encoder(tokens)
        ours = pipe.generator(text, noise=z, ca_eps=eps)
    assert torch.equal(text.words, ref_words.transpose(1, 2))
    assert torch.equal(text.sentence, ref_sent)
    assert len(ours.images) == 3
    # same operations in the same order: bit-identical, not merely close
    for a, b in zip(ours.images, ref_imgs):
        assert torch.equal(a, b), float((a - b).abs().max())
    for a, b in zip(ours.attention[1:], ref_atts):
        assert torch.equal(a, b), float((a - b).abs().max())

    # the fix is real: the correct mask changes the outputs for this mixed-length batch
    fixed = t2izoo.build(str(out), pretrained=out, **{"generator.mask_mode": "correct"})
    with torch.no_grad():
        corrected = fixed.generator(text, noise=z, ca_eps=eps)
    assert torch.equal(corrected.images[0], ours.images[0])  # stage 1 has no attention
    assert not torch.allclose(corrected.images[-1], ours.images[-1], atol=1e-4)
    # ... and it leaves a single caption untouched
    with torch.no_grad():
        one_legacy = pipe.generator(text.index(slice(1, 2)), noise=z[1:2], ca_eps=eps[1:2]).images[-1]
        one_fixed = fixed.generator(text.index(slice(1, 2)), noise=z[1:2], ca_eps=eps[1:2]).images[-1]
    assert torch.equal(one_legacy, one_fixed)


def test_converted_attention_ignores_padding_in_correct_mode(released_files, tmp_path):
    _, _, files = released_files
    out = convert_attngan(files["generator"], files["text_encoder"], files["captions"], tmp_path / "model")
    pipe = t2izoo.build(str(out), pretrained=out)
    res = pipe(["a red bird", "this bird is red with white wings"], seed=0)
    att = res.attention[1]
    assert att.shape[:2] == (2, 7) and (att[0, 3:] == 0).all()


@pytest.mark.parametrize("preset,ngf,r_num", [("attngan-bird", 32, 2), ("attngan-coco", 48, 3)])
def test_convert_original_sizes_and_load_strictly_by_preset(tmp_path, preset, ngf, r_num):
    g = RefGNet(ngf=ngf, r_num=r_num)
    e = RefRNNEncoder(len(WORDS))
    gp = save_legacy(legacy_state_dict(g), tmp_path / "netG.pth")
    ep = save_legacy(legacy_state_dict(e), tmp_path / "text_encoder.pth")
    cp = write_captions_pickle(tmp_path / "captions.pickle")
    out = convert_attngan(gp, ep, cp, tmp_path / "model", preset=preset)
    pipe = t2izoo.build(preset, pretrained=out)  # strict loading
    assert pipe.config.preset == preset and pipe.encoder.vocab_size == len(WORDS)
    for key, value in legacy_state_dict(g).items():
        assert torch.equal(pipe.generator.state_dict()[key], value), key
    if preset == "attngan-coco":
        assert pipe.config.encoder.max_length == 12


def test_preset_mismatch_and_vocab_mismatch_are_named(released_files, tmp_path):
    _, _, files = released_files
    with pytest.raises(ConversionError, match="preset 'attngan-bird' says ngf=32"):
        convert_attngan(files["generator"], files["text_encoder"], files["captions"], tmp_path / "m",
                        preset="attngan-bird")
    short = write_captions_pickle(tmp_path / "short.pickle", WORDS[:-2])
    with pytest.raises(ConversionError, match="12 words but"):
        convert_attngan(files["generator"], files["text_encoder"], short, tmp_path / "m")
    g_state = read_checkpoint(files["generator"])
    g_state["h_net2.extra.weight"] = torch.zeros(1)
    bad = save_legacy(g_state, tmp_path / "bad.pth")
    with pytest.raises(ConversionError, match="unexpected: \\['h_net2.extra.weight'\\]"):
        convert_attngan(bad, files["text_encoder"], files["captions"], tmp_path / "m")


def _torchvision_cnn_encoder_state(nef=256):
    """CNN_ENCODER's keys from torchvision's Inception-v3 (the backbone the original used)."""
    import torchvision

    tv = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False)
    names = ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "Conv2d_3b_1x1", "Conv2d_4a_3x3",
             "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d",
             "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c"]
    randomize_(tv, seed=5)
    state = {f"{n}.{k}": v for n in names for k, v in getattr(tv, n).state_dict().items()}
    g = torch.Generator().manual_seed(6)
    state["emb_features.weight"] = torch.randn(nef, 768, 1, 1, generator=g) * 0.05
    state["emb_cnn_code.weight"] = torch.randn(nef, 2048, generator=g) * 0.05
    state["emb_cnn_code.bias"] = torch.zeros(nef)
    return tv.eval(), {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}


@pytest.mark.slow  # two Inception-v3 networks at 299 px (~15 s on one CPU thread)
def test_image_encoder_converts_and_matches_torchvision_forward(released_files, tmp_path):
    import torch.nn.functional as F

    from t2izoo.nn import DAMSMImageEncoder

    _, _, files = released_files
    tv, state = _torchvision_cnn_encoder_state()
    ip = save_legacy(state, tmp_path / "image_encoder.pth")
    out = convert_attngan(files["generator"], files["text_encoder"], files["captions"], tmp_path / "model",
                          image_encoder=ip)
    enc = DAMSMImageEncoder.from_pretrained(out / DAMSM_DIR).eval()
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        regions, code = enc(x)
        y = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=True)
        for name in ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "pool", "Conv2d_3b_1x1",
                     "Conv2d_4a_3x3", "pool", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b",
                     "Mixed_6c", "Mixed_6d", "Mixed_6e"]:
            y = F.max_pool2d(y, 3, 2) if name == "pool" else getattr(tv, name)(y)
        ref_regions = F.conv2d(y, state["emb_features.weight"])
        for name in ["Mixed_7a", "Mixed_7b", "Mixed_7c"]:
            y = getattr(tv, name)(y)
        ref_code = F.linear(F.avg_pool2d(y, 8).flatten(1), state["emb_cnn_code.weight"], state["emb_cnn_code.bias"])
    assert regions.shape == (1, 256, 17, 17)
    assert torch.allclose(regions, ref_regions, atol=1e-4, rtol=1e-4)
    assert torch.allclose(code, ref_code, atol=1e-4, rtol=1e-4)


def test_convert_cli(released_files, tmp_path):
    import argparse

    from t2izoo_attngan.convert import CONVERTER

    _, _, files = released_files
    parser = argparse.ArgumentParser()
    CONVERTER.add_arguments(parser)
    args = parser.parse_args([
        "--generator", str(files["generator"]), "--text-encoder", str(files["text_encoder"]),
        "--captions", str(files["captions"]), "--out", str(tmp_path / "cli"), "--mask-mode", "legacy",
    ])
    assert CONVERTER.run(args) == 0
    assert (tmp_path / "cli" / "encoder" / "vocab.json").is_file()
    assert "attngan" in __import__("t2izoo._plugins", fromlist=["converters"]).converters()
