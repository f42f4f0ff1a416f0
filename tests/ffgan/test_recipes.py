"""The ffgan recipe (spectral-norm discriminators, eq. 8-12) and the presets, on tiny shapes data."""

from __future__ import annotations

import pytest
import torch

import t2izoo

from ..attngan.test_recipes import TINY  # the same tiny AttnGAN-family sizes


@pytest.fixture(scope="module")
def shapes():
    from t2izoo.data.shapes import ShapesDataset

    return ShapesDataset("train", size=8, resolutions=(64, 128))


def make_pipe(preset="shapes-ffgan", **extra):
    torch.manual_seed(0)
    overrides = {**TINY, **extra}
    if preset == "shapes-ffgan":
        overrides.update({"generator.ndf": 2, "generator.fusion.hidden": 4})
    return t2izoo.build(preset, overrides)


def a_batch(pipe, shapes, n=4):
    from t2izoo.data import collate

    return collate([shapes[i] for i in range(n)], tokenizer=pipe.encoder.tokenizer, max_length=12)


def test_discriminators_are_spectrally_normalised_without_batch_norm():
    from t2izoo_ffgan.discriminator import build_discriminators
    from torch.nn.utils.parametrize import is_parametrized

    ds = build_discriminators(3, ndf=2, sentence_dim=8)
    for d, size in zip(ds, (64, 128, 256)):
        convs = [m for m in d.modules() if isinstance(m, torch.nn.Conv2d)]
        assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in d.modules())
        # every conv but the two 4x4 logits convs is spectrally normalised and has a bias
        sn = [m for m in convs if is_parametrized(m, "weight")]
        assert len(sn) == len(convs) - 2 and all(m.bias is not None for m in sn)
        code = d(torch.randn(2, 3, size, size))
        assert code.shape == (2, 16, 4, 4)
        assert d.COND_DNET(code, torch.randn(2, 8)).shape == (2,) and d.UNCOND_DNET(code).shape == (2,)
    # spectral norm bounds each normalised weight's largest singular value by ~1 after iterations
    conv = ds[0].img_code_s16[0]
    conv.train()
    for _ in range(30):
        w = conv.weight
    sigma = torch.linalg.matrix_norm(w.detach().flatten(1), ord=2)
    assert 0.9 < float(sigma) < 1.1


def test_ffgan_recipe_steps_update_g_and_d_with_paper_weights(shapes, tmp_path):
    from t2izoo_ffgan.discriminator import FFGANDiscriminator

    from t2izoo.nn import DAMSMImageEncoder
    from t2izoo.training import make_recipe

    DAMSMImageEncoder(embed_dim=16, backbone="tiny", input_size=64, tiny_width=4).save_pretrained(tmp_path / "img")
    pipe = make_pipe()
    recipe = make_recipe(pipe, image_encoder=str(tmp_path / "img"), lambda1=0.5, lambda2=3.0)
    assert type(recipe).__name__ == "FFGANRecipe" and recipe.data_resolutions() == [64, 128]
    assert (recipe.lambda1, recipe.lambda2) == (0.5, 3.0)
    assert all(isinstance(d, FFGANDiscriminator) for d in recipe.discriminators.netsD)
    assert recipe.discriminators.netsD[0].img_code_s16[0].out_channels == 2  # generator.ndf
    # D's optimizer holds exactly the spectral-norm discriminators' parameters
    opt_ids = {id(p) for g in recipe.opt_d.param_groups for p in g["params"]}
    assert opt_ids == {id(p) for p in recipe.discriminators.parameters()}
    g0 = [p.detach().clone() for p in pipe.generator.parameters()]
    d0 = [p.detach().clone() for p in recipe.discriminators.parameters()]
    batch = a_batch(pipe, shapes)
    recipe.train(True)
    logs = recipe.training_step(batch, 0)
    assert set(logs) == {"loss/d", "loss/g_adv", "loss/w", "loss/s", "loss/kl", "loss/g"}
    assert all(torch.isfinite(torch.tensor(v)) for v in logs.values())
    # eq. 10: L_G = adversarial + lambda1 KL + lambda2 DAMSM (w and s already carry lambda2)
    assert logs["loss/g"] == pytest.approx(logs["loss/g_adv"] + logs["loss/w"] + logs["loss/s"] + logs["loss/kl"], rel=1e-4)
    assert any(not torch.equal(a, b) for a, b in zip(g0, pipe.generator.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(d0, recipe.discriminators.parameters()))


def test_lambda_aliases_and_conflicts():
    from t2izoo.training import make_recipe

    with pytest.warns(RuntimeWarning, match="DAMSM term"):
        recipe = make_recipe(make_pipe(), lam=7.0, kl_weight=2.0)
    assert (recipe.lambda1, recipe.lambda2) == (2.0, 7.0)
    with pytest.raises(ValueError, match="lambda2=5.0 and lam=7.0 disagree"):
        make_recipe(make_pipe(), lambda2=5.0, lam=7.0)


@pytest.mark.parametrize("preset,extra,recipe_name", [
    ("shapes-ffgan", {}, None),
    ("shapes-attngan", {"generator.fusion": "affine", "generator.fusion.hidden": 4}, None),
    ("shapes-attngan", {"generator.fusion": {"name": "affine", "level": "sentence"}}, "ffgan"),
])
def test_two_training_steps_through_the_trainer(preset, extra, recipe_name, shapes, tmp_path, fresh_accelerate):
    from t2izoo.training import TrainConfig, Trainer, make_recipe

    pipe = make_pipe(preset, **extra)
    with pytest.warns(RuntimeWarning, match="DAMSM term"):
        recipe = make_recipe(pipe, recipe_name, ndf=2)
    cfg = TrainConfig(out=tmp_path / "run", steps=2, batch_size=4, progress=False, tensorboard=False, cpu=True)
    before = [p.detach().clone() for p in pipe.generator.parameters()]
    result = Trainer(pipe, recipe, shapes, cfg, resolutions=[64, 128]).fit()
    assert result.steps == 2 and (result.final_dir / "generator" / "model.safetensors").is_file()
    assert any(not torch.equal(a, b) for a, b in zip(before, pipe.generator.parameters()))
    again = t2izoo.build(preset, {**TINY, **extra, **({"generator.ndf": 2, "generator.fusion.hidden": 4}
                                                      if preset == "shapes-ffgan" else {})},
                         pretrained=result.final_dir)
    assert again(["a red circle"], seed=0).tensors.shape == (1, 3, 128, 128)


@pytest.mark.parametrize("preset", ["shapes-ffgan", "ffgan-bird"])
def test_presets_build_and_generate_at_tiny_size(preset):
    overrides = {
        "generator.ngf": 2, "generator.ndf": 2, "generator.z_dim": 4, "generator.c_dim": 4,
        "generator.word_dim": 8, "generator.sentence_dim": 8, "generator.fusion.hidden": 4,
        "encoder.embed_dim": 4, "encoder.hidden": 8,
    }
    if preset == "ffgan-bird":
        overrides.update({"encoder.vocab": "shapes", "encoder.vocab_size": None, "generator.branch_num": 2})
    pipe = t2izoo.build(preset, overrides)
    assert pipe.generator.config.name == "ffgan"
    out = pipe(["a small red circle left of a blue square"], seed=0)
    assert out.tensors.shape == (1, 3, 128, 128)
    assert out.tensors.min() >= -1 and out.tensors.max() <= 1
    again = pipe(["a small red circle left of a blue square"], seed=0)
    assert torch.equal(out.tensors, again.tensors)


def test_bird_preset_has_the_paper_sizes():
    cfg = t2izoo.build_config("ffgan-bird")
    g = cfg.generator
    assert (g.ngf, g.ndf, g.z_dim, g.c_dim, g.word_dim, g.branch_num, g.r_num) == (64, 32, 100, 100, 256, 3, 2)
    assert (g.fusion.name, g.fusion.level, g.fusion.gsr, g.fusion.hidden) == ("affine", "word", True, 128)
    assert g.image_size == 256 and cfg.encoder.max_length == 18
