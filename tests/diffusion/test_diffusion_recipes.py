"""The diffusion and CLIP training recipes take real optimisation steps on tiny pipelines."""

import pytest
import torch

import t2izoo
from t2izoo.data import Batch
from t2izoo.training import get_recipe, make_recipe

CLIP = {"name": "clip", "model": "shapes-clip-tiny", "pretrained": None, "context_length": 12}
GEN = {"name": "clip-diffusion", "image_size": 16, "word_dim": 64, "sentence_dim": 64, "block_out_channels": [16, 32],
       "layers_per_block": 1, "norm_num_groups": 8, "cond_dim": 16, "num_inference_steps": 2}
SR = {"name": "diffusion-sr", "lr_size": 16, "image_size": 32, "block_out_channels": [16, 32], "layers_per_block": 1,
      "norm_num_groups": 8, "cond_dim": 16, "lr_encoder_channels": 8, "sampler": "ddim", "num_inference_steps": 2}


def _batch(sizes, n=4):
    g = torch.Generator().manual_seed(0)
    images = {s: torch.rand(n, 3, s, s, generator=g) * 2 - 1 for s in sizes}
    captions = ["a red circle", "a blue square", "a green triangle", "a big yellow star"][:n]
    return Batch(images=images, captions=captions, class_ids=torch.zeros(n, dtype=torch.long), attributes=None,
                 keys=[str(i) for i in range(n)])


def _changed(module, before):
    return any(not torch.equal(before[k], v) for k, v in module.state_dict().items())


def test_clip_diffusion_recipe_trains_generator_only():
    pipe = t2izoo.build({"encoder": CLIP, "generator": GEN})
    recipe = make_recipe(pipe, lr=1e-3)  # found through the generator
    assert type(recipe).__name__ == "ClipDiffusionRecipe" and recipe.data_resolutions() == [16]
    enc0 = {k: v.clone() for k, v in pipe.encoder.state_dict().items()}
    gen0 = {k: v.clone() for k, v in pipe.generator.state_dict().items()}
    recipe.train(True)
    logs = recipe.training_step(_batch([16]), 0)
    assert logs["loss/diffusion"] > 0
    assert _changed(pipe.generator, gen0) and not _changed(pipe.encoder, enc0)
    state = recipe.state_dict()
    recipe.training_step(_batch([16]), 1)
    recipe.load_state_dict(state)  # the t/eps stream is checkpointed
    assert torch.equal(recipe.rng.get_state(), state["rng"])


@pytest.mark.parametrize("lr_source", ["downsample", "generator"])
def test_diffusion_sr_recipe_stage_two(lr_source):
    pipe = t2izoo.build({"encoder": CLIP, "generator": GEN, "refiner": SR})
    recipe = get_recipe("diffusion-sr")(pipe, lr=1e-3, lr_source=lr_source)
    gen0 = {k: v.clone() for k, v in pipe.generator.state_dict().items()}
    ref0 = {k: v.clone() for k, v in pipe.refiner.state_dict().items()}
    recipe.train(True)
    assert not pipe.generator.training
    logs = recipe.training_step(_batch([32]), 0)
    assert logs["loss/diffusion_sr"] > 0
    assert _changed(pipe.refiner, ref0) and not _changed(pipe.generator, gen0)
    samples = recipe.sample(_batch([32], n=2), torch.Generator().manual_seed(0))
    assert samples["final"].shape == (2, 3, 32, 32)
    with pytest.raises(ValueError, match="lr_source"):
        get_recipe("diffusion-sr")(pipe, lr_source="bicubic")


def test_shapes_clip_recipe():
    pipe = t2izoo.build({"encoder": {**CLIP, "frozen": False}, "generator": GEN})
    recipe = get_recipe("shapes-clip")(pipe, lr=1e-3)
    assert recipe.data_resolutions() == [64]
    batch = _batch([64])
    first = recipe.training_step(batch, 0)["loss/contrastive"]
    for step in range(1, 12):
        last = recipe.training_step(batch, step)["loss/contrastive"]
    assert last < first
    frozen = t2izoo.build({"encoder": CLIP, "generator": GEN})
    with pytest.raises(ValueError, match="encoder.frozen=false"):
        get_recipe("shapes-clip")(frozen)


def test_export_open_clip_roundtrip(tmp_path):
    pipe = t2izoo.build({"encoder": CLIP, "generator": GEN})
    path = pipe.encoder.export_open_clip(tmp_path / "clip.pt")
    again = t2izoo.create_component("encoder", {**CLIP, "pretrained": str(path)})
    prompts = ["a red circle"]
    assert torch.allclose(again.encode(prompts).sentence, pipe.encoder.encode(prompts).sentence)


def test_diffusion_sr_recipe_trains_on_aligned_crops(monkeypatch):
    """crop=N: the refiner's loss sees N x N high-res crops and the low-res crops under them."""
    pipe = t2izoo.build({"encoder": CLIP, "generator": GEN, "refiner": SR})
    seen = []
    loss = pipe.refiner.loss

    def spy(hr, lr, text, generator=None, max_timestep=None):
        seen.append((hr.clone(), None if lr is None else lr.clone()))
        return loss(hr, lr, text, generator, max_timestep=max_timestep)

    monkeypatch.setattr(pipe.refiner, "loss", spy)
    batch = _batch([32])
    for source in ("downsample", "generator"):
        seen.clear()
        recipe = get_recipe("diffusion-sr")(pipe, lr=1e-3, crop=8, lr_source=source, seed=1)
        recipe.train(True)
        recipe.training_step(batch, 0)
        hr, lr = seen[0]
        assert hr.shape[-2:] == (8, 8)
        # the crop is a real window of the batch's 32 px images, at an even offset (scale 2)
        full = batch.images[32]
        hits = [(y, x) for y in range(0, 25, 2) for x in range(0, 25, 2) if torch.equal(full[..., y:y + 8, x:x + 8], hr)]
        assert len(hits) == 1
        if source == "generator":
            assert lr.shape[-2:] == (4, 4)
        else:
            assert lr is None
    with pytest.raises(ValueError, match="multiple of 2"):
        get_recipe("diffusion-sr")(pipe, crop=7)
    with pytest.raises(ValueError, match="multiple of 2"):
        get_recipe("diffusion-sr")(pipe, crop=64)  # larger than the 32 px image


def test_diffusion_sr_recipe_max_timestep(monkeypatch):
    """max_timestep=K: every training step draws t < K (the low-noise end a strength-s refiner uses)."""
    from t2izoo.nn import diffusion

    pipe = t2izoo.build({"encoder": CLIP, "generator": GEN, "refiner": SR})
    drawn = []
    real = diffusion.add_noise

    def spy(x0, noise, timesteps, schedule):
        drawn.append(timesteps.clone())
        return real(x0, noise, timesteps, schedule)

    monkeypatch.setattr(diffusion, "add_noise", spy)
    recipe = get_recipe("diffusion-sr")(pipe, lr=1e-3, max_timestep=5)
    recipe.train(True)
    for step in range(4):
        recipe.training_step(_batch([32]), step)
    t = torch.cat(drawn)
    assert t.max() < 5 and t.numel() == 16
    with pytest.raises(ValueError, match="max_timestep"):
        diffusion.sample_timesteps(2, diffusion.NoiseSchedule(num_train_timesteps=10), max_timestep=11)
