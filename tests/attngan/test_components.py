"""The lstm encoder, concat-attention fusion and attngan generator as zoo components."""

from __future__ import annotations

import pytest
import torch

import t2izoo
from t2izoo.testing import check_component, make_text_features


@pytest.mark.parametrize(
    "kind,name,config",
    [
        ("encoder", "lstm", {}),
        ("fusion", "concat-attention", {}),
        ("fusion", "concat-attention", {"mask_mode": "legacy"}),
        ("generator", "attngan", {}),
        ("generator", "attngan", {"branch_num": 3, "mask_mode": "legacy"}),
        ("generator", "attngan", {"branch_num": 1}),
    ],
)
def test_conformance(kind, name, config):
    assert set(check_component(kind, name, **config).values()) == {"ok"}


def tiny_encoder(**kw):
    cfg = {"name": "lstm", "embed_dim": 8, "hidden": 8, **kw}
    torch.manual_seed(0)
    return t2izoo.create_component("encoder", cfg).eval()


def test_encoder_words_zero_at_padding_and_sentence_is_last_states():
    enc = tiny_encoder()
    captions = ["a red circle", "a large blue striped square on the left", "zzz unknown"]
    tokens = enc.tokenize(captions)
    feats = enc(tokens)
    lengths = tokens.lengths.tolist()
    assert lengths[2] == 0 and lengths[0] < lengths[1]
    assert feats.mask.tolist()[0] == [i >= lengths[0] for i in range(tokens.ids.shape[1])]
    assert (feats.words[feats.mask] == 0).all() and torch.isfinite(feats.sentence).all()
    # a caption alone, unpadded, through the plain LSTM: same words, sentence = [fwd last; bwd first]
    with torch.no_grad():
        ids = tokens.ids[0:1, : lengths[0]]
        out, (h, _) = enc.rnn(enc.encoder(ids))
    assert torch.allclose(feats.words[0, : lengths[0]], out[0], atol=1e-6)
    assert torch.allclose(feats.sentence[0], torch.cat([out[0, -1, :4], out[0, 0, 4:]]), atol=1e-6)
    assert torch.allclose(feats.sentence[0], h.transpose(0, 1).reshape(-1), atol=1e-6)


def test_encoder_max_length_and_vocabulary_errors(tmp_path):
    enc = tiny_encoder(max_length=3)
    assert enc.tokenize(["a large blue striped square on the left"]).ids.shape[1] == 3
    with pytest.raises(ValueError, match="vocab_size=5 but vocab='shapes'"):
        tiny_encoder(vocab_size=5)
    with pytest.raises(FileNotFoundError, match="neither 'shapes' nor an existing file"):
        tiny_encoder(vocab=str(tmp_path / "missing.json"))
    with pytest.raises(ValueError, match="give vocab"):
        t2izoo.create_component("encoder", {"name": "lstm", "vocab": None})


def test_encoder_vocabulary_travels_as_an_asset(tmp_path):
    from t2izoo.data import AttnGANTokenizer

    enc = tiny_encoder()
    enc.save_assets(tmp_path)
    assert AttnGANTokenizer.load(tmp_path / "vocab.json").ixtoword == enc.tokenizer.ixtoword
    blank = t2izoo.create_component(
        "encoder", {"name": "lstm", "vocab": None, "vocab_size": enc.vocab_size, "embed_dim": 8, "hidden": 8}
    )
    assert blank.tokenize(["a red circle"]).lengths.tolist() == [0]  # placeholder vocabulary
    blank.load_assets(tmp_path)
    assert torch.equal(blank.tokenize(["a red circle"]).ids, enc.tokenize(["a red circle"]).ids)
    small = t2izoo.create_component("encoder", {"name": "lstm", "vocab": None, "vocab_size": 4, "embed_dim": 8, "hidden": 8})
    with pytest.raises(ValueError, match="embedding has 4 rows"):
        small.load_assets(tmp_path)


def gen(**kw):
    cfg = {"name": "attngan", **t2izoo.get_component("generator", "attngan").config_class.tiny(), **kw}
    torch.manual_seed(0)
    return t2izoo.create_component("generator", cfg).eval()


def test_generator_stages_attention_and_extras():
    g = gen(branch_num=3)
    text = make_text_features(2, 8, 8)
    out = g(text, generator=torch.Generator().manual_seed(0))
    assert [tuple(x.shape) for x in out.images] == [(2, 3, 64, 64), (2, 3, 128, 128), (2, 3, 256, 256)]
    assert out.attention[0] is None and out.attention[2].shape == (2, 6, 128, 128)
    assert (out.attention[1][1, 4:] == 0).all()  # the second caption's padding
    assert out.images[-1].abs().max() <= 1
    assert set(out.extras) == {"mu", "logvar", "c_code"} and out.extras["mu"].shape == (2, 8)
    assert g.config.ports().outputs == {"image_size": 256, "image_channels": 3}


def test_generator_randomness_is_in_arguments():
    g = gen()
    text = make_text_features(2, 8, 8)
    z = torch.randn(2, 8)
    a = g(text, noise=z, ca_eps=torch.zeros(2, 8))
    b = g(text, noise=z, ca_eps=torch.zeros(2, 8))
    assert torch.equal(a.images[-1], b.images[-1])
    assert torch.equal(a.extras["c_code"], a.extras["mu"])  # eps = 0 -> the mean condition
    c = g(text, noise=z, ca_eps=torch.ones(2, 8))
    assert not torch.allclose(a.images[-1], c.images[-1])
    # noise first, then the CA eps, both from the given generator
    gen1 = torch.Generator().manual_seed(7)
    d = g(text, generator=gen1)
    gen2 = torch.Generator().manual_seed(7)
    z2, eps2 = torch.randn(2, 8, generator=gen2), torch.randn(2, 8, generator=gen2)
    assert torch.equal(d.images[-1], g(text, noise=z2, ca_eps=eps2).images[-1])


def test_generator_fusion_is_swappable_and_legacy_needs_a_mask_mode():
    g = gen(fusion="sentence-concat")
    assert type(g.h_net2.att).__name__ == "SentenceConcatFusion"
    out = g(make_text_features(2, 8, 8), generator=torch.Generator().manual_seed(0))
    assert out.images[-1].shape == (2, 3, 128, 128) and out.attention[1] is None
    with pytest.raises(ValueError, match="mask_mode='legacy' needs a fusion"):
        gen(fusion="sentence-concat", mask_mode="legacy")
    assert gen(mask_mode="legacy").h_net2.att.mask_mode == "legacy"


def test_fusion_doubles_channels_and_keeps_the_original_key():
    f = t2izoo.create_component("fusion", "concat-attention", channels=6, word_dim=10)
    assert f.out_channels == 12 and list(f.state_dict()) == ["conv_context.weight"]
    text = make_text_features(2, 10, 10)
    out = f(torch.randn(2, 6, 4, 4), text)
    assert out.features.shape == (2, 12, 4, 4)
    no_words = t2izoo.TextFeatures(words=None, mask=None, sentence=text.sentence)
    with pytest.raises(ValueError, match="without words"):
        f(torch.randn(2, 6, 4, 4), no_words)


@pytest.mark.parametrize("preset", ["attngan-bird", "attngan-coco", "shapes-attngan"])
def test_presets_build_and_generate_at_tiny_sizes(preset):
    overrides = {"generator.ngf": 2, "generator.z_dim": 4, "generator.c_dim": 4, "generator.r_num": 1,
                 "generator.branch_num": 2, "encoder.embed_dim": 4, "encoder.hidden": 8,
                 "generator.word_dim": 8, "generator.sentence_dim": 8}
    if preset != "shapes-attngan":
        overrides["encoder.vocab_size"] = 50  # the real vocabulary comes with converted weights
    torch.manual_seed(0)
    pipe = t2izoo.build(preset, overrides)
    out = pipe(["a small red circle", "a big blue square"], seed=0)
    assert out.tensors.shape == (2, 3, 128, 128) and len(out.stages) == 2
    card = t2izoo.load_card(preset)
    assert card.config["generator"]["name"] == "attngan"


def test_presets_keep_the_paper_sizes():
    bird, coco = t2izoo.build_config("attngan-bird"), t2izoo.build_config("attngan-coco")
    assert (bird.generator.ngf, bird.generator.r_num, bird.encoder.max_length) == (32, 2, 18)
    assert (coco.generator.ngf, coco.generator.r_num, coco.encoder.max_length) == (48, 3, 12)
    for cfg in (bird, coco):
        g = cfg.generator
        assert (g.z_dim, g.c_dim, g.word_dim, g.branch_num, g.image_size) == (100, 100, 256, 3, 256)
        assert (cfg.encoder.embed_dim, cfg.encoder.hidden) == (300, 256)


def test_port_mismatch_is_refused():
    with pytest.raises(t2izoo.PortMismatchError, match="word_dim"):
        t2izoo.build_config("shapes-attngan", {"generator.word_dim": 64})
