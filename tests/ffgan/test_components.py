"""The affine fusion (FF-Block, DF-GAN style, GSR) and the ffgan generator as zoo components."""

from __future__ import annotations

import pytest
import torch

import t2izoo
from t2izoo.testing import check_component, make_text_features


@pytest.mark.parametrize(
    "kind,name,config",
    [
        ("fusion", "affine", {}),
        ("fusion", "affine", {"gsr": False}),
        ("fusion", "affine", {"level": "sentence"}),
        ("fusion", "affine", {"level": "sentence", "gsr": False, "hidden": None}),
        ("fusion", "affine", {"mask_mode": "none"}),
        ("generator", "ffgan", {}),
        ("generator", "ffgan", {"branch_num": 3}),
        ("generator", "ffgan", {"branch_num": 1}),
        ("generator", "ffgan", {"fusion": {"name": "affine", "level": "sentence", "gsr": False}}),
        ("generator", "ffgan", {"fusion": "concat-attention"}),
    ],
)
def test_conformance(kind, name, config):
    assert set(check_component(kind, name, **config).values()) == {"ok"}


def fusion(channels=4, word_dim=6, sentence_dim=5, **cfg):
    torch.manual_seed(0)
    return t2izoo.create_component(
        "fusion", {"name": "affine", "hidden": 8, **cfg}, channels=channels, word_dim=word_dim,
        sentence_dim=sentence_dim,
    ).eval()


def text(batch=2, length=5, word_dim=6, sentence_dim=5, seed=0):
    return make_text_features(batch, word_dim, sentence_dim, length=length, seed=seed)


def test_ff_block_is_word_attention_then_spatial_affine():
    f = fusion(gsr=False)
    t = text()
    h = torch.randn(2, 4, 6, 6, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        out = f(h, t)
        # eq. 4 by hand: project words, softmax over the caption's real words, weighted sum
        words = torch.einsum("cd,bld->bcl", f.w_att.conv_context.weight[:, :, 0, 0], t.words)
        scores = torch.einsum("bcq,bcl->bql", h.flatten(2), words).masked_fill(t.mask[:, None, :], float("-inf"))
        attn = scores.softmax(-1)
        context = torch.einsum("bcl,bql->bcq", words, attn).view(2, 4, 6, 6)
        # eq. 5: h * W(f) + b(f), W and b from bias-free 3x3 convs through a hidden map
        code = torch.nn.functional.conv2d(context, f.affine.conv.weight, padding=1)
        scale = torch.nn.functional.conv2d(code, f.affine.conv_weight.weight, padding=1)
        shift = torch.nn.functional.conv2d(code, f.affine.conv_bias.weight, padding=1)
    assert f.out_channels == 4 and out.features.shape == (2, 4, 6, 6)
    assert torch.allclose(out.features, h * scale + shift, atol=1e-5)
    assert torch.allclose(out.attention, attn.transpose(1, 2).reshape(2, 5, 6, 6), atol=1e-6)
    assert (out.attention[1, 3:] == 0).all()  # padding of the shorter caption gets no attention
    assert all(m.bias is None for m in (f.affine.conv, f.affine.conv_weight, f.affine.conv_bias))


def test_mask_none_attends_over_padding_as_the_release():
    t = text()
    h = torch.randn(2, 4, 3, 3)
    with torch.no_grad():
        released = fusion(mask_mode="none")(h, t)
        masked = fusion()(h, t)
    assert (released.attention[1, 3:] > 0).all()
    assert torch.equal(released.attention[0], masked.attention[0])  # caption 0 has no padding
    assert not torch.allclose(released.features[1], masked.features[1])


def test_gsr_is_a_per_channel_spatial_softmax_of_the_projected_sentence():
    f = fusion()
    t = text()
    h = torch.randn(2, 4, 5, 5)
    with torch.no_grad():
        out = f(h, t)
        u = t.sentence @ f.s_att.conv_context.weight[:, :, 0, 0].T  # [B, C]
        att = (h.flatten(2) * u[:, :, None]).softmax(-1)
        expected = (u[:, :, None] * att).view(2, 4, 5, 5)
    assert f.out_channels == 8 and out.features.shape == (2, 8, 5, 5)
    assert torch.allclose(out.features[:, 4:], expected, atol=1e-6)
    # the first half is the FF-Block alone
    with torch.no_grad():
        no_gsr = fusion(gsr=False)(h, t)
    assert torch.allclose(out.features[:, :4], no_gsr.features, atol=1e-6)


def test_sentence_level_is_a_per_channel_affine_from_the_identity():
    f = fusion(level="sentence", gsr=False, hidden=None)
    t = text()
    h = torch.randn(2, 4, 5, 5)
    with torch.no_grad():
        assert torch.equal(f(h, t).features, h)  # DF-GAN's identity initialisation
        for p in f.parameters():
            p.add_(0.1 * torch.randn_like(p))
        out = f(h, t).features
        gamma, beta = f.affine.fc_gamma(t.sentence), f.affine.fc_beta(t.sentence)
    assert f(h, t).attention is None and not hasattr(f, "w_att")
    assert f.affine.fc_gamma.linear1.out_features == 4  # hidden=None: DF-GAN's width (C)
    assert torch.allclose(out, h * gamma[:, :, None, None] + beta[:, :, None, None], atol=1e-6)
    # spatially uniform: the ratio to h is the same at every position of a channel
    ratio = (out - beta[:, :, None, None]) / h
    assert torch.allclose(ratio, ratio[:, :, :1, :1].expand_as(ratio), atol=1e-4)


def test_sentence_level_needs_no_words_but_word_level_does():
    t = text()
    no_words = t2izoo.TextFeatures(words=None, mask=None, sentence=t.sentence)
    out = fusion(level="sentence", word_dim=None)(torch.randn(2, 4, 3, 3), no_words)
    assert out.features.shape == (2, 8, 3, 3)
    with pytest.raises(ValueError, match="level='word' needs word features"):
        fusion(word_dim=None)
    with pytest.raises(ValueError, match="without words"):
        fusion()(torch.randn(2, 4, 3, 3), no_words)


def test_ffgan_generator_stages_attention_and_keys():
    g = t2izoo.create_component(
        "generator", {"name": "ffgan", "ngf": 4, "branch_num": 3, "word_dim": 6, "sentence_dim": 5, "z_dim": 3,
                      "c_dim": 2, "fusion": {"name": "affine", "hidden": 8}},
    ).eval()
    out = g(text(), generator=torch.Generator().manual_seed(0))
    assert [x.shape[-1] for x in out.images] == [64, 128, 256]
    assert out.attention[0] is None and out.attention[2].shape == (2, 5, 128, 128)
    assert out.extras["mu"].shape == (2, 2)
    keys = set(g.state_dict())
    assert {"h_net2.att.w_att.conv_context.weight", "h_net3.att.affine.conv_weight.weight",
            "h_net2.att.s_att.conv_context.weight", "h_net2.residual.0.block.0.weight"} <= keys
    assert g.h_net2.residual[0].block[0].in_channels == 8  # FF-Block (ngf) + GSR (ngf)
    # the mean condition and fixed noise make the output a function of the text alone
    noise, eps = torch.randn(2, 3), torch.zeros(2, 2)
    a = g(text(), noise=noise, ca_eps=eps).images[-1]
    b = g(text(), noise=noise, ca_eps=eps).images[-1]
    c = g(text(seed=5), noise=noise, ca_eps=eps).images[-1]
    assert torch.equal(a, b) and not torch.allclose(a, c)


def test_attngan_takes_the_affine_fusion_mix_and_match():
    pipe = t2izoo.build("shapes-attngan", {"generator.fusion": "affine", "generator.ngf": 2,
                                           "encoder.hidden": 8, "generator.word_dim": 8,
                                           "generator.sentence_dim": 8, "encoder.embed_dim": 4})
    assert pipe.generator.config.name == "attngan"
    assert type(pipe.generator.h_net2.att).__name__ == "AffineFusion"
    out = pipe(["a red circle", "a big blue striped square on the left"], seed=0)
    assert out.tensors.shape == (2, 3, 128, 128) and out.attention[1].shape[1] >= 4
    # attngan's legacy mask switch reaches the affine fusion too
    legacy = t2izoo.build("shapes-attngan", {"generator.fusion": "affine", "generator.mask_mode": "legacy"})
    assert legacy.generator.h_net2.att.mask_mode == "legacy"


def test_cli_builds_attngan_with_affine(capsys):
    from t2izoo.cli import main

    assert main(["build", "shapes-attngan", "generator.fusion=affine", "--dry-run"]) == 0
    shown = capsys.readouterr().out
    assert "name: affine" in shown and "attngan" in shown


def test_ports_refuse_a_mismatched_encoder():
    with pytest.raises(t2izoo.PortMismatchError, match="word_dim"):
        t2izoo.build("shapes-ffgan", {"generator.word_dim": 64})


def test_refine_stage_passes_the_previous_image_only_to_fusions_that_ask():
    from t2izoo.nn.stackgan import RefineStage

    seen = {}

    class Probe(t2izoo.Fusion):
        needs_stage_image = True
        out_channels = 4

        def forward(self, visual, text, image=None):
            seen["image"] = image
            return t2izoo.FusionOutput(features=visual)

    cfg = t2izoo.get_component("fusion", "affine").config_class()
    stage = RefineStage(4, Probe(cfg), r_num=0).eval()
    picture = torch.randn(1, 3, 8, 8)
    stage(torch.randn(1, 4, 8, 8), text(batch=1), image=picture)
    assert seen["image"] is picture
    plain = RefineStage(4, fusion(), r_num=0).eval()  # the affine fusion takes no image argument
    assert plain(torch.randn(2, 4, 8, 8), text(), image=picture)[0].shape == (2, 4, 16, 16)
