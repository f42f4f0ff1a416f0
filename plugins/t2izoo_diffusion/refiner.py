"""``diffusion-sr``: conditional diffusion super-resolution (CD-AttnGAN stage 2).

Reverse mean (eq. 6): ``mu = 1/sqrt(alpha_t) (x_t - (1-alpha_t)/sqrt(1-abar_t) eps_theta(x_t, t, E_cond))``,
trained with ``||eps_theta - eps||^2`` (eq. 7). ``E_cond`` = [CNN(I_low) tokens ; Linear(text)]
enters the U-Net by cross-attention; the upsampled ``I_low`` is also concatenated to ``x_t``
(SR3), so the network sees the low-res picture at full resolution.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

import t2izoo
from t2izoo.nn.diffusion import (
    NoiseSchedule,
    TextTokens,
    build_unet,
    default_steps,
    denoising_loss,
    make_scheduler,
    randn,
    sample,
)
from t2izoo.types import TextFeatures

from .conditioning import LRTokens, make_lr_encoder
from .configs import DiffusionSRConfig

__all__ = ["DiffusionSR"]


def _resolve_dim(config_value: int | None, context: dict[str, Any], key: str, required: bool) -> int | None:
    given = context.get(key)
    if config_value is not None:
        if given is not None and given != config_value:
            raise ValueError(
                f"diffusion-sr.{key}={config_value} but the encoder produces {key}={given}; "
                f"set diffusion-sr.{key} to {given} or to null"
            )
        return config_value
    if given is None and required:
        raise ValueError(
            f"diffusion-sr.{key} is null and no encoder {key} was given: set it in the config "
            f"(e.g. refiner.{key}=512) or build the refiner inside a pipeline"
        )
    return given


class DiffusionSR(t2izoo.Refiner):
    """Low-res images + text -> high-res images by conditional denoising diffusion.

    Example:
        >>> import t2izoo, torch
        >>> from t2izoo_diffusion.configs import DiffusionSRConfig
        >>> cfg = DiffusionSRConfig(**DiffusionSRConfig.tiny(), word_dim=8, sentence_dim=8)
        >>> sr = t2izoo.create_component("refiner", cfg)
        >>> text = t2izoo.TextFeatures(torch.randn(1, 5, 8), None, torch.randn(1, 8))
        >>> g = torch.Generator().manual_seed(0)
        >>> sr(torch.zeros(1, 3, 16, 16), text, generator=g, sampler="ddim", num_inference_steps=2).shape
        torch.Size([1, 3, 32, 32])
    """

    iterative_inference = True  # many network calls per image: see InferenceOptions.auto

    def __init__(self, config: DiffusionSRConfig, **context: Any) -> None:
        super().__init__(config)
        self.word_dim = _resolve_dim(config.word_dim, context, "word_dim", required=False) if config.use_words else None
        self.sentence_dim = _resolve_dim(config.sentence_dim, context, "sentence_dim", required=True)
        self.schedule = NoiseSchedule(
            num_train_timesteps=config.num_train_timesteps,
            beta_start=config.beta_start,
            beta_end=config.beta_end,
            beta_schedule=config.beta_schedule,
        )
        make_scheduler(config.sampler, self.schedule)  # fail now on a bad schedule, not at first sample
        C = config.image_channels
        encoder = make_lr_encoder(
            config.lr_encoder, C, width=config.lr_encoder_channels,
            pretrained=config.lr_encoder_pretrained, index=config.lr_feature_index,
        )
        self.lr_tokens = LRTokens(encoder, config.cond_dim)
        self.text_tokens = TextTokens(self.word_dim, self.sentence_dim, config.cond_dim, use_words=config.use_words)
        self.unet = build_unet(
            sample_size=config.image_size,
            in_channels=2 * C,
            out_channels=C,
            block_out_channels=config.block_out_channels,
            layers_per_block=config.layers_per_block,
            cross_attention_dim=config.cond_dim,
            attention_levels=config.attention_levels,
            attention_head_dim=config.attention_head_dim,
            norm_num_groups=config.norm_num_groups,
        )

    # -- conditioning --------------------------------------------------------------------------
    @property
    def scale(self) -> int:
        """Upscaling factor ``image_size // lr_size``."""
        return self.config.image_size // self.config.lr_size

    def degrade(self, hr_images: torch.Tensor) -> torch.Tensor:
        """High-res -> low-res training input (antialiased bicubic, down by `scale`), like I_low.

        A crop of the high-res image gives the matching crop of the low-res one.

        Example:
            >>> sr.degrade(torch.zeros(2, 3, 32, 32)).shape  # doctest: +SKIP
            torch.Size([2, 3, 16, 16])
        """
        size = hr_images.shape[-1] // self.scale
        return F.interpolate(hr_images, size=(size, size), mode="bicubic", antialias=True, align_corners=False).clamp(-1, 1)

    def _low_res(self, images: torch.Tensor) -> torch.Tensor:
        size = self.config.lr_size
        if images.shape[-2:] != (size, size):  # "resized to meet the input specifications"
            images = F.interpolate(images, size=(size, size), mode="bicubic", antialias=True, align_corners=False)
        return images.clamp(-1, 1)

    def _upsampled(self, lr: torch.Tensor) -> torch.Tensor:
        size = lr.shape[-1] * self.scale
        mode = self.config.upsample_mode
        kwargs = {} if mode == "nearest" else {"align_corners": False}
        return F.interpolate(lr, size=(size, size), mode=mode, **kwargs).clamp(-1, 1)

    def condition(self, lr_images: torch.Tensor, text: TextFeatures) -> tuple[torch.Tensor, torch.Tensor]:
        """``E_cond`` = [LR tokens ; text tokens] ``[B, N, cond_dim]`` and its keep-mask ``[B, N]``."""
        text = text.to(device=lr_images.device, dtype=lr_images.dtype)
        lr_tok = self.lr_tokens(lr_images)
        txt_tok, txt_keep = self.text_tokens(text)
        keep = torch.cat([torch.ones(lr_tok.shape[:2], dtype=torch.bool, device=lr_tok.device), txt_keep], 1)
        return torch.cat([lr_tok, txt_tok], 1), keep

    def _denoiser(self, lr: torch.Tensor, text: TextFeatures):
        cond, keep = self.condition(lr, text)
        up = self._upsampled(lr)
        keep_f = keep.to(cond.dtype)

        def denoise(x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            return self.unet(
                torch.cat([x_t, up], 1), t, encoder_hidden_states=cond, encoder_attention_mask=keep_f
            ).sample

        return denoise

    # -- training ------------------------------------------------------------------------------
    def loss(
        self,
        hr_images: torch.Tensor,
        lr_images: torch.Tensor | None,
        text: TextFeatures,
        generator: torch.Generator | None = None,
        max_timestep: int | None = None,
    ) -> torch.Tensor:
        """Eq. 7: MSE between the predicted and the true noise at a uniform random step.

        ``lr_images=None`` derives them from ``hr_images`` with `degrade` (stage-2 pairs).
        ``hr_images`` may be square crops (patch training: the U-Net and the low-res encoder are
        convolutional), of a side that is a multiple of `crop_multiple`; ``lr_images`` are then
        the matching low-res crops. ``max_timestep`` draws the step below it only (a refiner that
        runs with ``strength`` s only ever sees ``t < s * T``).

        Example:
            >>> loss = sr.loss(hr, None, text, generator=torch.Generator().manual_seed(0))  # doctest: +SKIP
        """
        side = self.check_crop(hr_images.shape[-1])
        if hr_images.shape[-2] != side:
            raise ValueError(f"diffusion-sr.loss: hr_images must be square, got {tuple(hr_images.shape[-2:])}")
        if lr_images is None:
            lr = self.degrade(hr_images)
        elif side == self.config.image_size:
            lr = self._low_res(lr_images)  # any size, resized to lr_size
        elif lr_images.shape[-1] * self.scale != side:
            raise ValueError(
                f"diffusion-sr.loss: lr_images side {lr_images.shape[-1]} does not match hr_images side {side} "
                f"(scale {self.scale})"
            )
        else:
            lr = lr_images.clamp(-1, 1)
        return denoising_loss(self._denoiser(lr, text), hr_images, self.schedule, generator, max_timestep=max_timestep)

    @property
    def crop_multiple(self) -> int:
        """Training crops must be a multiple of this side: the U-Net's down-sampling and `scale`."""
        down = 2 ** (len(self.config.block_out_channels) - 1)
        return down * self.scale // math.gcd(down, self.scale)

    def check_crop(self, side: int) -> int:
        """``side`` if it is a valid training side (``image_size`` or a crop of it), else a ValueError."""
        full, multiple = self.config.image_size, self.crop_multiple
        if side == full or (0 < side < full and side % multiple == 0):
            return int(side)
        raise ValueError(
            f"diffusion-sr: a training image side must be {full} (image_size) or a crop smaller than it and a "
            f"multiple of {multiple}, got {side}"
        )

    # -- inference -----------------------------------------------------------------------------
    def sample_noise(self, batch_size: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """x_T ``[B, C, H, W]`` for the high-res side."""
        C, S = self.config.image_channels, self.config.image_size
        return randn((batch_size, C, S, S), generator, self.device, next(self.unet.parameters()).dtype)

    def forward(
        self,
        images: torch.Tensor,
        text: TextFeatures,
        generator: torch.Generator | None = None,
        *,
        sampler: str | None = None,
        num_inference_steps: int | None = None,
        noise: torch.Tensor | None = None,
        progress: bool | None = None,
        strength: float | None = None,
    ) -> torch.Tensor:
        """Upscale ``images`` ``[B,C,h,w]`` (any size; resized to ``lr_size``) to ``image_size``.

        ``sampler``, ``num_inference_steps`` and ``strength`` override the config for this call.
        ``strength < 1`` starts from the upsampled input noised part-way and runs that fraction of
        the steps (e.g. ``sampler="ddpm", num_inference_steps=1000, strength=0.2`` runs 200).
        """
        sampler = sampler or self.config.sampler
        steps = num_inference_steps or self.config.num_inference_steps or default_steps(sampler, self.schedule)
        strength = self.config.strength if strength is None else float(strength)
        lr = self._low_res(images.to(self.device))
        x_T = self.sample_noise(lr.shape[0], generator) if noise is None else noise.to(self.device)
        return sample(
            self._denoiser(lr, text),
            x_T,
            make_scheduler(sampler, self.schedule),
            steps,
            generator,
            progress=progress,
            desc=f"diffusion-sr {sampler}",
            init=self._upsampled(lr).to(x_T.dtype) if strength < 1.0 else None,
            strength=strength,
        )

    # -- training recipe -----------------------------------------------------------------------
    def make_recipe(self, pipeline: Any, **options: Any) -> Any:
        """The recipe that trains this component (`t2izoo train` finds it here)."""
        from .recipes import DiffusionSRRecipe

        return DiffusionSRRecipe(pipeline, **options)
