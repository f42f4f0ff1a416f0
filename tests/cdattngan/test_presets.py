"""The CD-AttnGAN presets and the paper's ablation rows (Table 2) as overrides."""

from __future__ import annotations

import pytest
import torch

import t2izoo

# tiny sizes for every preset: the tiny shapes CLIP instead of ViT-B/32 (no weights here)
TINY_ENCODER = {
    "encoder.lstm": {"name": "lstm", "vocab": "shapes", "embed_dim": 4, "hidden": 8, "max_length": 10},
    "encoder.clip": {"name": "clip", "model": "shapes-clip-tiny", "pretrained": None, "context_length": 16},
    "encoder.dim": 8,
}
TINY_GENERATOR = {
    "generator.ngf": 2, "generator.z_dim": 4, "generator.c_dim": 4, "generator.r_num": 1,
    "generator.word_dim": 8, "generator.sentence_dim": 8, "generator.fusion.image_embed_dim": 64,
}
TINY_REFINER = {
    # attention only at 32x32 of the 256 px output: full-resolution self-attention is slow on a CPU
    "refiner.block_out_channels": [4, 8, 8, 8], "refiner.attention_levels": [False, False, False, True],
    "refiner.layers_per_block": 1,
    "refiner.norm_num_groups": 4, "refiner.cond_dim": 8, "refiner.lr_encoder_channels": 4,
    "refiner.sampler": "dpm-solver++", "refiner.num_inference_steps": 2,
}
PRESETS = ["cd-attngan", "attngan-clip", "shapes-cd-attngan"]


def tiny(preset: str) -> dict:
    out = {**TINY_ENCODER, **TINY_GENERATOR}
    if t2izoo.build_config(preset).refiner is not None:
        out.update(TINY_REFINER)
    return out


@pytest.mark.parametrize("preset", PRESETS)
def test_presets_build_and_generate_at_tiny_sizes(preset):
    torch.manual_seed(0)
    pipe = t2izoo.build(preset, tiny(preset))
    out = pipe(["a small red circle", "a big blue striped square"], seed=0)
    final = 128 if pipe.refiner is None else 256
    assert out.tensors.shape == (2, 3, final, final)
    assert [s.shape[-1] for s in out.stages] == [64, 128] + ([256] if pipe.refiner is not None else [])
    assert out.attention[0] is None and out.attention[1].shape[0] == 2 and out.attention[1].shape[-1] == 64
    assert torch.allclose(out.attention[1].sum(1), torch.ones(1), atol=1e-4)
    # seeded: the same images again
    assert torch.equal(pipe(["a small red circle", "a big blue striped square"], seed=0).tensors, out.tensors)
    assert t2izoo.load_card(preset).extra["recipe"] == "cd-attngan"


def test_the_stage_image_steers_the_attention():
    """The generator hands its 64 px image to clip-attention: other CLIP weights, other attention."""
    torch.manual_seed(0)
    pipe = t2izoo.build("shapes-cd-attngan", tiny("shapes-cd-attngan"), refiner=None)
    text = pipe.encoder.encode(["a small red circle"])
    noise = pipe.generator.sample_noise(1, torch.Generator().manual_seed(0))
    eps = torch.zeros(1, pipe.generator.config.c_dim)
    with torch.no_grad():
        a = pipe.generator(text, noise=noise, ca_eps=eps)
        for p in pipe.generator.h_net2.att.align.parameters():
            p.add_(torch.randn_like(p))  # another image -> word alignment
        b = pipe.generator(text, noise=noise, ca_eps=eps)
    assert torch.equal(a.images[0], b.images[0])  # stage 1 does not use the fusion
    assert not torch.allclose(a.attention[1], b.attention[1])


def test_paper_sizes():
    cfg = t2izoo.build_config("cd-attngan")
    assert (cfg.encoder.clip.model, cfg.encoder.clip.pretrained, cfg.encoder.clip.frozen) == ("ViT-B-32", "openai", True)
    assert (cfg.encoder.dim, cfg.generator.image_size, cfg.generator.fusion.image_embed_dim) == (256, 128, 512)
    r = cfg.refiner
    assert (r.lr_size, r.image_size, r.num_train_timesteps, r.beta_start, r.beta_end, r.sampler) == (
        128, 256, 1000, 1e-4, 0.02, "ddpm"
    )
    assert t2izoo.build_config("attngan-clip").refiner is None
    shapes = t2izoo.build_config("shapes-cd-attngan")
    assert (shapes.encoder.clip.model, shapes.encoder.lstm.vocab) == ("shapes-clip-tiny", "shapes")


# Table 2: each row is an override of cd-attngan (and of shapes-cd-attngan); all must build
NO_CLIP = {"encoder": "lstm", "generator.fusion": "concat-attention"}
ABLATIONS = {
    "cd-attngan": {},
    "no-clip": NO_CLIP,
    "no-diffusion": {"refiner": None},
    "attngan": {**NO_CLIP, "refiner": None},
}


@pytest.mark.parametrize("row", list(ABLATIONS))
@pytest.mark.parametrize("preset", ["cd-attngan", "shapes-cd-attngan"])
def test_ablation_rows_build(preset, row):
    overrides = dict(ABLATIONS[row])
    if preset == "cd-attngan" and "encoder" in overrides:
        overrides.update({"encoder.vocab": None, "encoder.vocab_size": 5450})  # the bird LSTM
    if preset == "shapes-cd-attngan" and "encoder" in overrides:
        overrides.update({"encoder.hidden": 128, "encoder.embed_dim": 128, "encoder.max_length": 40})
    cfg = t2izoo.build_config(preset, overrides)
    assert (cfg.refiner is None) == (row in ("no-diffusion", "attngan"))
    assert (cfg.encoder.name == "lstm+clip") == (row in ("cd-attngan", "no-diffusion"))
    assert (cfg.generator.fusion.name == "clip-attention") == (row in ("cd-attngan", "no-diffusion"))
    if preset == "shapes-cd-attngan" and row != "cd-attngan":  # build the modules too (no CLIP weights needed)
        torch.manual_seed(0)
        pipe = t2izoo.build(cfg, {"generator.ngf": 2})
        assert pipe.generator.config.ngf == 2


def test_no_clip_with_clip_attention_fails_with_a_clear_error():
    torch.manual_seed(0)
    pipe = t2izoo.build("shapes-cd-attngan", {"encoder": "lstm", "encoder.hidden": 128, "encoder.max_length": 40,
                                              "generator.ngf": 2}, refiner=None)
    with pytest.raises(ValueError, match="CLIP image side"):
        pipe(["a red circle"], seed=0)
