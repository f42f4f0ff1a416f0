"""t2izoo-cvae: the conditional VAE of the seed paper "Text-to-image synthesis using conditional-VAE".

* generator ``cvae``: q(z|x,c), reparameterisation with explicit noise, p(x|fusion(z, c)); loss
  BCE or MSE + KL (recipe ``cvae``); generation decodes z ~ N(0, I).
* fusion ``gated``: ``g = sigmoid(W[z; t] + b)``, ``g*z + (1-g)*t``; fusion ``latent-concat``:
  ``[z; t]``, the baseline the paper's first two models use.
* encoder ``label``: one-hot class read from the prompt (Fashion-MNIST, shapes or own classes).
* encoder ``t5``: a transformers T5 encoder (sentence = mean of the last hidden states).

This module is import-light (no torch): factories are import strings.
"""

from __future__ import annotations

import t2izoo

from .configs import CVAEConfig, GatedFusionConfig, LabelEncoderConfig, LatentConcatConfig, T5EncoderConfig

__all__ = ["CVAEConfig", "GatedFusionConfig", "LabelEncoderConfig", "LatentConcatConfig", "T5EncoderConfig"]


@t2izoo.hookimpl
def t2izoo_register_components(registry) -> None:
    registry.register(
        "generator", "cvae", config=CVAEConfig,
        factory="t2izoo_cvae.generator:CVAEGenerator",
        description="conditional VAE: q(z|x,c), p(x|fusion(z,c)); BCE/MSE + KL; samples z ~ N(0, I)",
        tags=("vae", "cvae"),
    )
    registry.register(
        "fusion", "gated", config=GatedFusionConfig,
        factory="t2izoo_cvae.fusion:GatedFusion",
        description="g = sigmoid(W[v; Linear(sentence)] + b); g*v + (1-g)*text (per position)",
        tags=("cvae",),
    )
    registry.register(
        "fusion", "latent-concat", config=LatentConcatConfig,
        factory="t2izoo_cvae.fusion:LatentConcatFusion",
        description="[v; sentence] (optionally projected): the CVAE decoder input, gated fusion's baseline",
        tags=("cvae",),
    )
    registry.register(
        "encoder", "label", config=LabelEncoderConfig,
        factory="t2izoo_cvae.label_encoder:LabelEncoder",
        description="one-hot class label read from the prompt (fashion-mnist, shapes or own classes)",
        aliases=("one-hot",),
        tags=("cvae",),
    )
    registry.register(
        "encoder", "t5", config=T5EncoderConfig,
        factory="t2izoo_cvae.t5_encoder:T5Encoder",
        description="transformers T5 encoder: words = last hidden states, sentence = their masked mean",
        tags=("t5",),
    )
    from t2izoo.training import register_recipe  # torch-free

    register_recipe("cvae", "t2izoo_cvae.recipe:CVAERecipe",
                    description="negative ELBO (BCE/MSE reconstruction + KL) for the cvae generator")
