"""CD-AttnGAN's two-stage recipe: stage 1 (attngan + L_clip), stage 2 (diffusion-sr), at tiny sizes."""

from __future__ import annotations

import pytest
import torch

import t2izoo

from .test_presets import tiny


@pytest.fixture(scope="module")
def shapes():
    from t2izoo.data.shapes import ShapesDataset

    return ShapesDataset("train", size=8, resolutions=(64, 128, 256))


def make_pipe(**kw):
    torch.manual_seed(0)
    return t2izoo.build("shapes-cd-attngan", tiny("shapes-cd-attngan"), **kw)


def a_batch(pipe, shapes, n=4):
    from t2izoo.data import collate

    return collate([shapes[i] for i in range(n)], tokenizer=pipe.encoder.tokenizer)


def test_the_card_chooses_the_two_stage_recipe():
    from t2izoo.training import make_recipe

    pipe = make_pipe()
    with pytest.raises(ValueError, match="stage1_steps"):
        make_recipe(pipe, ndf=4)
    recipe = make_recipe(pipe, ndf=4, stage1_steps=3)
    assert type(recipe).__name__ == "CDAttnGANRecipe" and [s[0] for s in recipe.stages] == ["gan", "sr"]
    assert recipe.data_resolutions() == [64, 128, 256]
    # the refiner-less ablation trains stage 1 only; stage 2 alone needs a refiner
    no_sr = make_recipe(make_pipe(refiner=None), ndf=4)
    assert [s[0] for s in no_sr.stages] == ["gan"]
    with pytest.raises(ValueError, match="has none"):
        make_recipe(make_pipe(refiner=None), stage="2")


def test_stage1_adds_lambda_l_clip_and_trains_only_the_join(shapes):
    from t2izoo.training import make_recipe

    pipe = make_pipe()
    recipe = make_recipe(pipe, stage="1", ndf=4, lambda_clip=2.0, tau=0.1)
    gan = recipe.stages[0][1]
    enc = pipe.encoder
    clip0 = [p.detach().clone() for p in enc.clip.parameters()]
    lstm0 = [p.detach().clone() for p in enc.lstm.parameters()]
    proj0 = enc.proj.weight.detach().clone()
    g0 = [p.detach().clone() for p in pipe.generator.parameters()]
    batch = a_batch(pipe, shapes)
    recipe.train(True)
    logs = recipe.training_step(batch, 0)
    assert {"gan/loss/clip", "gan/loss/d", "gan/loss/g", "gan/loss/kl"} <= set(logs)
    assert torch.isfinite(torch.tensor(list(logs.values()))).all()
    # L_clip of the step equals eq. 4 on the frozen CLIP's features of the fakes it made
    assert 0 < logs["gan/loss/clip"] < 10
    assert any(not torch.equal(a, b) for a, b in zip(g0, pipe.generator.parameters()))
    assert not torch.equal(proj0, enc.proj.weight)  # the FC join learns with G
    assert all(torch.equal(a, b) for a, b in zip(clip0, enc.clip.parameters()))  # CLIP frozen
    assert all(torch.equal(a, b) for a, b in zip(lstm0, enc.lstm.parameters()))  # LSTM frozen
    assert gan.lambda_clip == 2.0 and gan.tau == 0.1
    sample = recipe.sample(batch)
    assert sample["final"].shape[-1] == 128 and pipe.refiner is not None  # no refining in stage 1


def test_l_clip_gradient_reaches_the_generator_through_frozen_clip(shapes):
    from t2izoo.training import make_recipe

    pipe = make_pipe(refiner=None)
    gan = make_recipe(pipe, ndf=4).stages[0][1]
    tokens = a_batch(pipe, shapes).tokens
    text = gan.encode_text(tokens)
    out = pipe.generator(text)
    loss, logs = gan.extra_generator_loss(None, text, out)
    loss.backward()
    assert pipe.generator.img_net2.img[0].weight.grad is not None
    assert all(p.grad is None for p in pipe.encoder.clip.parameters())
    from t2izoo_cdattngan.losses import clip_contrastive_loss

    with torch.no_grad():
        again = clip_contrastive_loss(pipe.encoder.image_features(out.images[-1]), gan._parts.clip.sentence, gan.tau)
    assert abs(float(again) - logs["loss/clip"]) < 1e-5


def test_no_clip_ablation_trains_without_l_clip(shapes):
    from t2izoo.training import make_recipe

    pipe = t2izoo.build("shapes-cd-attngan", {
        "encoder": "lstm", "encoder.embed_dim": 4, "encoder.hidden": 8, "encoder.max_length": 10,
        "generator.fusion": "concat-attention", **{k: v for k, v in tiny("shapes-cd-attngan").items()
                                                   if k.startswith("generator.") and "fusion" not in k},
    }, refiner=None)
    with pytest.warns(RuntimeWarning, match="no CLIP side"):
        recipe = make_recipe(pipe, ndf=4)
    logs = recipe.training_step(a_batch(pipe, shapes), 0)
    assert "gan/loss/clip" not in logs and "gan/loss/g" in logs


def test_two_stages_through_the_trainer_then_stage2_from_a_directory(shapes, tmp_path, fresh_accelerate):
    from t2izoo.training import TrainConfig, Trainer, make_recipe

    pipe = make_pipe()
    recipe = make_recipe(pipe, ndf=4, stage1_steps=2, sr_lr=1e-3)
    cfg = TrainConfig(out=tmp_path / "run", steps=4, batch_size=2, progress=False, tensorboard=False, cpu=True)
    trainer = Trainer(pipe, recipe, shapes, cfg, resolutions=recipe.data_resolutions())
    result = trainer.fit()
    assert result.steps == 4 and any(k.startswith("sr/") for k in result.last_logs)
    assert not any(p.requires_grad for p in pipe.generator.parameters())  # stage 1 frozen in stage 2
    assert not any(p.requires_grad for p in pipe.encoder.parameters())
    # stage 2 started from the averaged stage-1 generator
    gan = recipe.stages[0][1]
    assert all(torch.equal(p, e) for p, e in zip(pipe.generator.parameters(), gan.ema))
    final = result.final_dir
    assert {p.name for p in final.iterdir()} >= {"encoder", "generator", "refiner", "pipeline.json"}
    again = t2izoo.build(final, pretrained=final)
    assert again(["a red circle"], seed=0, num_inference_steps=2).tensors.shape == (1, 3, 256, 256)



def test_cli_stage2_from_a_stage1_directory(shapes, tmp_path, fresh_accelerate):
    from t2izoo.cli import main

    args = [f"{k}={_yaml(v)}" for k, v in tiny("shapes-cd-attngan").items()]
    common = ["--data-size", "8", "--batch-size", "2", "--cpu", "--no-progress", "-O", "ndf=4"]
    assert main(["train", "shapes-cd-attngan", *args, "--stage", "1", "--steps", "2",
                 "--out", str(tmp_path / "s1"), *common]) == 0
    stage1 = t2izoo.build(tmp_path / "s1" / "final", pretrained=tmp_path / "s1" / "final")
    _reset_accelerate()
    assert main(["train", "shapes-cd-attngan", *args, "--stage", "2", "--from", str(tmp_path / "s1" / "final"),
                 "--steps", "2", "--out", str(tmp_path / "s2"), "--data-size", "8", "--batch-size", "2",
                 "--cpu", "--no-progress"]) == 0
    stage2 = t2izoo.build(tmp_path / "s2" / "final", pretrained=tmp_path / "s2" / "final")
    for a, b in zip(stage1.generator.state_dict().values(), stage2.generator.state_dict().values()):
        assert torch.equal(a, b)  # stage 2 kept stage 1's generator as it was
    assert not all(
        torch.equal(a, b) for a, b in zip(stage1.refiner.state_dict().values(), stage2.refiner.state_dict().values())
    )


def _reset_accelerate():
    from accelerate.state import AcceleratorState, GradientState

    AcceleratorState._reset_state(reset_partial_state=True)
    GradientState._reset_state()


def _yaml(value):
    import json

    return json.dumps(value) if not isinstance(value, str) else value
