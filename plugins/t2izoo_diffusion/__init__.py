"""t2izoo-diffusion: diffusion components on diffusers.

* refiner ``diffusion-sr``: conditional DDPM super-resolution (CD-AttnGAN stage 2): T = 1000,
  betas linear 1e-4 -> 0.02, U-Net denoiser conditioned on a CNN encoding of the low-resolution
  image and the text by cross-attention, with the upsampled low-res image concatenated to x_t.
* generator ``clip-diffusion``: a small pixel-space text-to-image diffusion model conditioned on
  CLIP word/sentence features.

Samplers are chosen by name (``ddpm``, ``ddim``, ``dpm-solver++``, ...); the plumbing is shared in
`t2izoo.nn.diffusion`. This module is import-light (no torch): factories are import strings.
"""

from __future__ import annotations

import t2izoo

from .configs import ClipDiffusionConfig, DiffusionSRConfig

__all__ = ["ClipDiffusionConfig", "DiffusionSRConfig"]


@t2izoo.hookimpl
def t2izoo_register_components(registry) -> None:
    registry.register(
        "refiner", "diffusion-sr", config=DiffusionSRConfig,
        factory="t2izoo_diffusion.refiner:DiffusionSR",
        description="conditional DDPM super-resolution: low-res CNN tokens + text by cross-attention, "
        "SR3 concat; samplers ddpm/ddim/dpm-solver++",
        tags=("diffusion", "cd-attngan"),
    )
    registry.register(
        "generator", "clip-diffusion", config=ClipDiffusionConfig,
        factory="t2izoo_diffusion.generator:ClipDiffusionGenerator",
        description="pixel-space text-to-image diffusion U-Net conditioned on CLIP text features",
        tags=("diffusion",),
    )
    from t2izoo.training import register_recipe  # torch-free

    register_recipe("clip-diffusion", "t2izoo_diffusion.recipes:ClipDiffusionRecipe",
                    description="denoising loss for the clip-diffusion generator (encoder frozen)")
    register_recipe("diffusion-sr", "t2izoo_diffusion.recipes:DiffusionSRRecipe",
                    description="CD-AttnGAN stage 2: diffusion-sr refiner, encoder and generator frozen")
