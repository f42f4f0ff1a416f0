"""``clip-diffusion``: pixel-space text-to-image diffusion conditioned on CLIP text features.

Following the CLIP + diffusion recipe (Wang 2024): CLIP text embeddings condition a denoising
U-Net that refines Gaussian noise into an image. Words enter by cross-attention; the sentence
embedding is added to the time embedding and is also one cross-attention token. Classifier-free
guidance (condition dropout while training) is available for stronger text alignment.
"""

from __future__ import annotations

from typing import Any

import torch

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
from t2izoo.types import GeneratorOutput, TextFeatures

from .configs import ClipDiffusionConfig

__all__ = ["ClipDiffusionGenerator"]


class ClipDiffusionGenerator(t2izoo.Generator):
    """Text features + x_T -> one image stage ``[B, C, S, S]`` in ``[-1, 1]``.

    Example:
        >>> import t2izoo, torch
        >>> from t2izoo_diffusion.configs import ClipDiffusionConfig
        >>> gen = t2izoo.create_component("generator", ClipDiffusionConfig(**ClipDiffusionConfig.tiny()))
        >>> text = t2izoo.TextFeatures(torch.randn(2, 4, 8), None, torch.randn(2, 8))
        >>> g = torch.Generator().manual_seed(0)
        >>> gen(text, gen.sample_noise(2, g), generator=g).image.shape
        torch.Size([2, 3, 16, 16])
    """

    iterative_inference = True  # many network calls per image: see InferenceOptions.auto

    def __init__(self, config: ClipDiffusionConfig, **context: Any) -> None:
        super().__init__(config)
        for key in ("word_dim", "sentence_dim"):
            given = context.get(key)
            if given is not None and given != getattr(config, key) and (key != "word_dim" or config.use_words):
                raise ValueError(f"clip-diffusion.{key}={getattr(config, key)} but the encoder produces {key}={given}")
        self.schedule = NoiseSchedule(
            num_train_timesteps=config.num_train_timesteps,
            beta_start=config.beta_start,
            beta_end=config.beta_end,
            beta_schedule=config.beta_schedule,
        )
        make_scheduler(config.sampler, self.schedule)
        C = config.image_channels
        self.text_tokens = TextTokens(config.word_dim, config.sentence_dim, config.cond_dim, use_words=config.use_words)
        self.unet = build_unet(
            sample_size=config.image_size,
            in_channels=C,
            out_channels=C,
            block_out_channels=config.block_out_channels,
            layers_per_block=config.layers_per_block,
            cross_attention_dim=config.cond_dim,
            attention_levels=config.attention_levels,
            attention_head_dim=config.attention_head_dim,
            norm_num_groups=config.norm_num_groups,
            class_embed_dim=config.sentence_dim if config.sentence_embedding else None,
        )

    # -- conditioning --------------------------------------------------------------------------
    def _condition(
        self, text: TextFeatures, drop: torch.Tensor | None = None, null: bool = False
    ) -> dict[str, torch.Tensor]:
        tokens, keep = self.text_tokens(text, drop=drop, null=null)
        out = {"encoder_hidden_states": tokens, "encoder_attention_mask": keep.to(tokens.dtype)}
        if self.config.sentence_embedding:
            sentence = text.sentence
            if null:
                sentence = torch.zeros_like(sentence)
            elif drop is not None:
                sentence = torch.where(drop.view(-1, 1), torch.zeros_like(sentence), sentence)
            out["class_labels"] = sentence
        return out

    def _denoiser(self, text: TextFeatures, guidance_scale: float):
        cond = self._condition(text)
        if guidance_scale == 1.0:
            return lambda x_t, t: self.unet(x_t, t, **cond).sample
        uncond = self._condition(text, null=True)
        both = {k: torch.cat([uncond[k], cond[k]], 0) for k in cond}

        def guided(x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            eps_u, eps_c = self.unet(torch.cat([x_t, x_t], 0), torch.cat([t, t], 0), **both).sample.chunk(2)
            return eps_u + guidance_scale * (eps_c - eps_u)

        return guided

    # -- training ------------------------------------------------------------------------------
    def loss(
        self, images: torch.Tensor, text: TextFeatures, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """``||eps_theta(x_t, t, text) - eps||^2``; a ``cond_drop_prob`` share of captions is nulled.

        Example:
            >>> gen.loss(images, text, generator=torch.Generator().manual_seed(0))  # doctest: +SKIP
        """
        S = self.config.image_size
        if images.shape[-2:] != (S, S):
            raise ValueError(f"clip-diffusion.loss: images must be {S}x{S}, got {tuple(images.shape[-2:])}")
        text = text.to(device=images.device, dtype=images.dtype)
        drop = None
        if self.training and self.config.cond_drop_prob > 0:
            gen_device = generator.device if generator is not None else images.device
            u = torch.rand(images.shape[0], generator=generator, device=gen_device).to(images.device)
            drop = u < self.config.cond_drop_prob
        cond = self._condition(text, drop=drop)
        return denoising_loss(lambda x_t, t: self.unet(x_t, t, **cond).sample, images, self.schedule, generator)

    # -- inference -----------------------------------------------------------------------------
    def sample_noise(self, batch_size: int, generator: torch.Generator | None = None) -> torch.Tensor:
        C, S = self.config.image_channels, self.config.image_size
        return randn((batch_size, C, S, S), generator, self.device, next(self.unet.parameters()).dtype)

    def forward(
        self,
        text: TextFeatures,
        noise: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
        *,
        sampler: str | None = None,
        num_inference_steps: int | None = None,
        guidance_scale: float | None = None,
        progress: bool | None = None,
    ) -> GeneratorOutput:
        """Sample images for ``text``; ``noise`` is x_T (drawn from ``generator`` when omitted)."""
        sampler = sampler or self.config.sampler
        steps = num_inference_steps or self.config.num_inference_steps or default_steps(sampler, self.schedule)
        scale = self.config.guidance_scale if guidance_scale is None else guidance_scale
        x_T = self.sample_noise(text.batch_size, generator) if noise is None else noise.to(self.device)
        text = text.to(device=x_T.device, dtype=x_T.dtype)
        images = sample(
            self._denoiser(text, scale),
            x_T,
            make_scheduler(sampler, self.schedule),
            steps,
            generator,
            progress=progress,
            desc=f"clip-diffusion {sampler}",
        )
        return GeneratorOutput(images=[images], attention=[None])

    # -- training recipe -----------------------------------------------------------------------
    def make_recipe(self, pipeline: Any, **options: Any) -> Any:
        """The recipe that trains this component (`t2izoo train` finds it here)."""
        from .recipes import ClipDiffusionRecipe

        return ClipDiffusionRecipe(pipeline, **options)
