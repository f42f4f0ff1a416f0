"""t2izoo-basic: small, real reference components of each kind.

They are what they say they are: a hashed bag-of-words text encoder, a sentence-concatenation
fusion, a small convolutional upsampling generator, an interpolation refiner and a pixel-space
diversity evaluator. They keep `build()`, the conformance kit and the training engine exercised
end to end, train in minutes on CPU, and serve as baselines in ablations.

This module is import-light (no torch): factories are import strings.
"""

from __future__ import annotations

import t2izoo

from .configs import (
    HashedEmbeddingConfig,
    InterpolateConfig,
    PixelDiversityConfig,
    SentenceConcatConfig,
    TinyConvConfig,
)


@t2izoo.hookimpl
def t2izoo_register_components(registry: t2izoo.Registry) -> None:
    registry.register(
        "encoder", "hashed-embedding", config=HashedEmbeddingConfig,
        factory="t2izoo_basic.encoder:HashedEmbeddingEncoder",
        description="bag of hashed word embeddings; sentence = projected masked mean",
        deprecated_aliases=("bow",),
    )
    registry.register(
        "fusion", "sentence-concat", config=SentenceConcatConfig,
        factory="t2izoo_basic.fusion:SentenceConcatFusion",
        description="tile the sentence vector over the feature map, concatenate, 1x1 conv",
    )
    registry.register(
        "generator", "tiny-conv", config=TinyConvConfig,
        factory="t2izoo_basic.generator:TinyConvGenerator",
        description="small conv upsampling generator with a fusion block per stage",
    )
    registry.register(
        "refiner", "interpolate", config=InterpolateConfig,
        factory="t2izoo_basic.refiner:InterpolateRefiner",
        description="parameter-free bicubic/bilinear/nearest upsampling (the baseline refiner)",
        aliases=("bicubic",),
    )
    registry.register(
        "evaluator", "pixel-diversity", config=PixelDiversityConfig,
        factory="t2izoo_basic.evaluator:PixelDiversity",
        description="mean pairwise pixel distance between generated images (mode-collapse check)",
    )
