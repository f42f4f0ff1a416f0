"""Every cvae preset builds and generates at tiny size; the recipe lowers the negative ELBO."""

import pytest
import torch

import t2izoo
from t2izoo.data import Batch
from t2izoo.training import get_recipe, make_recipe

T5_TINY = {"encoder.pretrained": False, "encoder.architecture": {"d_model": 16, "d_ff": 32, "num_layers": 1,
                                                                  "num_heads": 2, "d_kv": 8}}
TINY = {
    "cvae-fashion-mnist": ({"generator.hidden": [16], "generator.latent_dim": 4}, ["a sneaker", "an ankle boot"], 1, 28),
    "cvae-clip-coco": ({"encoder.model": "shapes-clip-tiny", "encoder.pretrained": None, "generator.text_dim": 64,
                        "generator.image_size": 32, "generator.channels": [4, 8], "generator.hidden": [16],
                        "generator.latent_dim": 4}, ["a red circle", "a blue star"], 3, 32),
    "cvae-t5-gated-coco": ({**T5_TINY, "generator.text_dim": 16, "generator.image_size": 16,
                            "generator.channels": [4, 8], "generator.latent_dim": 4},
                           ["a car at a town centre", "an orange tree"], 3, 16),
    "shapes-cvae": ({**T5_TINY, "generator.text_dim": 16, "generator.channels": [4, 8, 8], "generator.hidden": [16]},
                    ["a red circle", "a big blue square left of a small green star"], 3, 32),
}


@pytest.mark.parametrize("preset", sorted(TINY))
def test_preset_builds_and_generates_at_tiny_size(preset):
    overrides, prompts, channels, size = TINY[preset]
    torch.manual_seed(0)
    pipe = t2izoo.build(preset, overrides)
    out = pipe(prompts, seed=0)
    assert out.tensors.shape == (2, channels, size, size) and len(out.images) == 2
    assert torch.equal(pipe(prompts, seed=0).tensors, out.tensors)
    assert not torch.equal(pipe(prompts, seed=1).tensors, out.tensors)
    assert t2izoo.load_card(preset).config["generator"]["name"] == "cvae"


def test_presets_keep_the_paper_sizes():
    fm = t2izoo.build_config("cvae-fashion-mnist")
    assert (fm.generator.image_size, fm.generator.arch, fm.generator.loss, fm.generator.text_dim) == (28, "mlp", "bce", 10)
    assert fm.generator.fusion.name == "latent-concat"
    clip = t2izoo.build_config("cvae-clip-coco")
    assert (clip.encoder.model, clip.generator.text_dim, clip.generator.latent_dim, clip.generator.image_size) == (
        "ViT-B-32", 512, 128, 224)
    t5 = t2izoo.build_config("cvae-t5-gated-coco")
    g = t5.generator
    assert (t5.encoder.model, g.channels, g.latent_dim, g.fusion.name, g.loss, g.condition_encoder) == (
        "t5-small", [64, 128], 128, "gated", "mse", False)


def _batch(n=8, size=8):
    g = torch.Generator().manual_seed(0)
    # a learnable pattern: the left half bright for circles, dark for squares
    captions = ["a red circle", "a blue square"] * (n // 2)
    images = torch.full((n, 3, size, size), -0.8)
    images[0::2, :, :, : size // 2] = 0.8
    images += 0.05 * torch.randn(images.shape, generator=g)
    return Batch(images={size: images.clamp(-1, 1)}, captions=captions, class_ids=torch.zeros(n, dtype=torch.long),
                 attributes=None, keys=[str(i) for i in range(n)])


def test_recipe_lowers_the_loss_and_trains_only_what_it_should():
    torch.manual_seed(0)
    pipe = t2izoo.build({"encoder": {"name": "label", "vocabulary": "shapes"},
                         "generator": {"name": "cvae", "image_size": 8, "image_channels": 3, "text_dim": 80,
                                       "latent_dim": 4, "hidden": [32], "fusion": "gated"}})
    recipe = make_recipe(pipe, lr=3e-3)
    assert type(recipe) is get_recipe("cvae") and recipe.data_resolutions() == [8]
    recipe.train(True)
    batch = _batch()
    first = recipe.training_step(batch, 0)
    for step in range(1, 60):
        last = recipe.training_step(batch, step)
    assert set(first) >= {"loss/total", "loss/reconstruction", "loss/kl"}
    assert last["loss/total"] < 0.8 * first["loss/total"]
    samples = recipe.sample(_batch(n=2), torch.Generator().manual_seed(0))
    assert samples["final"].shape == samples["reconstruction"].shape == (2, 3, 8, 8)
    # decoding from the prior follows the caption: circles bright on the left, squares dark
    pipe.eval()
    out = pipe(["a red circle", "a blue square"], seed=0).tensors
    assert out[0, :, :, :4].mean() > out[1, :, :, :4].mean() + 0.5


def test_recipe_refuses_other_generators_and_trains_encoder_on_request():
    with pytest.raises(TypeError, match="trains a cvae generator"):
        get_recipe("cvae")(t2izoo.build("shapes-tiny"))
    torch.manual_seed(0)
    pipe = t2izoo.build("shapes-cvae", {**TINY["shapes-cvae"][0], "encoder.frozen": False})
    before = {k: v.clone() for k, v in pipe.encoder.state_dict().items()}
    recipe = make_recipe(pipe, train_encoder=True)
    recipe.train(True)
    recipe.training_step(_batch(n=2, size=32), 0)
    assert any(not torch.equal(before[k], v) for k, v in pipe.encoder.state_dict().items())
