"""vqgan-clip: prompts, quantiser, cutouts, the optimisation loop, presets and the pipeline."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from t2izoo_vqgan.configs import VQGANClipConfig
from t2izoo_vqgan.cutouts import CutoutSpec, make_cutouts
from t2izoo_vqgan.generator import VQGANWeightsMissingError
from t2izoo_vqgan.prompts import parse_prompt, parse_prompts
from t2izoo_vqgan.vqmodel import quantize

import t2izoo
from t2izoo.types import TextFeatures

TINY_CLIP = {"name": "clip", "model": "shapes-clip-tiny", "pretrained": None, "context_length": 32}


def tiny_generator(**fields):
    torch.manual_seed(0)
    return t2izoo.create_component("generator", {"name": "vqgan-clip", **VQGANClipConfig.tiny(), **fields}).eval()


def colour_guide(gen):
    """Replace CLIP's image side by mean colour (padded): a guide that certainly sees redness.

    A random tiny CLIP maps every image to nearly the same embedding, so it cannot show that the
    loop optimises anything; this one can, and the loop around it is the real one.
    """
    width = gen.config.ports().inputs["sentence_dim"]
    gen.guide.image_features = lambda images, normalize=False: F.pad(images.mean((2, 3)), (0, width - 3))
    red = torch.zeros(1, width)
    red[0, :3] = torch.tensor([1.0, -1.0, -1.0])
    return F.normalize(red, dim=-1)


# -- prompts ---------------------------------------------------------------------------------------
def test_weighted_prompts_parse():
    assert parse_prompt("a red circle:1 | blue:-0.5") == [("a red circle", 1.0), ("blue", -0.5)]
    assert parse_prompt("time: noon") == [("time: noon", 1.0)]
    assert parse_prompt("x:2e-1 | y") == [("x", 0.2), ("y", 1.0)]
    assert parse_prompts(["a", "b:2"], extra=["watermark:-1"]) == [
        [("a", 1.0), ("watermark", -1.0)], [("b", 2.0), ("watermark", -1.0)]]
    with pytest.raises(ValueError, match="no positively weighted part"):
        parse_prompt("blue:-1")
    with pytest.raises(ValueError, match="empty part"):
        parse_prompt("a red circle | ")


def test_config_rejects_bad_extra_prompts_and_sizes():
    with pytest.raises(ValueError, match="empty part"):
        VQGANClipConfig(**{**VQGANClipConfig.tiny(), "extra_prompts": ["a|"]})
    with pytest.raises(ValueError, match="multiple of the downsample factor"):
        VQGANClipConfig(**{**VQGANClipConfig.tiny(), "image_size": 15})
    with pytest.raises(ValueError, match="must be a 'clip' encoder"):
        VQGANClipConfig(**{**VQGANClipConfig.tiny(), "clip": "hashed-embedding"})


def test_default_config_is_taming_f16_16384():
    cfg = VQGANClipConfig(clip=TINY_CLIP)
    kw = cfg.vqmodel_kwargs()
    assert kw["block_out_channels"] == (128, 128, 256, 256, 512)
    assert kw["down_block_types"][-1] == "AttnDownEncoderBlock2D" and kw["down_block_types"].count("AttnDownEncoderBlock2D") == 1
    assert kw["up_block_types"][0] == "AttnUpDecoderBlock2D" and kw["up_block_types"].count("AttnUpDecoderBlock2D") == 1
    assert (kw["latent_channels"], kw["vq_embed_dim"], kw["num_vq_embeddings"], kw["layers_per_block"]) == (256, 256, 16384, 2)
    assert (cfg.downsample_factor, cfg.latent_size, cfg.lr, cfg.weight_decay) == (16, 16, 0.5, 0.1)


# -- quantiser and cutouts -------------------------------------------------------------------------
def test_quantize_picks_nearest_code_with_straight_through_gradient():
    g = torch.Generator().manual_seed(0)
    codebook = torch.randn(10, 4, generator=g)
    z = torch.randn(2, 4, 3, 3, generator=g, requires_grad=True)
    q = quantize(z, codebook)
    flat = z.detach().permute(0, 2, 3, 1).reshape(-1, 4)
    assert torch.equal(q.indices.flatten(), torch.cdist(flat, codebook).argmin(1))
    assert torch.allclose(q.z_q, codebook[q.indices].permute(0, 3, 1, 2))
    (q.z_q * 3).sum().backward()
    assert torch.allclose(z.grad, torch.full_like(z, 3.0))  # identity through the quantiser
    assert q.codebook_loss.item() == pytest.approx(q.commitment_loss.item())


def test_cutouts_are_seeded_differentiable_and_sized():
    x = torch.rand(2, 3, 32, 32, requires_grad=True)
    spec = CutoutSpec(cutn=5, min_cut=0.3, noise_fac=0.1)
    a = make_cutouts(x, (16, 16), spec, torch.Generator().manual_seed(1))
    b = make_cutouts(x, (16, 16), spec, torch.Generator().manual_seed(1))
    c = make_cutouts(x, (16, 16), spec, torch.Generator().manual_seed(2))
    assert a.shape == (10, 3, 16, 16) and torch.equal(a, b) and not torch.equal(a, c)
    a.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    # sample-major: without noise/flip, the first cutn cutouts come from image 0 only
    plain = CutoutSpec(cutn=3, flip=False, noise_fac=0.0)
    y = torch.cat([torch.zeros(1, 3, 8, 8), torch.ones(1, 3, 8, 8)])
    out = make_cutouts(y, (8, 8), plain, torch.Generator().manual_seed(0))
    assert out[:3].abs().max() == 0 and torch.allclose(out[3:], torch.ones_like(out[3:]))


# -- the optimisation ------------------------------------------------------------------------------
def test_optimisation_moves_the_image_towards_the_target():
    gen = tiny_generator(cutn=4, noise_fac=0.0)
    red = colour_guide(gen)
    out = gen(TextFeatures(None, None, red), generator=torch.Generator().manual_seed(0), iterations=30)
    start, end = out.extras["similarity_start"].item(), out.extras["similarity_end"].item()
    assert end > start + 0.2, (start, end)
    losses = out.extras["losses"]
    assert len(losses) == 30 and min(losses[-5:]) < losses[0]
    # z stays inside the codebook's per-channel range (clamp), codes are real indices
    z, cb = out.extras["latents"], gen.codebook.detach()
    assert (z >= cb.min(0).values.view(1, -1, 1, 1) - 1e-6).all() and (z <= cb.max(0).values.view(1, -1, 1, 1) + 1e-6).all()
    assert out.extras["codes"].shape == (1, 8, 8) and out.extras["codes"].max() < gen.config.n_embed


def test_negative_weight_pushes_away():
    gen = tiny_generator(cutn=2, noise_fac=0.0)
    red = colour_guide(gen)
    width = red.shape[1]
    green = torch.zeros(1, width)
    green[0, :3] = torch.tensor([-1.0, 1.0, -1.0])
    green = F.normalize(green, dim=-1)
    targets = torch.stack([red, green], 1)  # [1, 2, E]
    emb = torch.randn(1, 3, width)
    pos = gen.prompt_loss(emb, targets, torch.tensor([[1.0, 0.0]]))
    neg = gen.prompt_loss(emb, targets, torch.tensor([[1.0, -0.5]]))
    cos_green = F.cosine_similarity(emb, green[:, None], dim=-1).mean()
    assert torch.allclose(neg - pos, 0.5 * cos_green[None], atol=1e-6)  # -(-0.5) * cos
    spherical = tiny_generator(similarity="spherical")
    same = spherical.prompt_loss(red[:, None], red[:, None], torch.ones(1, 1))
    assert same.abs().item() < 1e-5  # zero distance to itself


def test_raw_prompts_with_weights_reach_the_guide():
    gen = tiny_generator(extra_prompts=["watermark:-0.5"])
    text = TextFeatures(None, None, gen.encode_prompts(["ignored"]))
    targets, weights = gen._targets(text, ["a red circle:1 | blue:-0.25"], torch.float32)
    assert weights.tolist() == [[1.0, -0.25, -0.5]]
    expected = gen.encode_prompts(["a red circle", "blue", "watermark"])
    assert torch.allclose(targets[0], expected, atol=1e-6)
    targets, weights = gen._targets(text, None, torch.float32)  # no raw prompts: the sentence
    assert weights.tolist() == [[1.0, -0.5]] and torch.allclose(targets[0, 0], F.normalize(text.sentence[0], dim=0))


def test_frames_are_returned_and_saved(tmp_path):
    gen = tiny_generator(frames_dir=str(tmp_path / "frames"))
    text = TextFeatures(None, None, gen.encode_prompts(["a red circle", "a blue square"]))
    out = gen(text, generator=torch.Generator().manual_seed(0), iterations=4, frame_every=2)
    assert [s for s, _ in out.extras["frames"]] == [2, 4]
    assert out.extras["frames"][-1][1].shape == (2, 3, 16, 16)
    assert sorted(p.name for p in (tmp_path / "frames").iterdir()) == [
        "frame_00002_0.png", "frame_00002_1.png", "frame_00004_0.png", "frame_00004_1.png"]
    # the last frame is the final image
    assert torch.allclose(out.extras["frames"][-1][1], out.image, atol=1e-6)


def test_require_weights_refuses_a_random_vqgan_until_weights_load():
    gen = tiny_generator(require_weights=True)
    text = TextFeatures(None, None, gen.encode_prompts(["a red circle"]))
    with pytest.raises(VQGANWeightsMissingError, match="t2izoo convert vqgan"):
        gen(text, iterations=1)
    state = tiny_generator().state_dict()
    state["vq_ready"] = torch.ones((), dtype=torch.uint8)  # e.g. a trained pipeline's weights
    gen.load_state_dict(state)
    assert gen(text, iterations=1).image.shape == (1, 3, 16, 16)


# -- presets and the pipeline ----------------------------------------------------------------------
SHAPES_TINY = {"generator.ch": 8, "generator.ch_mult": [1, 2], "generator.norm_num_groups": 4,
               "generator.n_embed": 16, "generator.embed_dim": 4, "generator.z_channels": 8,
               "generator.resolution": 16, "generator.image_size": 16, "generator.iterations": 2,
               "generator.cutn": 2, "generator.progress": False}


def test_shapes_preset_builds_and_generates_with_weighted_prompts(monkeypatch):
    pipe = t2izoo.build("shapes-vqgan-clip", SHAPES_TINY)
    seen = {}
    original = pipe.generator._targets

    def spy(text, prompts, dtype):
        seen["prompts"] = prompts
        return original(text, prompts, dtype)

    monkeypatch.setattr(pipe.generator, "_targets", spy)
    out = pipe(["a red circle:1 | blue:-0.5", "a green square"], seed=0)
    assert out.tensors.shape == (2, 3, 16, 16) and len(out.images) == 2
    assert seen["prompts"] == ["a red circle:1 | blue:-0.5", "a green square"]
    again = pipe(["a red circle:1 | blue:-0.5", "a green square"], seed=0)
    assert torch.equal(out.tensors, again.tensors)  # seeded


def test_imagenet_preset_keeps_the_paper_config_and_needs_weights(tmp_path):
    cfg = t2izoo.build_config("vqgan-clip-imagenet-f16-16384")
    g = cfg.generator
    assert (g.ch, tuple(g.ch_mult), g.num_res_blocks, tuple(g.attn_resolutions)) == (128, (1, 1, 2, 2, 4), 2, (16,))
    assert (g.z_channels, g.embed_dim, g.n_embed, g.lr, g.require_weights) == (256, 256, 16384, 0.5, True)
    assert g.clip.model == "ViT-B-32" and cfg.encoder.model == "ViT-B-32"
    # at tiny size, with the tiny CLIP in both places: refuses to run without weights ...
    small = {**SHAPES_TINY, "generator.attn_resolutions": [8], "generator.num_res_blocks": 1,
             "generator.clip": TINY_CLIP, "encoder": TINY_CLIP}
    pipe = t2izoo.build("vqgan-clip-imagenet-f16-16384", small)
    with pytest.raises(VQGANWeightsMissingError):
        pipe(["a fox"], seed=0)
    # ... and generates once the user's (converted) weights are given
    pipe.generator.export_vqmodel(tmp_path / "vq")
    pipe = t2izoo.build("vqgan-clip-imagenet-f16-16384", {**small, "generator.vqgan_weights": str(tmp_path / "vq")})
    assert pipe(["a fox | watermark:-1"], seed=0).tensors.shape == (1, 3, 16, 16)
