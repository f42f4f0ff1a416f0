"""``t2izoo convert ffgan``: the release's key layout (DM-GAN memory keys included) -> strict load.

The "release" here is a state dict written from the shapes the FF-GAN release's ``model.py``
gives each parameter (a DM-GAN fork: ``NEXT_STAGE_G`` keeps its memory layers next to the
FF-Block), in the pre-0.4 layout (no ``num_batches_tracked``) and legacy serialisation. It is
stated here independently of our modules, so a key or shape drift on either side fails.
"""

from __future__ import annotations

import pickle

import pytest
import torch

import t2izoo

t2izoo_ffgan = pytest.importorskip("t2izoo_ffgan")
from t2izoo_ffgan.convert import (  # noqa: E402
    MEMORY_LAYERS,
    ConversionError,
    convert_ffgan,
    map_generator_keys,
    read_checkpoint,
)

WORDS = ["<end>", "this", "bird", "is", "red", "with", "white", "wings", "and", "a", "short", "beak", "small", "blue"]


def _bn(prefix, n):
    return {f"{prefix}.{p}": (n,) for p in ("weight", "bias", "running_mean", "running_var")}


def release_g_shapes(ngf, nef, ncf, z_dim, branch_num=3, r_num=2, hidden=128):
    """Key -> shape of the release's G_NET (``model.py``: CA_NET, INIT_STAGE_G, NEXT_STAGE_G, GET_IMAGE_G)."""
    g16 = ngf * 16
    s = {"ca_net.fc.weight": (4 * ncf, nef), "ca_net.fc.bias": (4 * ncf,),
         "h_net1.fc.0.weight": (g16 * 32, z_dim + ncf), **_bn("h_net1.fc.1", g16 * 32)}
    for i in range(1, 5):  # upBlock(g16 / 2^(i-1), g16 / 2^i): conv3x3 to 2x out, BN, GLU
        out = g16 >> i
        s[f"h_net1.upsample{i}.1.weight"] = (2 * out, 2 * out, 3, 3)
        s.update(_bn(f"h_net1.upsample{i}.2", 2 * out))
    for k in range(1, branch_num + 1):
        s[f"img_net{k}.img.0.weight"] = (3, ngf, 3, 3)
    for k in range(2, branch_num + 1):
        h = f"h_net{k}"
        s.update({
            f"{h}.A.weight": (1, nef), f"{h}.B.weight": (1, ngf),
            f"{h}.M_r.0.weight": (2 * ngf, ngf, 1), f"{h}.M_r.0.bias": (2 * ngf,),
            f"{h}.M_w.0.weight": (2 * ngf, nef, 1), f"{h}.M_w.0.bias": (2 * ngf,),
            f"{h}.key.0.weight": (ngf, 2 * ngf, 1), f"{h}.key.0.bias": (ngf,),
            f"{h}.value.0.weight": (ngf, 2 * ngf, 1), f"{h}.value.0.bias": (ngf,),
            f"{h}.response_gate.0.weight": (1, 2 * ngf, 1, 1), f"{h}.response_gate.0.bias": (1,),
            f"{h}.affine.conv.weight": (hidden, ngf, 3, 3),
            f"{h}.affine.conv_weight.weight": (ngf, hidden, 3, 3),
            f"{h}.affine.conv_bias.weight": (ngf, hidden, 3, 3),
            f"{h}.w_att.conv_context.weight": (ngf, nef, 1, 1),
            f"{h}.s_att.conv_context.weight": (ngf, nef, 1, 1),
            f"{h}.upsample.1.weight": (2 * ngf, 2 * ngf, 3, 3), **_bn(f"{h}.upsample.2", 2 * ngf),
        })
        for r in range(r_num):  # ResBlock(2 ngf)
            s[f"{h}.residual.{r}.block.0.weight"] = (4 * ngf, 2 * ngf, 3, 3)
            s.update(_bn(f"{h}.residual.{r}.block.1", 4 * ngf))
            s[f"{h}.residual.{r}.block.3.weight"] = (2 * ngf, 2 * ngf, 3, 3)
            s.update(_bn(f"{h}.residual.{r}.block.4", 2 * ngf))
    return s


def release_text_encoder_shapes(vocab, ninput, nhidden):
    h = nhidden // 2
    s = {"encoder.weight": (vocab, ninput)}
    for suffix in ("", "_reverse"):
        s.update({f"rnn.weight_ih_l0{suffix}": (4 * h, ninput), f"rnn.weight_hh_l0{suffix}": (4 * h, h),
                  f"rnn.bias_ih_l0{suffix}": (4 * h,), f"rnn.bias_hh_l0{suffix}": (4 * h,)})
    return s


def random_state(shapes, seed):
    g = torch.Generator().manual_seed(seed)
    state = {}
    for k, shape in shapes.items():
        t = torch.randn(*shape, generator=g) * 0.2
        if k.endswith("running_var"):
            t = t.abs() + 0.5
        state[k] = t
    return state


def save_legacy(state, path):
    torch.save(state, path, _use_new_zipfile_serialization=False)
    return path


@pytest.fixture
def release(tmp_path):
    dims = {"ngf": 4, "nef": 16, "ncf": 6, "z_dim": 5, "branch_num": 3, "r_num": 2, "hidden": 8}
    g_state = random_state(release_g_shapes(**dims), seed=1)
    e_state = random_state(release_text_encoder_shapes(len(WORDS), 12, 16), seed=2)
    with open(tmp_path / "captions.pickle", "wb") as f:
        ixtoword = dict(enumerate(WORDS))
        pickle.dump([[[1, 2, 3, 4]], [[9, 12]], ixtoword, {w: i for i, w in ixtoword.items()}], f, protocol=2)
    files = {
        # saved from DataParallel, as some releases were: the converter strips "module."
        "generator": save_legacy({f"module.{k}": v for k, v in g_state.items()}, tmp_path / "netG.pth"),
        "text_encoder": save_legacy(e_state, tmp_path / "text_encoder200.pth"),
        "captions": tmp_path / "captions.pickle",
    }
    return dims, g_state, e_state, files


def test_our_keys_are_the_release_keys_with_att_inserted_and_memory_dropped():
    shapes = release_g_shapes(ngf=64, nef=256, ncf=100, z_dim=100)
    mapped, dropped = map_generator_keys(shapes)
    assert len(dropped) == 2 * 12 and all(k.split(".")[1] in MEMORY_LAYERS for k in dropped)
    pipe_cfg = t2izoo.build_config("ffgan-bird")
    g = t2izoo.create_component("generator", pipe_cfg.generator)
    ours = {k: tuple(v.shape) for k, v in g.state_dict().items() if not k.endswith("num_batches_tracked")}
    assert ours == mapped


def test_convert_loads_strictly_and_matches_the_release_tensors(release, tmp_path):
    dims, g_state, e_state, files = release
    out = convert_ffgan(files["generator"], files["text_encoder"], files["captions"], tmp_path / "model")
    pipe = t2izoo.build(str(out), pretrained=out)
    cfg = pipe.generator.config
    assert (cfg.name, cfg.ngf, cfg.c_dim, cfg.z_dim, cfg.branch_num, cfg.r_num) == ("ffgan", 4, 6, 5, 3, 2)
    assert (cfg.fusion.hidden, cfg.fusion.gsr, cfg.fusion.level) == (8, True, "word")
    ours = pipe.generator.state_dict()
    assert torch.equal(ours["h_net3.att.affine.conv_bias.weight"], g_state["h_net3.affine.conv_bias.weight"])
    assert torch.equal(ours["h_net2.att.w_att.conv_context.weight"], g_state["h_net2.w_att.conv_context.weight"])
    assert torch.equal(ours["h_net2.residual.1.block.3.weight"], g_state["h_net2.residual.1.block.3.weight"])
    assert not any(".M_r." in k or ".response_gate." in k for k in ours)
    assert torch.equal(pipe.encoder.encoder.weight, e_state["encoder.weight"])
    assert pipe.encoder.tokenizer.vocab_size == len(WORDS)
    image = pipe(["this bird is red with white wings"], seed=0).tensors
    assert image.shape == (1, 3, 256, 256) and torch.isfinite(image).all()


def test_converted_stage_computes_the_release_fusion(release, tmp_path):
    """FF-Block + GSR restated from the release's forward (no mask) on the converted weights."""
    dims, g_state, _, files = release
    out = convert_ffgan(files["generator"], files["text_encoder"], files["captions"], tmp_path / "m",
                        mask_mode="none")
    fusion = t2izoo.build(str(out), pretrained=out).generator.h_net2.att.eval()
    conv = torch.nn.functional.conv2d
    h = torch.randn(2, 4, 5, 5)
    words = torch.randn(2, 16, 7)  # release layout: batch x nef x L
    sent = torch.randn(2, 16)
    # NEXT_STAGE_G.forward: w_att (softmax over words, unmasked) -> ACM affine; s_att; concat
    src = conv(words.unsqueeze(3), g_state["h_net2.w_att.conv_context.weight"]).squeeze(3)  # B x C x L
    attn = torch.bmm(h.flatten(2).transpose(1, 2), src).softmax(-1)  # B x Q x L
    c_code = torch.bmm(src, attn.transpose(1, 2)).view(2, 4, 5, 5)
    code = conv(c_code, g_state["h_net2.affine.conv.weight"], padding=1)
    h_c = h * conv(code, g_state["h_net2.affine.conv_weight.weight"], padding=1) + conv(
        code, g_state["h_net2.affine.conv_bias.weight"], padding=1)
    s = conv(sent[:, :, None, None], g_state["h_net2.s_att.conv_context.weight"]).view(2, 4, 1)
    s_code = (s * (h.flatten(2) * s).softmax(-1)).view(2, 4, 5, 5)
    expected = torch.cat([h_c, s_code], 1)
    text = t2izoo.TextFeatures(words=words.transpose(1, 2), mask=torch.zeros(2, 7, dtype=torch.bool), sentence=sent)
    with torch.no_grad():
        got = fusion(h, text).features
    assert torch.allclose(got, expected, atol=1e-5)


def test_cli_convert_against_the_preset_and_errors(release, tmp_path, capsys):
    from t2izoo.cli import main

    _, g_state, _, files = release
    args = ["convert", "ffgan", "--generator", str(files["generator"]), "--text-encoder", str(files["text_encoder"]),
            "--captions", str(files["captions"]), "--out", str(tmp_path / "cli")]
    assert main(args) == 0
    assert "dropped 24 unused DM-GAN memory tensors" in capsys.readouterr().out
    assert main(args + ["--preset", "ffgan-bird"]) != 0
    assert "ngf=4 but preset 'ffgan-bird' says ngf=64" in capsys.readouterr().err
    # a checkpoint missing a layer the model needs is refused, naming the key
    broken = {k: v for k, v in g_state.items() if k != "h_net2.affine.conv_bias.weight"}
    save_legacy(broken, tmp_path / "broken.pth")
    with pytest.raises(ConversionError, match=r"missing: \['h_net2.att.affine.conv_bias.weight'\]"):
        convert_ffgan(tmp_path / "broken.pth", files["text_encoder"], files["captions"], tmp_path / "b")
    # an AttnGAN generator (no FF-Block) is pointed to the attngan converter
    attn = {k: v for k, v in g_state.items() if ".affine." not in k}
    save_legacy(attn, tmp_path / "attngan.pth")
    with pytest.raises(ConversionError, match="convert attngan"):
        convert_ffgan(tmp_path / "attngan.pth", files["text_encoder"], files["captions"], tmp_path / "c")


def test_read_checkpoint_refuses_non_tensor_pickles(tmp_path):
    torch.save({"a": torch.zeros(1)}, tmp_path / "ok.pth")
    assert set(read_checkpoint(tmp_path / "ok.pth")) == {"a"}
    torch.save({"a": [1, 2]}, tmp_path / "bad.pth")
    with pytest.raises(ConversionError, match="expected a state dict of tensors"):
        read_checkpoint(tmp_path / "bad.pth")
