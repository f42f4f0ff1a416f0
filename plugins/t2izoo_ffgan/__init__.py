"""t2izoo-ffgan: FF-GAN (Sun et al., "Fine-grained Cross-modal Fusion based Refinement for
Text-to-Image Synthesis") as zoo components.

Registers:

* fusion ``affine`` — FF-Block (word attention, then a spatial scale and shift from bias-free
  convs; eq. 4-5) or, with ``level: sentence``, a DF-GAN-style per-channel affine; with
  ``gsr: true`` (default) followed by Global Semantic Refinement (eq. 6-7). It plugs into any
  generator that takes a fusion (``attngan`` included: ``generator.fusion=affine``);
* generator ``ffgan`` — CA + 64 px initial stage + FF-Block/GSR refinement stages, 64/128/256 px;
* recipe ``ffgan`` — the AttnGAN objective (eq. 8-12: adversarial, ``lambda1`` KL,
  ``lambda2`` DAMSM) with spectral-norm discriminators;
* converter ``ffgan`` — ``t2izoo convert ffgan`` turns the released ``netG.pth`` (+ the DAMSM
  files) into a model directory, dropping the unused DM-GAN memory weights.

This module is import-light (no torch): factories are import strings.

Example:
    >>> import t2izoo
    >>> pipe = t2izoo.build("shapes-ffgan")                        # doctest: +SKIP
    >>> pipe(["a small red circle"], seed=0).images[0].size        # doctest: +SKIP
    (128, 128)
"""

from __future__ import annotations

import t2izoo

from .config import AffineFusionConfig, FFGANConfig

__all__ = ["AffineFusionConfig", "FFGANConfig"]


@t2izoo.hookimpl
def t2izoo_register_components(registry: t2izoo.Registry) -> None:
    registry.register(
        "fusion", "affine", config=AffineFusionConfig,
        factory="t2izoo_ffgan.fusion:AffineFusion",
        description="FF-Block (word attention -> spatial scale/shift) or DF-GAN per-channel affine; + GSR (FF-GAN)",
        aliases=("ff-block",),
    )
    registry.register(
        "generator", "ffgan", config=FFGANConfig,
        factory="t2izoo_ffgan.generator:FFGANGenerator",
        description="FF-GAN: CA, 64 px initial stage, FF-Block + GSR refinement stages to 256 px",
    )
    from t2izoo.training import register_recipe

    register_recipe(
        "ffgan", "t2izoo_ffgan.recipes:FFGANRecipe",
        description="FF-GAN training: spectral-norm discriminators, adversarial + lambda1 KL + lambda2 DAMSM",
    )


@t2izoo.hookimpl
def t2izoo_converters() -> dict[str, str]:
    return {"ffgan": "t2izoo_ffgan.convert:CONVERTER"}
