"""t2izoo-attngan: AttnGAN (Xu et al. 2018, arXiv:1711.10485) as zoo components.

Registers:

* encoder ``lstm`` — the DAMSM bi-LSTM text encoder;
* fusion ``concat-attention`` — word attention concatenated to the visual features;
* generator ``attngan`` — CA + initial stage + attention stages, 64/128/256 px;
* recipes ``attngan`` (GAN training with discriminators, DAMSM term and KL) and ``damsm``
  (text/image encoder pretraining);
* converter ``attngan`` — ``t2izoo convert attngan`` turns released ``.pth`` files into a model
  directory.

This module is import-light (no torch): factories are import strings.

Example:
    >>> import t2izoo
    >>> pipe = t2izoo.build("shapes-attngan")                     # doctest: +SKIP
    >>> pipe(["a small red circle"], seed=0).images[0].size       # doctest: +SKIP
    (128, 128)
"""

from __future__ import annotations

import t2izoo

from .config import AttnGANConfig, ConcatAttentionConfig, LSTMEncoderConfig

__all__ = ["AttnGANConfig", "ConcatAttentionConfig", "LSTMEncoderConfig"]


@t2izoo.hookimpl
def t2izoo_register_components(registry: t2izoo.Registry) -> None:
    registry.register(
        "encoder", "lstm", config=LSTMEncoderConfig,
        factory="t2izoo_attngan.encoder:LSTMEncoder",
        description="DAMSM text encoder: embedding 300 -> bi-LSTM (2x128); words + sentence (AttnGAN)",
        aliases=("damsm-lstm",),
    )
    registry.register(
        "fusion", "concat-attention", config=ConcatAttentionConfig,
        factory="t2izoo_attngan.fusion:ConcatAttentionFusion",
        description="AttnGAN word attention (masked softmax over words), concatenated to the features",
    )
    registry.register(
        "generator", "attngan", config=AttnGANConfig,
        factory="t2izoo_attngan.generator:AttnGANGenerator",
        description="AttnGAN: conditioning augmentation, 64 px initial stage, attention stages to 256 px",
    )
    from t2izoo.training import register_recipe

    register_recipe(
        "attngan", "t2izoo_attngan.recipes:AttnGANRecipe",
        description="AttnGAN GAN training: per-stage discriminators, DAMSM word/sentence term, KL",
    )
    register_recipe(
        "damsm", "t2izoo_attngan.recipes:DAMSMRecipe",
        description="DAMSM pretraining of the lstm text encoder with an image encoder",
    )


@t2izoo.hookimpl
def t2izoo_converters() -> dict[str, str]:
    return {"attngan": "t2izoo_attngan.convert:CONVERTER"}
