"""t2izoo.nn.diffusion: schedulers by name, the loss, and samplers that really invert the process."""

import pytest
import torch

from t2izoo.nn.diffusion import (
    NoiseSchedule,
    TextTokens,
    add_noise,
    default_steps,
    denoising_loss,
    list_samplers,
    make_scheduler,
    randn,
    sample,
)
from t2izoo.types import TextFeatures


def test_default_schedule_is_the_papers():
    sched = make_scheduler("ddpm")
    betas = sched.betas
    assert len(betas) == 1000
    assert betas[0].item() == pytest.approx(1e-4)
    assert betas[-1].item() == pytest.approx(0.02)
    assert torch.allclose(betas.diff(), torch.full((999,), (0.02 - 1e-4) / 999), atol=1e-7)  # linear


@pytest.mark.parametrize(
    "name, cls",
    [("ddpm", "DDPMScheduler"), ("ddim", "DDIMScheduler"), ("dpm-solver++", "DPMSolverMultistepScheduler"),
     ("sde-dpm-solver++", "DPMSolverMultistepScheduler"), ("euler", "EulerDiscreteScheduler")],
)
def test_sampler_names(name, cls):
    assert type(make_scheduler(name)).__name__ == cls
    assert name in list_samplers()


def test_unknown_sampler_suggests():
    with pytest.raises(ValueError, match="Did you mean 'dpm-solver\\+\\+'"):
        make_scheduler("dpm-solver+")
    assert default_steps("ddpm", NoiseSchedule(num_train_timesteps=50)) == 50


def test_add_noise_matches_diffusers():
    sched = make_scheduler("ddpm")
    x0, eps = torch.randn(3, 2, 4, 4), torch.randn(3, 2, 4, 4)
    t = torch.tensor([0, 500, 999])
    assert torch.allclose(add_noise(x0, eps, t, NoiseSchedule()), sched.add_noise(x0, eps, t), atol=1e-6)


def test_loss_is_noise_mse():
    x0 = torch.zeros(4, 3, 8, 8)
    g = torch.Generator().manual_seed(0)
    parts = denoising_loss(lambda x, t: torch.zeros_like(x), x0, generator=g, return_parts=True)
    assert torch.isclose(parts["loss"], parts["noise"].pow(2).mean())
    # a perfect predictor has zero loss
    perfect = denoising_loss(lambda x, t: parts["noise"], x0, timesteps=parts["timesteps"], noise=parts["noise"])
    assert float(perfect) == 0.0


def _oracle(x0: torch.Tensor, schedule: NoiseSchedule):
    """The exact noise prediction when the data distribution is the single point x0."""
    abar = make_scheduler("ddpm", schedule).alphas_cumprod

    def eps(x_t, t):
        a = abar[t.long()].view(-1, 1, 1, 1)
        return (x_t - a.sqrt() * x0) / (1 - a).sqrt()

    return eps


@pytest.mark.parametrize("sampler, steps", [("ddim", 10), ("dpm-solver++", 10), ("euler", 30), ("ddpm", 1000)])
def test_samplers_recover_the_data_point(sampler, steps):
    schedule = NoiseSchedule()
    x0 = torch.rand(1, 3, 4, 4, generator=torch.Generator().manual_seed(1)) * 1.6 - 0.8
    g = torch.Generator().manual_seed(0)
    out = sample(_oracle(x0, schedule), randn((1, 3, 4, 4), g), make_scheduler(sampler, schedule), steps, g, progress=False)
    assert (out - x0).abs().max() < 0.05


@pytest.mark.parametrize("sampler, steps", [("ddim", 20), ("dpm-solver++", 20), ("euler", 30), ("ddpm", 1000)])
def test_strength_starts_part_way_and_runs_that_fraction(sampler, steps):
    """SDEdit/CCDF start: a perturbed init, noised to 30% of the schedule, still inverts to x0,
    and the denoiser is called for only int(steps * 0.3) steps."""
    schedule = NoiseSchedule()
    x0 = torch.rand(1, 3, 4, 4, generator=torch.Generator().manual_seed(1)) * 1.6 - 0.8
    init = x0 + 0.3 * torch.randn(1, 3, 4, 4, generator=torch.Generator().manual_seed(2))
    oracle, calls = _oracle(x0, schedule), []

    def counted(x, t):
        calls.append(int(t[0]))
        return oracle(x, t)

    g = torch.Generator().manual_seed(0)
    out = sample(counted, randn((1, 3, 4, 4), g), make_scheduler(sampler, schedule), steps, g,
                 progress=False, init=init, strength=0.3)
    assert (out - x0).abs().max() < 0.05
    assert len(calls) == int(steps * 0.3)
    assert max(calls) <= 0.3 * schedule.num_train_timesteps + 1  # started part-way, not at T


def test_strength_needs_init_and_a_valid_value():
    sched = make_scheduler("ddim")
    with pytest.raises(ValueError, match="needs init"):
        sample(lambda x, t: x, torch.zeros(1, 1, 2, 2), sched, 4, progress=False, strength=0.5)
    with pytest.raises(ValueError, match="strength must be"):
        sample(lambda x, t: x, torch.zeros(1, 1, 2, 2), sched, 4, progress=False, init=torch.zeros(1, 1, 2, 2),
               strength=1.5)


def test_ddpm_uses_the_generator():
    sched = NoiseSchedule(num_train_timesteps=50)
    zero = lambda x, t: torch.zeros_like(x)  # noqa: E731
    x_T = torch.zeros(1, 1, 4, 4)
    a = sample(zero, x_T, make_scheduler("ddpm", sched), 50, torch.Generator().manual_seed(0), progress=False, clamp=False)
    b = sample(zero, x_T, make_scheduler("ddpm", sched), 50, torch.Generator().manual_seed(0), progress=False, clamp=False)
    c = sample(zero, x_T, make_scheduler("ddpm", sched), 50, torch.Generator().manual_seed(1), progress=False, clamp=False)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_text_tokens_mask_and_null():
    tt = TextTokens(word_dim=4, sentence_dim=3, dim=8)
    mask = torch.tensor([[False, False, True], [False, False, False]])
    text = TextFeatures(torch.randn(2, 3, 4), mask, torch.randn(2, 3))
    tokens, keep = tt(text)
    assert tokens.shape == (2, 4, 8)
    assert keep.tolist() == [[True, True, True, False], [True, True, True, True]]
    tokens, keep = tt(text, drop=torch.tensor([True, False]))
    assert keep[0].tolist() == [True, False, False, False]  # dropped: only the null token
    assert torch.equal(tokens[0, 0], tt.null_sentence.detach())
    no_words = TextTokens(word_dim=None, sentence_dim=3, dim=8)
    assert no_words(TextFeatures(None, None, torch.randn(2, 3)))[0].shape == (2, 1, 8)
