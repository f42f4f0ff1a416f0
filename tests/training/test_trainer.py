"""The trainer end to end on the tiny GAN recipe: outputs, accumulation, precision, stages."""

from __future__ import annotations

import json

import pytest
import torch

import t2izoo
from t2izoo.training import Recipe, SequentialRecipe, TrainConfig, Trainer, make_recipe


def _cfg(out, steps, **kw):
    return TrainConfig(out=out, steps=steps, batch_size=4, cpu=True, progress=False, **kw)


def test_fit_writes_samples_logs_config_and_a_loadable_final_model(make_pipeline, tiny_shapes, tmp_path):
    pipe = make_pipeline()
    recipe = make_recipe(pipe, lr=1e-3)  # found through the generator's make_recipe
    assert type(recipe).__name__ == "TinyGANRecipe"
    before = {k: v.clone() for k, v in pipe.generator.state_dict().items()}
    result = Trainer(pipe, recipe, tiny_shapes, _cfg(tmp_path, 3, sample_every=2, log_every=1)).fit()

    assert result.steps == 3 and result.steps_per_second > 0
    assert set(result.last_logs) == {"loss/d", "loss/g", "score/d_real"}
    changed = [k for k, v in pipe.generator.state_dict().items() if not torch.equal(v, before[k])]
    assert changed, "training did not change the generator"
    assert sorted(p.name for p in (tmp_path / "samples").glob("*.png")) == [
        "step-00000002.png", "step-00000003.png"
    ]
    assert list((tmp_path / "logs").glob("events.out.tfevents.*"))
    lines = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines] == [1, 2, 3]
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["recipe"].endswith(":TinyGANRecipe") and run["recipe_options"] == {"lr": 0.001}
    assert t2izoo.PipelineConfig.from_file(tmp_path / "config.json") == pipe.config

    loaded = t2izoo.build("shapes-tiny", pretrained=tmp_path / "final")
    for key, value in pipe.generator.state_dict().items():
        assert torch.equal(loaded.generator.state_dict()[key], value), key


def test_gradient_accumulation_steps_once_per_k_micro_batches(make_pipeline, tiny_shapes, tmp_path):
    pipe = make_pipeline()
    recipe = make_recipe(pipe)
    trainer = Trainer(pipe, recipe, tiny_shapes, _cfg(tmp_path, 2, grad_accum=3))
    trainer.fit()
    adam = recipe.optimizers()["generator"].state_dict()["state"]
    assert {int(s["step"]) for s in adam.values()} == {2}  # 2 optimizer steps...
    assert trainer.stream.position == {"epoch": 1, "batch": 0}  # ...from 6 micro-batches


def test_bf16_on_cpu_runs_and_keeps_fp32_weights(make_pipeline, tiny_shapes, tmp_path):
    pipe = make_pipeline()
    result = Trainer(pipe, make_recipe(pipe), tiny_shapes, _cfg(tmp_path, 2, mixed_precision="bf16")).fit()
    assert all(torch.isfinite(torch.tensor(v)) for v in result.last_logs.values())
    assert all(p.dtype == torch.float32 for p in pipe.generator.parameters())


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("precision", ["no", "fp16", "bf16"])
def test_cuda_mixed_precision(make_pipeline, tiny_shapes, tmp_path, precision):
    pipe = make_pipeline()
    cfg = TrainConfig(out=tmp_path, steps=3, batch_size=4, progress=False, mixed_precision=precision, save_every=2)
    result = Trainer(pipe, make_recipe(pipe), tiny_shapes, cfg).fit()
    assert result.steps == 3 and pipe.generator.device.type == "cuda"
    assert (tmp_path / "final" / "generator" / "model.safetensors").is_file()


class _L2Recipe(Recipe):
    """Minimal stage recipe: pull one module's output images to a constant."""

    def __init__(self, pipeline, target: float, train_generator: bool):
        super().__init__(pipeline)
        self.target = target
        self.extra = torch.nn.Conv2d(3, 3, 1)
        params = list(self.extra.parameters())
        if train_generator:
            params += list(pipeline.generator.parameters())
        self.opt = torch.optim.SGD(params, lr=0.1)
        self.train_generator = train_generator

    def modules(self):
        mods = {"extra": self.extra}
        if self.train_generator:
            mods["generator"] = self.pipeline.generator
        return mods

    def optimizers(self):
        return {"sgd": self.opt}

    def training_step(self, batch, step):
        with torch.no_grad():
            text = self.pipeline.encoder(self.tokens(batch))
        if self.train_generator:
            images = self.model("generator")(text).image
        else:
            with torch.no_grad():
                images = self.pipeline.generator(text).image
        loss = (self.model("extra")(images) - self.target).pow(2).mean()
        self.optimize("sgd", loss)
        return {"loss": loss.item()}


def test_sequential_recipe_freezes_the_first_stage(make_pipeline, tiny_shapes, tmp_path):
    pipe = make_pipeline()
    pipe.encoder.requires_grad_(False)
    first = _L2Recipe(pipe, 0.5, train_generator=True)
    second = _L2Recipe(pipe, -0.5, train_generator=False)
    seq = SequentialRecipe(pipe, [("gan", first, 2), ("sr", second, None)])
    trainer = Trainer(pipe, seq, tiny_shapes, _cfg(tmp_path, 4, save_final=False))

    snapshots = {}
    original = seq.training_step

    def spy(batch, step):
        out = original(batch, step)
        snapshots[step] = {k: v.clone() for k, v in pipe.generator.state_dict().items()}
        return out

    seq.training_step = spy
    trainer.fit()
    # the generator moves during stage 1 and is frozen (and in eval mode) during stage 2
    assert not all(torch.equal(snapshots[0][k], snapshots[1][k]) for k in snapshots[0])
    for k in snapshots[1]:
        assert torch.equal(snapshots[1][k], snapshots[3][k]), k
    assert not any(p.requires_grad for p in pipe.generator.parameters())
    assert set(seq.modules()) == {"gan.extra", "gan.generator", "sr.extra"}
    assert set(seq.optimizers()) == {"gan.sgd", "sr.sgd"}
    logs = json.loads((tmp_path / "metrics.jsonl").read_text().splitlines()[-1])
    assert "sr/loss" in logs


def test_non_finite_loss_stops_with_a_clear_error(make_pipeline, tiny_shapes, tmp_path):
    pipe = make_pipeline()
    recipe = make_recipe(pipe)
    recipe.training_step = lambda batch, step: {"loss/d": float("nan")}
    with pytest.raises(FloatingPointError, match="loss/d"):
        Trainer(pipe, recipe, tiny_shapes, _cfg(tmp_path, 2)).fit()


def test_named_recipe_registry(make_pipeline):
    from t2izoo.training import get_recipe, list_recipes, register_recipe

    register_recipe("test-l2", "tests_training_missing.module:Nope", description="broken on purpose")
    assert list_recipes()["test-l2"] == "broken on purpose"
    with pytest.raises(ImportError, match="test-l2"):
        get_recipe("test-l2")
    with pytest.raises(ValueError, match="already registered"):
        register_recipe("test-l2", "other:Thing")
    register_recipe("test-l2", _L2Recipe, overwrite=True)
    recipe = make_recipe(make_pipeline(), "test-l2", target=0.0, train_generator=False)
    assert isinstance(recipe, _L2Recipe)
    with pytest.raises(KeyError, match="test-l3"):
        get_recipe("test-l3")


def test_attention_maps_are_written_when_the_recipe_returns_them(make_pipeline, tiny_shapes, tmp_path):
    pipe = make_pipeline()
    recipe = make_recipe(pipe)
    plain_sample = recipe.sample

    def with_attention(batch, generator=None):
        out = plain_sample(batch, generator)
        out["attention1"] = torch.rand(len(batch.captions), 5, 8, 8, generator=generator)
        return out

    recipe.sample = with_attention
    Trainer(pipe, recipe, tiny_shapes, _cfg(tmp_path, 1, num_samples=2)).fit()
    assert (tmp_path / "samples" / "step-00000001-attention1.png").is_file()
