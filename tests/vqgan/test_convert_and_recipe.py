"""`t2izoo convert vqgan` against an independent taming reference, and the `vqgan` recipe."""

from __future__ import annotations

import json

import pytest
import torch
import yaml
from t2izoo_vqgan.convert import ConversionError, convert_vqgan, infer_config, read_taming_state_dict

import t2izoo

from .reference_taming import TamingReference, random_taming_state_dict

TINY_CLIP = {"name": "clip", "model": "shapes-clip-tiny", "pretrained": None, "context_length": 32}
# taming ddconfig at toy size: 3 levels, attention at the lowest (resolution 16 -> 16/8/4, attn at 4)
DD = {"ch": 8, "ch_mult": (1, 2, 2), "num_res_blocks": 1, "z_channels": 8}


@pytest.fixture(scope="module")
def taming_ckpt(tmp_path_factory):
    d = tmp_path_factory.mktemp("taming")
    sd = random_taming_state_dict(DD["ch"], DD["ch_mult"], DD["num_res_blocks"], {2}, DD["z_channels"], 4, 16)
    # a Lightning checkpoint: weights under "state_dict", plus training bookkeeping
    torch.save({"state_dict": sd, "epoch": 7, "global_step": 1234}, d / "last.ckpt")
    model_yaml = {"model": {"target": "taming.models.vqgan.VQModel", "params": {
        "embed_dim": 4, "n_embed": 16, "ddconfig": {
            "double_z": False, "z_channels": 8, "resolution": 16, "in_channels": 3, "out_ch": 3, "ch": 8,
            "ch_mult": [1, 2, 2], "num_res_blocks": 1, "attn_resolutions": [4], "dropout": 0.0}}}}
    (d / "model.yaml").write_text(yaml.safe_dump(model_yaml))
    return d, sd


def _generator(out, fields):
    fields = {k: v for k, v in fields.items()}
    return t2izoo.create_component("generator", {
        "name": "vqgan-clip", **fields, "image_size": 16, "vqgan_weights": str(out), "clip": TINY_CLIP}).eval()


def test_conversion_matches_an_independent_taming_forward(taming_ckpt, tmp_path):
    d, sd = taming_ckpt
    out, fields = convert_vqgan(d / "last.ckpt", tmp_path / "vq", config=d / "model.yaml", norm_num_groups=4)
    assert fields["attn_resolutions"] == [4] and fields["resolution"] == 16 and fields["n_embed"] == 16
    assert json.loads((out / "vqgan_config.json").read_text())["ch_mult"] == [1, 2, 2]
    gen = _generator(out, fields)  # loads strictly
    assert bool(gen.vq_ready)
    ref = TamingReference(sd, DD["ch_mult"], DD["num_res_blocks"], groups=4)
    x = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(0)) * 2 - 1
    with torch.no_grad():
        z_ref, z = ref.encode(x), gen.encode_images(x)
        assert torch.allclose(z, z_ref, atol=1e-4), (z - z_ref).abs().max()
        zq_ref, idx_ref = ref.quantize(z_ref)
        from t2izoo_vqgan.vqmodel import quantize

        assert torch.equal(quantize(z, gen.codebook).indices, idx_ref)
        img_ref = ref.decode(zq_ref)
        img = gen.vq.decoder(gen.vq.post_quant_conv(zq_ref))
        assert torch.allclose(img, img_ref, atol=1e-4), (img - img_ref).abs().max()
        # and the generator's own decode path (quantise + decode + clamp) agrees
        assert torch.allclose(gen.decode_latents(z), img_ref.clamp(-1, 1), atol=1e-4)


def test_loss_keys_are_dropped_and_unknown_keys_refused(taming_ckpt, tmp_path):
    d, sd = taming_ckpt
    assert not any(k.startswith("loss.") for k in read_taming_state_dict(d / "last.ckpt"))
    bad = dict(sd)
    bad["encoder.down.0.block.0.temb_proj.weight"] = torch.zeros(8, 8)
    torch.save(bad, tmp_path / "bad.pt")  # a bare state dict is accepted too
    with pytest.raises(ConversionError, match="temb_proj"):
        convert_vqgan(tmp_path / "bad.pt", tmp_path / "out")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_taming_state_dict(tmp_path / "missing.ckpt")


def test_yaml_that_disagrees_with_the_tensors_is_refused(taming_ckpt):
    _, sd = taming_ckpt
    wrong = {"model": {"params": {"embed_dim": 4, "n_embed": 32, "ddconfig": {"ch": 8, "resolution": 16}}}}
    with pytest.raises(ConversionError, match="n_embed: yaml 32 vs tensors 16"):
        infer_config(sd, wrong)


def test_converted_weights_must_match_the_generator_config(taming_ckpt, tmp_path):
    d, _ = taming_ckpt
    out, fields = convert_vqgan(d / "last.ckpt", tmp_path / "vq", config=d / "model.yaml", norm_num_groups=4)
    with pytest.raises(ValueError, match="num_vq_embeddings"):
        _generator(out, {**fields, "n_embed": 32})
    with pytest.raises(FileNotFoundError, match="t2izoo convert vqgan"):
        _generator(tmp_path / "nowhere", fields)


def test_convert_cli(taming_ckpt, tmp_path, capsys):
    from t2izoo.cli import main

    d, _ = taming_ckpt
    rc = main(["convert", "vqgan", "--checkpoint", str(d / "last.ckpt"), "--config", str(d / "model.yaml"),
               "--out", str(tmp_path / "vq"), "--norm-groups", "4"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "generator.vqgan_weights=" in printed and "generator.n_embed=16" in printed
    assert (tmp_path / "vq" / "diffusion_pytorch_model.safetensors").is_file()
    from diffusers import VQModel  # the directory is a plain diffusers model too

    assert VQModel.from_pretrained(str(tmp_path / "vq")).config.num_vq_embeddings == 16


# -- the vqgan recipe ------------------------------------------------------------------------------
def test_recipe_trains_the_vqgan_only():
    from t2izoo.training import make_recipe

    torch.manual_seed(0)
    pipe = t2izoo.build("shapes-vqgan-clip", {
        "generator.ch": 8, "generator.ch_mult": [1, 2], "generator.norm_num_groups": 4, "generator.n_embed": 16,
        "generator.embed_dim": 4, "generator.z_channels": 8, "generator.resolution": 16, "generator.image_size": 16})
    recipe = make_recipe(pipe, lr=3e-3, restart_every=5)  # the generator's own recipe
    assert type(recipe).__name__ == "VQGANRecipe"
    assert type(make_recipe(pipe, "vqgan")).__name__ == "VQGANRecipe"
    guide_before = {k: v.clone() for k, v in pipe.generator.guide.state_dict().items()}
    from t2izoo.data import Batch

    g = torch.Generator().manual_seed(0)
    images = torch.rand(4, 3, 32, 32, generator=g) * 2 - 1  # resized to resolution 16 by the recipe
    batch = Batch(images={32: images}, captions=["a"] * 4, class_ids=torch.zeros(4, dtype=torch.long),
                  attributes=None, keys=[str(i) for i in range(4)])
    recipe.train(True)
    logs = [recipe.training_step(batch, step) for step in range(25)]
    assert logs[-1]["loss/rec_l1"] < 0.8 * logs[0]["loss/rec_l1"], (logs[0], logs[-1])
    assert any(entry["codes/restarted"] > 0 for entry in logs)  # 16 codes, 4x8x8 vectors: some die
    assert bool(pipe.generator.vq_ready)
    for k, v in pipe.generator.guide.state_dict().items():
        assert torch.equal(v, guide_before[k]), k
    sample = recipe.sample(batch)
    assert sample["final"].shape == (4, 3, 16, 16) and sample["input"].shape == (4, 3, 16, 16)
