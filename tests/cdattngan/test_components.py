"""CD-AttnGAN's components: the lstm+clip encoder, the clip-attention fusion and L_clip."""

from __future__ import annotations

import math

import pytest
import torch

import t2izoo
from t2izoo.testing import check_component, make_text_features


@pytest.mark.parametrize(
    "kind,name,config",
    [
        ("encoder", "lstm+clip", {}),
        ("encoder", "lstm+clip", {"freeze_lstm": False}),
        ("fusion", "clip-attention", {}),
        ("fusion", "clip-attention", {"mask_mode": "legacy"}),
    ],
)
def test_conformance(kind, name, config):
    assert set(check_component(kind, name, **config).values()) == {"ok"}


def tiny_encoder(**kw):
    from t2izoo_cdattngan.configs import LSTMCLIPEncoderConfig

    torch.manual_seed(0)
    return t2izoo.create_component("encoder", {"name": "lstm+clip", **LSTMCLIPEncoderConfig.tiny(), **kw}).eval()


CAPTIONS = ["a red circle", "a large blue striped square on the left"]


def test_encoder_joins_the_clip_sentence_with_every_lstm_word():
    enc = tiny_encoder()
    tokens = enc.tokenize(CAPTIONS)
    ctx = enc.clip.context_length
    assert tokens.ids.shape[1] == ctx + int(tokens.lengths.max())
    feats = enc(tokens)
    # the towers on their own tokenisations, then the FC by hand
    lstm = enc.lstm(enc.lstm.tokenize(CAPTIONS))
    clip = enc.clip(enc.clip.tokenize(CAPTIONS))
    assert torch.equal(tokens.lengths, enc.lstm.tokenize(CAPTIONS).lengths)
    W, b = enc.proj.weight, enc.proj.bias
    for i, n in enumerate(tokens.lengths.tolist()):
        for j in range(n):
            expected = W @ torch.cat([clip.sentence[i], lstm.words[i, j]]) + b
            assert torch.allclose(feats.words[i, j], expected, atol=1e-5)
        assert (feats.words[i, n:] == 0).all()  # padding stays zero
        assert torch.allclose(feats.sentence[i], W @ torch.cat([clip.sentence[i], lstm.sentence[i]]) + b, atol=1e-5)
    assert torch.equal(feats.mask, lstm.mask)
    # the CLIP image side travels with the features (for clip-attention)
    emb = feats.image_encoder(torch.zeros(1, 3, 64, 64))
    assert emb.shape == (1, enc.config.clip_dim)


def test_encoder_freezing_and_training_modes():
    enc = tiny_encoder()
    assert not any(p.requires_grad for p in enc.lstm.parameters())
    assert not any(p.requires_grad for p in enc.clip.parameters())
    assert all(p.requires_grad for p in enc.proj.parameters())
    enc.train()
    assert not enc.lstm.training and not enc.clip.clip.training  # fixed towers: no dropout
    assert tiny_encoder(freeze_lstm=False).train().lstm.training  # a trained LSTM keeps its dropout


def test_encoder_ports_and_errors():
    cfg = t2izoo.build_config("shapes-cd-attngan").encoder
    assert cfg.ports().outputs == {
        "word_dim": 128, "sentence_dim": 128, "tokenizer": "attngan+clip-bpe", "image_embed_dim": 64,
    }
    enc = tiny_encoder()
    with pytest.raises(ValueError, match="fewer than CLIP's context"):
        enc(t2izoo.TokenBatch(torch.zeros(1, 3, dtype=torch.long), torch.tensor([1]), ["a"]))


def test_encoder_vocabulary_round_trip(tmp_path):
    enc = tiny_encoder()
    enc.save_assets(tmp_path)
    assert (tmp_path / "lstm" / "vocab.json").is_file()
    other = tiny_encoder()
    other.load_assets(tmp_path)
    assert torch.equal(other.tokenize(CAPTIONS).ids, enc.tokenize(CAPTIONS).ids)


def fusion(channels=6, word_dim=10, embed=4):
    torch.manual_seed(0)
    return t2izoo.create_component(
        "fusion", {"name": "clip-attention", "image_embed_dim": embed}, channels=channels, word_dim=word_dim
    ).eval()


def test_clip_word_weights_by_hand():
    from t2izoo_cdattngan.fusion import clip_word_weights

    words = torch.tensor([[[1.0, 2.0], [0.0, 1.0], [3.0, 0.0]]])
    image = torch.tensor([[0.5, -1.0]])
    scores = [(1 * 0.5 - 2) / 2, (0 - 1) / 2, 1.5 / 2]  # / sqrt(D_clip = 4)
    expected = torch.tensor([math.exp(s) for s in scores])
    assert torch.allclose(clip_word_weights(words, image, None, 4)[0], expected / expected.sum(), atol=1e-6)
    masked = clip_word_weights(words, image, torch.tensor([[False, False, True]]), 4)[0]
    two = expected[:2] / expected[:2].sum()
    assert torch.allclose(masked, torch.cat([two, torch.zeros(1)]), atol=1e-6)


def test_fusion_without_image_is_concat_attention():
    f = fusion()
    plain = t2izoo.create_component("fusion", "concat-attention", channels=6, word_dim=10)
    plain.load_state_dict({"conv_context.weight": f.conv_context.weight})
    text = make_text_features(2, 10, 10)
    visual = torch.randn(2, 6, 4, 4)
    a, b = f(visual, text), plain(visual, text)
    assert torch.allclose(a.features, b.features) and torch.allclose(a.attention, b.attention)


def test_fusion_reweights_region_attention_by_eq3():
    f = fusion()
    text = make_text_features(2, 10, 10)
    proj = torch.randn(3, 4, generator=torch.Generator().manual_seed(1))
    text.image_encoder = lambda img: img.mean((2, 3)) @ proj  # a stand-in CLIP image tower [B, 4]
    visual, image = torch.randn(2, 6, 4, 4), torch.rand(2, 3, 8, 8) * 2 - 1
    out = f(visual, text, image=image)
    base = f(visual, text)  # beta: the unguided region-to-word attention
    A = torch.softmax(
        (text.words @ f.align(text.image_encoder(image))[..., None]).squeeze(-1) / 2.0
        + torch.where(text.mask, float("-inf"), 0.0), -1,
    )
    guided = base.attention * A[:, :, None, None]
    guided = guided / guided.sum(1, keepdim=True)
    assert torch.allclose(out.attention, guided, atol=1e-6)
    assert torch.allclose(out.attention.sum(1), torch.ones(2, 4, 4), atol=1e-5)
    assert (out.attention[1, -2:] == 0).all()  # padding never attended
    words = f.conv_context(text.words.transpose(1, 2).unsqueeze(3)).squeeze(3)
    context = torch.einsum("bcl,blhw->bchw", words, guided)
    assert torch.allclose(out.features[:, 6:], context, atol=1e-5)
    assert not torch.allclose(out.features, base.features)  # the image changes the fusion


def test_fusion_errors_name_the_fix():
    f = fusion()
    text = make_text_features(2, 10, 10)
    with pytest.raises(ValueError, match="encoder 'lstm\\+clip'"):
        f(torch.randn(2, 6, 4, 4), text, image=torch.zeros(2, 3, 8, 8))
    text.image_encoder = lambda img: torch.zeros(img.shape[0], 7)
    with pytest.raises(ValueError, match="image_embed_dim=7"):
        f(torch.randn(2, 6, 4, 4), text, image=torch.zeros(2, 3, 8, 8))


def test_text_features_keep_the_image_encoder_through_moves_and_indexing():
    text = make_text_features(3, 4, 4)
    text.image_encoder = len
    assert text.to("cpu", torch.float64).image_encoder is len
    assert text.index(torch.tensor([0, 2])).image_encoder is len


def test_clip_loss_matches_a_hand_computation():
    from t2izoo_cdattngan.losses import clip_contrastive_loss

    img = torch.tensor([[1.0, 0.0], [0.6, 0.8], [0.0, 2.0]])
    txt = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    tau = 0.5
    unit = lambda v: v / v.norm()  # noqa: E731
    total = 0.0
    for i in range(3):
        sims = [float(unit(img[j]) @ unit(txt[i])) / tau for j in range(3)]
        total += -(sims[i] - math.log(sum(math.exp(s) for s in sims)))
    assert abs(float(clip_contrastive_loss(img, txt, tau)) - total / 3) < 1e-5
    # matched pairs score lower than shuffled ones
    assert clip_contrastive_loss(txt, txt, 0.1) < clip_contrastive_loss(txt.flip(0), txt, 0.1)
    with pytest.raises(ValueError, match="temperature"):
        clip_contrastive_loss(img, txt, 0.0)
    with pytest.raises(ValueError, match="must both be"):
        clip_contrastive_loss(img, txt[:2], 0.1)


def test_a_frozen_pinned_clip_is_not_saved_twice(tmp_path):
    """save_pretrained leaves out a frozen CLIP that loads its own pinned weights; loading restores it."""
    from safetensors import safe_open

    config = {"name": "lstm+clip", "dim": 8,
              "lstm": {"name": "lstm", "vocab": "shapes", "embed_dim": 4, "hidden": 8, "max_length": 10},
              "clip": {"name": "clip", "model": "shapes-clip-tiny", "pretrained": "shapes", "context_length": 32}}
    torch.manual_seed(0)
    enc = t2izoo.create_component("encoder", config).eval()
    assert enc.external_weights() == ("clip.",)
    enc.save_pretrained(tmp_path / "enc")
    with safe_open(str(tmp_path / "enc" / "model.safetensors"), framework="pt") as fh:
        keys = list(fh.keys())
    assert keys and not [k for k in keys if k.startswith("clip.")]
    assert any(k.startswith("proj.") for k in keys) and any(k.startswith("lstm.") for k in keys)
    torch.manual_seed(1)  # another init: the LSTM and FC must come from the file, CLIP from its tag
    again = t2izoo.Encoder.from_pretrained(tmp_path / "enc")
    a, b = enc.encode(CAPTIONS), again.encode(CAPTIONS)
    assert torch.equal(a.sentence, b.sentence) and torch.equal(a.words, b.words)
    # any other missing key still fails strict loading
    from safetensors.torch import load_file, save_file

    state = load_file(str(tmp_path / "enc" / "model.safetensors"))
    state.pop(next(k for k in state if k.startswith("proj.")))
    save_file(state, str(tmp_path / "enc" / "model.safetensors"), metadata={"format": "pt", "t2izoo": "encoder"})
    with pytest.raises(RuntimeError, match="proj"):
        t2izoo.Encoder.from_pretrained(tmp_path / "enc")
    # without a pinned source (or trainable) the CLIP is saved as usual
    unpinned = t2izoo.create_component("encoder", {**config, "clip": {**config["clip"], "pretrained": None}})
    assert unpinned.external_weights() == ()
