"""t2izoo-vqgan: VQGAN+CLIP (generator ``vqgan-clip``, recipe ``vqgan``, converter ``vqgan``).

* generator ``vqgan-clip``: a taming-transformers VQGAN held in a diffusers ``VQModel``, whose
  latent is optimised (AdamW, straight-through quantisation, augmented cutouts, weighted and
  negative prompts, clamping to the codebook's range) until the guidance CLIP matches the prompt;
* recipe ``vqgan``: trains the VQGAN autoencoder (L1 reconstruction + codebook + commitment);
* converter ``vqgan``: a taming Lightning checkpoint (``last.ckpt``) -> diffusers VQModel directory.

This module is import-light (no torch): factories are import strings.
"""

from __future__ import annotations

import t2izoo

from .configs import VQGANClipConfig

__all__ = ["VQGANClipConfig"]


@t2izoo.hookimpl
def t2izoo_register_components(registry) -> None:
    registry.register(
        "generator", "vqgan-clip", config=VQGANClipConfig,
        factory="t2izoo_vqgan.generator:VQGANClipGenerator",
        description="VQGAN (taming f16 on diffusers VQModel) decoding a latent optimised against CLIP "
        "over augmented cutouts; weighted/negative prompts",
        tags=("vqgan", "clip", "optimisation"),
    )
    from t2izoo.training import register_recipe  # torch-free

    register_recipe("vqgan", "t2izoo_vqgan.recipes:VQGANRecipe",
                    description="VQGAN autoencoder of a vqgan-clip generator: L1 + codebook + commitment")


@t2izoo.hookimpl
def t2izoo_converters() -> dict[str, str]:
    return {"vqgan": "t2izoo_vqgan.convert:CONVERTER"}
