"""diffusion-sr refiner and clip-diffusion generator: shapes, seeds, samplers, training signal."""

import pydantic
import pytest
import torch
from t2izoo_diffusion.configs import ClipDiffusionConfig, DiffusionSRConfig

import t2izoo
from t2izoo.testing import make_text_features


def _refiner(**over):
    cfg = {**DiffusionSRConfig.tiny(), "word_dim": 8, "sentence_dim": 8, **over}
    torch.manual_seed(0)
    return t2izoo.create_component("refiner", {"name": "diffusion-sr", **cfg}).eval()


def _lr(seed=0, size=16):
    return torch.rand(2, 3, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


@pytest.fixture(scope="module")
def refiner():
    return _refiner()


@pytest.fixture(scope="module")
def text():
    return make_text_features(2, 8, 8)


def _run(module, lr, text, seed, **kw):
    with torch.no_grad():
        return module(lr, text, generator=torch.Generator().manual_seed(seed), **kw)


def test_refiner_shape_range_and_ports(refiner, text):
    out = _run(refiner, _lr(), text, 0)
    assert out.shape == (2, 3, 32, 32)
    assert out.min() >= -1 and out.max() <= 1
    ports = refiner.config.ports()
    assert ports.inputs["image_size"] == 16 and ports.outputs["image_size"] == 32
    assert refiner.unet.config.in_channels == 6  # SR3: x_t and the upsampled low-res image


def test_refiner_seeded(refiner, text):
    for sampler in ("ddpm", "dpm-solver++"):
        a = _run(refiner, _lr(), text, 0, sampler=sampler, num_inference_steps=4)
        b = _run(refiner, _lr(), text, 0, sampler=sampler, num_inference_steps=4)
        c = _run(refiner, _lr(), text, 1, sampler=sampler, num_inference_steps=4)
        assert torch.equal(a, b), sampler
        assert not torch.allclose(a, c), sampler


def test_refiner_sampler_switching(refiner, text):
    outs = {s: _run(refiner, _lr(), text, 0, sampler=s, num_inference_steps=4) for s in ("ddpm", "ddim", "dpm-solver++")}
    assert all(o.shape == (2, 3, 32, 32) for o in outs.values())
    assert not torch.allclose(outs["ddpm"], outs["ddim"])
    assert not torch.allclose(outs["ddim"], outs["dpm-solver++"])
    # the config's sampler is the default; forward kwargs override it
    by_config = _refiner(sampler="ddim", num_inference_steps=4)
    by_config.load_state_dict(refiner.state_dict())
    assert torch.allclose(_run(by_config, _lr(), text, 0), outs["ddim"], atol=1e-6)


def test_refiner_strength_starts_from_the_upsampled_input(text):
    """strength < 1 runs that fraction of the steps from the noised upsampled input (config or call)."""
    sr = _refiner(sampler="ddim", num_inference_steps=10)
    calls = []
    forward = sr.unet.forward
    sr.unet.forward = lambda *a, **k: calls.append(1) or forward(*a, **k)
    full = _run(sr, _lr(), text, 0)
    assert len(calls) == 10
    calls.clear()
    part = _run(sr, _lr(), text, 0, strength=0.3)
    assert len(calls) == 3 and part.shape == full.shape and not torch.equal(part, full)
    calls.clear()
    configured = _refiner(sampler="ddim", num_inference_steps=10, strength=0.3)
    own_forward = configured.unet.forward
    configured.unet.forward = lambda *a, **k: calls.append(1) or own_forward(*a, **k)
    _run(configured, _lr(), text, 0)
    assert len(calls) == 3
    with pytest.raises(pydantic.ValidationError):
        _refiner(strength=0.0)


def test_refiner_uses_its_conditions(refiner, text):
    base = _run(refiner, _lr(0), text, 0, sampler="ddim", num_inference_steps=3)
    other_lr = _run(refiner, _lr(1), text, 0, sampler="ddim", num_inference_steps=3)
    other_text = _run(refiner, _lr(0), make_text_features(2, 8, 8, seed=5), 0, sampler="ddim", num_inference_steps=3)
    assert not torch.allclose(base, other_lr)
    assert not torch.allclose(base, other_text)
    # any input size is resized to lr_size first
    assert _run(refiner, _lr(size=20), text, 0, num_inference_steps=2).shape == (2, 3, 32, 32)


def test_refiner_loss_decreases_on_one_batch():
    torch.manual_seed(0)
    sr = _refiner(lr_size=8, image_size=16, block_out_channels=(16, 32)).train()
    text = make_text_features(2, 8, 8)
    hr = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(3)) * 2 - 1
    lr = sr.degrade(hr)
    assert lr.shape == (2, 3, 8, 8)

    def held_out():  # fixed t and noise, so before/after are comparable
        with torch.no_grad():
            return float(sum(sr.loss(hr, lr, text, torch.Generator().manual_seed(s)) for s in range(4)) / 4)

    before = held_out()
    opt = torch.optim.AdamW(sr.parameters(), lr=2e-3)
    g = torch.Generator().manual_seed(0)
    for _ in range(30):
        loss = sr.loss(hr, lr, text, g)
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = held_out()
    assert after < 0.6 * before, (before, after)


def test_refiner_dims_from_context_and_errors():
    cfg = {"name": "diffusion-sr", **DiffusionSRConfig.tiny()}
    sr = t2izoo.create_component("refiner", cfg, word_dim=12, sentence_dim=10)
    assert sr.text_tokens.word_proj.in_features == 12 and sr.text_tokens.sentence_proj.in_features == 10
    with pytest.raises(ValueError, match="sentence_dim is null"):
        t2izoo.create_component("refiner", cfg)
    with pytest.raises(ValueError, match="encoder produces sentence_dim=10"):
        t2izoo.create_component("refiner", {**cfg, "sentence_dim": 8}, sentence_dim=10)


@pytest.mark.parametrize(
    "bad, match",
    [({"sampler": "plms"}, "unknown sampler"), ({"image_size": 8}, "must be >= lr_size"),
     ({"image_size": 33}, "divisible by 2"), ({"beta_end": 1e-5}, "greater than beta_start"),
     ({"block_out_channels": (30, 64)}, "norm_num_groups")],
)
def test_refiner_config_errors(bad, match):
    with pytest.raises(pydantic.ValidationError, match=match):
        DiffusionSRConfig(**{**DiffusionSRConfig.tiny(), **bad})


def test_refiner_timm_backbone(text):
    sr = _refiner(lr_encoder="resnet10t", lr_feature_index=1)
    assert _run(sr, _lr(), text, 0, num_inference_steps=2).shape == (2, 3, 32, 32)
    with pytest.raises(RuntimeError, match="lr_encoder='no-such-net'"):
        _refiner(lr_encoder="no-such-net")


# -- clip-diffusion generator ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def generator():
    torch.manual_seed(0)
    return t2izoo.create_component("generator", {"name": "clip-diffusion", **ClipDiffusionConfig.tiny()}).eval()


def _gen(module, text, seed, **kw):
    with torch.no_grad():
        g = torch.Generator().manual_seed(seed)
        return module(text, generator=g, **kw).image


def test_generator_shapes_seed_and_noise(generator, text):
    a, b, c = _gen(generator, text, 0), _gen(generator, text, 0), _gen(generator, text, 1)
    assert a.shape == (2, 3, 16, 16) and a.abs().max() <= 1
    assert torch.equal(a, b) and not torch.allclose(a, c)
    noise = generator.sample_noise(2, torch.Generator().manual_seed(0))
    with torch.no_grad():
        explicit = generator(text, noise).image
    assert torch.equal(explicit, a)  # dpm-solver++ is deterministic given x_T


def test_generator_samplers_and_guidance(generator, text):
    plain = _gen(generator, text, 0)
    assert not torch.allclose(plain, _gen(generator, text, 0, sampler="ddim"))
    guided = _gen(generator, text, 0, guidance_scale=3.0)
    assert guided.shape == plain.shape and not torch.allclose(plain, guided)


def test_generator_loss_decreases_on_one_batch():
    torch.manual_seed(0)
    gen = t2izoo.create_component(
        "generator", {"name": "clip-diffusion", **ClipDiffusionConfig.tiny(), "cond_drop_prob": 0.0}
    ).train()
    text = make_text_features(2, 8, 8)
    images = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(3)) * 2 - 1

    def held_out():
        with torch.no_grad():
            return float(sum(gen.loss(images, text, torch.Generator().manual_seed(s)) for s in range(4)) / 4)

    before = held_out()
    opt = torch.optim.AdamW(gen.parameters(), lr=2e-3)
    g = torch.Generator().manual_seed(0)
    for _ in range(30):
        loss = gen.loss(images, text, g)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert held_out() < 0.6 * before


def test_generator_checks_encoder_width():
    with pytest.raises(ValueError, match="encoder produces sentence_dim=32"):
        t2izoo.create_component("generator", {"name": "clip-diffusion", **ClipDiffusionConfig.tiny()}, sentence_dim=32)


def test_refiner_loss_on_crops_and_whole_image_inference():
    """Patch training: a crop's loss runs, bad sides are named, and inference still returns image_size."""
    sr = _refiner(lr_size=8, image_size=16, block_out_channels=(16, 32)).train()
    text = make_text_features(2, 8, 8)
    hr = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(3)) * 2 - 1
    crop = hr[..., 4:12, 4:12]
    assert sr.crop_multiple == 2 and sr.degrade(crop).shape[-1] == 4
    assert float(sr.loss(crop, None, text, torch.Generator().manual_seed(0))) > 0
    assert float(sr.loss(crop, sr.degrade(crop), text, torch.Generator().manual_seed(0))) > 0
    with pytest.raises(ValueError, match="multiple of 2"):
        sr.loss(hr[..., :7, :7], None, text)
    with pytest.raises(ValueError, match="does not match"):
        sr.loss(crop, sr.degrade(hr), text)
    sr.eval()
    assert _run(sr, _lr(size=8), text, 0, sampler="ddim", num_inference_steps=2).shape == (2, 3, 16, 16)
