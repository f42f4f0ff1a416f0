"""Diffusion plumbing shared by every diffusion component (``diffusion-sr``, ``clip-diffusion``).

One place builds a diffusers scheduler from a sampler name, draws seeded noise, computes the
epsilon-prediction loss and runs the reverse process with a progress bar, so a refiner and a
generator differ only in their denoising network and its conditioning.

* `NoiseSchedule` - the forward process (T, betas). The default is the DDPM one used by the
  CD-AttnGAN refiner: T = 1000, betas linear from 1e-4 to 0.02.
* `make_scheduler` - ``"ddpm"`` (ancestral, the paper's 1000 steps), ``"ddim"``,
  ``"dpm-solver++"`` (DPMSolverMultistepScheduler, 2nd order), ``"sde-dpm-solver++"`` (its
  stochastic variant), ``"euler"``.
* `denoising_loss` - ``E_{t,x0,eps} ||eps_theta(x_t, t) - eps||^2`` (DDPM's simple loss).
* `sample` - the reverse process from given initial noise.
* `build_unet`, `TextTokens` - the conditional U-Net and the text -> cross-attention tokens
  projection (with a null condition for classifier-free guidance).

Example:
    >>> import torch
    >>> from t2izoo.nn.diffusion import NoiseSchedule, make_scheduler, sample
    >>> sched = make_scheduler("ddim", NoiseSchedule())
    >>> g = torch.Generator().manual_seed(0)
    >>> x_T = torch.randn(1, 3, 8, 8, generator=g)
    >>> x0 = sample(lambda x, t: torch.zeros_like(x), x_T, sched, num_inference_steps=5, progress=False)
    >>> x0.shape
    torch.Size([1, 3, 8, 8])
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "SAMPLERS",
    "NoiseSchedule",
    "DenoiseFn",
    "list_samplers",
    "make_scheduler",
    "default_steps",
    "randn",
    "sample_timesteps",
    "denoising_loss",
    "sample",
    "build_unet",
    "TextTokens",
]

# x_t [B,C,H,W], t [B] (long) -> predicted noise [B,C,H,W]
DenoiseFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

# sampler name -> (diffusers class name, extra constructor kwargs, default step count)
SAMPLERS: dict[str, tuple[str, dict[str, Any], int]] = {
    "ddpm": ("DDPMScheduler", {}, 1000),
    "ddim": ("DDIMScheduler", {"set_alpha_to_one": False}, 50),
    "dpm-solver++": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++", "solver_order": 2}, 20),
    "sde-dpm-solver++": ("DPMSolverMultistepScheduler", {"algorithm_type": "sde-dpmsolver++", "solver_order": 2}, 20),
    "euler": ("EulerDiscreteScheduler", {}, 50),
}


@dataclass(frozen=True)
class NoiseSchedule:
    """The forward (noising) process. Defaults: DDPM's T = 1000, betas linear 1e-4 -> 0.02.

    Example:
        >>> NoiseSchedule().num_train_timesteps
        1000
    """

    num_train_timesteps: int = 1000
    beta_start: float = 1e-4
    beta_end: float = 0.02
    beta_schedule: str = "linear"
    prediction_type: str = "epsilon"

    def scheduler_kwargs(self) -> dict[str, Any]:
        return {
            "num_train_timesteps": self.num_train_timesteps,
            "beta_start": self.beta_start,
            "beta_end": self.beta_end,
            "beta_schedule": self.beta_schedule,
            "prediction_type": self.prediction_type,
        }


def list_samplers() -> list[str]:
    """Names accepted by `make_scheduler`.

    Example:
        >>> "dpm-solver++" in list_samplers()
        True
    """
    return list(SAMPLERS)


def _check_sampler(name: str) -> tuple[str, dict[str, Any], int]:
    if name not in SAMPLERS:
        import difflib

        close = difflib.get_close_matches(name, list(SAMPLERS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown sampler {name!r}.{hint} Samplers: {', '.join(SAMPLERS)}")
    return SAMPLERS[name]


def default_steps(sampler: str, schedule: NoiseSchedule | None = None) -> int:
    """The step count a sampler runs when none is given (DDPM: every training step).

    Example:
        >>> default_steps("ddpm"), default_steps("dpm-solver++")
        (1000, 20)
    """
    _, _, steps = _check_sampler(sampler)
    if sampler == "ddpm":
        return (schedule or NoiseSchedule()).num_train_timesteps
    return steps


def make_scheduler(sampler: str, schedule: NoiseSchedule | None = None, **overrides: Any) -> Any:
    """A fresh diffusers scheduler for ``sampler`` over ``schedule``.

    Schedulers are stateful (timesteps, multistep history), so build one per sampling call.

    Example:
        >>> type(make_scheduler("dpm-solver++")).__name__
        'DPMSolverMultistepScheduler'
    """
    import diffusers

    class_name, extra, _ = _check_sampler(sampler)
    kwargs = {**(schedule or NoiseSchedule()).scheduler_kwargs(), **extra, **overrides}
    with torch.device("cpu"):  # schedule tables live on the CPU, even inside `with torch.device("meta")`
        return getattr(diffusers, class_name)(**kwargs)


def randn(
    shape: Sequence[int],
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Standard normal noise drawn on the generator's device, then moved to ``device``.

    Drawing on the generator's own device keeps a seed's samples identical whichever device
    the model runs on.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> randn((2, 3), g).shape
        torch.Size([2, 3])
    """
    gen_device = generator.device if generator is not None else device
    # always drawn in float32, so a seed gives the same noise whatever the model's dtype
    x = torch.randn(tuple(shape), generator=generator, device=gen_device, dtype=torch.float32)
    return x.to(device=device, dtype=dtype)


def sample_timesteps(
    batch_size: int, schedule: NoiseSchedule, generator: torch.Generator | None = None, device: Any = None,
    max_timestep: int | None = None,
) -> torch.Tensor:
    """Uniform training timesteps ``t ~ U{0, ..., T-1}`` (or ``U{0, ..., max_timestep-1}``), shape ``[B]``."""
    high = schedule.num_train_timesteps
    if max_timestep is not None:
        if not 1 <= int(max_timestep) <= high:
            raise ValueError(f"max_timestep must be in 1..{high} (num_train_timesteps), got {max_timestep}")
        high = int(max_timestep)
    gen_device = generator.device if generator is not None else device
    t = torch.randint(0, high, (batch_size,), generator=generator, device=gen_device)
    return t.to(device) if device is not None else t


def denoising_loss(
    denoise: DenoiseFn,
    x0: torch.Tensor,
    schedule: NoiseSchedule | None = None,
    generator: torch.Generator | None = None,
    *,
    timesteps: torch.Tensor | None = None,
    noise: torch.Tensor | None = None,
    return_parts: bool = False,
    max_timestep: int | None = None,
) -> torch.Tensor | dict[str, torch.Tensor]:
    """The simple DDPM objective ``||eps_theta(x_t, t) - eps||^2`` (CD-AttnGAN eq. 7).

    ``x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps`` with ``t`` uniform and ``eps ~ N(0, I)``,
    both drawn from ``generator`` unless given. ``max_timestep`` draws ``t`` below it only: a
    model that will only be sampled with ``strength`` s (see `sample`) needs ``t < s * T``, the
    way SDXL's refiner is trained on the low-noise end of the schedule.

    Example:
        >>> x0 = torch.zeros(2, 3, 4, 4)
        >>> loss = denoising_loss(lambda x, t: torch.zeros_like(x), x0, generator=torch.Generator().manual_seed(0))
        >>> 0.5 < float(loss) < 1.5       # predicting 0 costs E[eps^2] = 1
        True
    """
    schedule = schedule or NoiseSchedule()
    if schedule.prediction_type != "epsilon":
        raise ValueError(f"denoising_loss supports prediction_type='epsilon', got {schedule.prediction_type!r}")
    B = x0.shape[0]
    if timesteps is None:
        timesteps = sample_timesteps(B, schedule, generator, x0.device, max_timestep=max_timestep)
    if noise is None:
        noise = randn(x0.shape, generator, x0.device, x0.dtype)
    x_t = add_noise(x0, noise, timesteps, schedule)
    pred = denoise(x_t, timesteps)
    loss = F.mse_loss(pred.float(), noise.float())
    if return_parts:
        return {"loss": loss, "x_t": x_t, "timesteps": timesteps, "noise": noise, "pred": pred}
    return loss


_ALPHA_BARS: dict[NoiseSchedule, torch.Tensor] = {}


def _alpha_bars(schedule: NoiseSchedule) -> torch.Tensor:
    if schedule not in _ALPHA_BARS:
        # the same betas diffusers builds, so training and sampling agree exactly
        _ALPHA_BARS[schedule] = make_scheduler("ddpm", schedule).alphas_cumprod.clone()
    return _ALPHA_BARS[schedule]


def add_noise(x0: torch.Tensor, noise: torch.Tensor, timesteps: torch.Tensor, schedule: NoiseSchedule) -> torch.Tensor:
    """``x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) noise`` (DDPM eq. 4)."""
    abar = _alpha_bars(schedule).to(device=x0.device)[timesteps.long()].to(x0.dtype)
    abar = abar.view(-1, *([1] * (x0.dim() - 1)))
    return abar.sqrt() * x0 + (1 - abar).sqrt() * noise


def _progress(total: int, enabled: bool | None, desc: str) -> Any:
    from tqdm.auto import tqdm

    if enabled is None:  # only on an interactive terminal, so logs and tests stay clean
        enabled = sys.stderr.isatty()
    return tqdm(total=total, disable=not enabled, desc=desc, leave=False)


def sample(
    denoise: DenoiseFn,
    noise: torch.Tensor,
    scheduler: Any,
    num_inference_steps: int | None = None,
    generator: torch.Generator | None = None,
    *,
    progress: bool | None = None,
    desc: str = "sampling",
    clamp: bool = True,
    init: torch.Tensor | None = None,
    strength: float = 1.0,
) -> torch.Tensor:
    """Run the reverse process from ``noise`` (x_T) and return x_0.

    With ``init`` and ``strength < 1`` the process starts part-way instead (SDEdit; for
    super-resolution, CCDF's "come closer, diffuse faster"): ``init`` is noised to the step
    ``strength`` of the way along the sampler's schedule and only the remaining
    ``max(1, int(num_inference_steps * strength))`` steps run, as diffusers' img2img ``strength``.

    Args:
        denoise: ``(x_t, t[B]) -> eps`` (the network, with its condition already bound).
        noise: the initial ``x_T`` (draw it with `randn` and a seeded generator).
        scheduler: from `make_scheduler`; it is reset by ``set_timesteps``.
        num_inference_steps: steps to run; ``None`` = the sampler's default.
        generator: feeds the stochastic samplers (``ddpm``), so a seed fixes the output.
        progress: show a progress bar (``None``: only on a terminal).
        clamp: clamp the result to ``[-1, 1]``.
        init: the image to start from when ``strength < 1`` (e.g. the upsampled low-res input).
        strength: 1.0 (default) starts from pure noise; ``0 < strength < 1`` starts from ``init``.

    Example:
        >>> sched = make_scheduler("dpm-solver++")
        >>> x = sample(lambda x, t: 0 * x, torch.ones(1, 1, 2, 2), sched, 4, progress=False)
        >>> x.shape
        torch.Size([1, 1, 2, 2])
    """
    if num_inference_steps is None:
        num_inference_steps = int(scheduler.config.num_train_timesteps) if type(scheduler).__name__ == "DDPMScheduler" else 20
    if num_inference_steps < 1:
        raise ValueError(f"num_inference_steps must be >= 1, got {num_inference_steps}")
    if not 0.0 < strength <= 1.0:
        raise ValueError(f"strength must be in (0, 1], got {strength}")
    scheduler.set_timesteps(num_inference_steps, device=noise.device)
    step_params = inspect.signature(scheduler.step).parameters
    step_kwargs: dict[str, Any] = {"generator": generator} if "generator" in step_params else {}
    timesteps = scheduler.timesteps
    if strength < 1.0:
        if init is None:
            raise ValueError("strength < 1 needs init: the image the reverse process starts from")
        order = int(getattr(scheduler, "order", 1))
        start = (num_inference_steps - max(1, int(num_inference_steps * strength))) * order
        timesteps = timesteps[start:]
        if hasattr(scheduler, "set_begin_index"):  # multistep solvers index their tables from here
            scheduler.set_begin_index(start)
        x = scheduler.add_noise(init.to(noise.dtype), noise, timesteps[:1])
    else:
        x = noise * scheduler.init_noise_sigma
    with _progress(len(timesteps), progress, desc) as bar:
        for t in timesteps:
            model_in = scheduler.scale_model_input(x, t)
            t_batch = t.reshape(1).expand(x.shape[0]).to(device=x.device)
            eps = denoise(model_in, t_batch)
            x = scheduler.step(eps, t, x, return_dict=False, **step_kwargs)[0]
            bar.update(1)
    return x.clamp(-1, 1) if clamp else x


def build_unet(
    *,
    sample_size: int,
    in_channels: int,
    out_channels: int,
    block_out_channels: Sequence[int],
    layers_per_block: int,
    cross_attention_dim: int,
    attention_levels: Sequence[bool] | None = None,
    attention_head_dim: int = 8,
    norm_num_groups: int = 32,
    class_embed_dim: int | None = None,
) -> nn.Module:
    """A diffusers ``UNet2DConditionModel`` with cross-attention where ``attention_levels`` says.

    ``attention_levels[i]`` puts cross-attention in resolution level ``i`` (default: every level
    but the first, the cheapest placement at full resolution). ``class_embed_dim`` adds a
    projected vector (the sentence embedding) to the time embedding.

    Example:
        >>> unet = build_unet(sample_size=16, in_channels=6, out_channels=3, block_out_channels=(32, 64),
        ...                   layers_per_block=1, cross_attention_dim=32)
        >>> unet(torch.zeros(1, 6, 16, 16), torch.tensor([10]), torch.zeros(1, 4, 32)).sample.shape
        torch.Size([1, 3, 16, 16])
    """
    from diffusers import UNet2DConditionModel

    levels = len(block_out_channels)
    if attention_levels is None:
        attention_levels = [i > 0 for i in range(levels)] if levels > 1 else [True]
    attention_levels = list(attention_levels)
    if len(attention_levels) != levels:
        raise ValueError(
            f"attention_levels has {len(attention_levels)} entries but block_out_channels has {levels}"
        )
    for ch in block_out_channels:
        if ch % norm_num_groups:
            raise ValueError(f"block_out_channels {tuple(block_out_channels)}: {ch} is not divisible by norm_num_groups={norm_num_groups}")
    down = tuple("CrossAttnDownBlock2D" if a else "DownBlock2D" for a in attention_levels)
    up = tuple("CrossAttnUpBlock2D" if a else "UpBlock2D" for a in reversed(attention_levels))
    extra: dict[str, Any] = {}
    if class_embed_dim:
        extra = {"class_embed_type": "projection", "projection_class_embeddings_input_dim": class_embed_dim}
    return UNet2DConditionModel(
        sample_size=sample_size,
        in_channels=in_channels,
        out_channels=out_channels,
        down_block_types=down,
        up_block_types=up,
        block_out_channels=tuple(block_out_channels),
        layers_per_block=layers_per_block,
        cross_attention_dim=cross_attention_dim,
        attention_head_dim=attention_head_dim,
        norm_num_groups=norm_num_groups,
        **extra,
    )


class TextTokens(nn.Module):
    """`TextFeatures` -> cross-attention tokens ``[B, 1 + L, D]`` and a keep-mask ``[B, 1 + L]``.

    Token 0 is ``Linear(sentence)``; the rest are ``Linear(words)`` (left out when the encoder
    gives no words or ``use_words`` is False). The sentence token is never masked, so attention
    always has a key. ``drop`` replaces chosen samples' text by a learned null condition
    (classifier-free guidance training; at sampling, ``null=True`` gives the unconditional branch).

    Example:
        >>> from t2izoo.types import TextFeatures
        >>> tt = TextTokens(word_dim=8, sentence_dim=6, dim=16)
        >>> tf = TextFeatures(torch.randn(2, 5, 8), torch.zeros(2, 5, dtype=torch.bool), torch.randn(2, 6))
        >>> tokens, keep = tt(tf)
        >>> tokens.shape, keep.shape
        (torch.Size([2, 6, 16]), torch.Size([2, 6]))
    """

    def __init__(self, word_dim: int | None, sentence_dim: int, dim: int, *, use_words: bool = True) -> None:
        super().__init__()
        self.sentence_proj = nn.Linear(sentence_dim, dim)
        self.word_proj = nn.Linear(word_dim, dim) if (use_words and word_dim) else None
        self.null_sentence = nn.Parameter(torch.zeros(dim))

    def forward(
        self, text: Any, *, drop: torch.Tensor | None = None, null: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        sent = self.sentence_proj(text.sentence).unsqueeze(1)  # [B,1,D]
        B = sent.shape[0]
        keep_sent = torch.ones(B, 1, dtype=torch.bool, device=sent.device)
        if null:
            drop = torch.ones(B, dtype=torch.bool, device=sent.device)
        tokens, keep = [sent], [keep_sent]
        if self.word_proj is not None and text.words is not None:
            words = self.word_proj(text.words)
            word_keep = (
                torch.ones(words.shape[:2], dtype=torch.bool, device=words.device)
                if text.mask is None
                else ~text.mask.to(torch.bool)
            )
            tokens.append(words)
            keep.append(word_keep)
        tokens_t, keep_t = torch.cat(tokens, 1), torch.cat(keep, 1)
        if drop is not None and bool(drop.any()):
            drop = drop.to(device=tokens_t.device, dtype=torch.bool)
            null_tokens = self.null_sentence.to(tokens_t.dtype).expand(B, 1, -1)
            tokens_t = tokens_t.clone()
            tokens_t[:, :1] = torch.where(drop.view(B, 1, 1), null_tokens, tokens_t[:, :1])
            # a dropped sample sees only the null token: its words are masked out
            word_keep = keep_t[:, 1:] & ~drop.view(B, 1)
            keep_t = torch.cat([keep_t[:, :1], word_keep], 1)
        return tokens_t, keep_t
