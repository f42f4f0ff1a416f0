"""t2izoo-clip: open_clip models as text encoders (encoder ``clip``).

Any open_clip architecture by name, with open_clip pretrained tags, ``hf-hub:`` ids or a local
checkpoint; ``shapes-clip-tiny`` is a small architecture for the built-in shapes world that
trains on a CPU and needs no download. The encoder also exposes CLIP's image side
(``image_features``, ``image_tokens``) for CLIP-guided fusion, losses and CLIP scores.

This module is import-light (no torch): factories are import strings.
"""

from __future__ import annotations

import t2izoo

from .configs import MODEL_CONFIG_DIR, CLIPEncoderConfig

__all__ = ["CLIPEncoderConfig", "MODEL_CONFIG_DIR"]


@t2izoo.hookimpl
def t2izoo_register_components(registry) -> None:
    registry.register(
        "encoder", "clip", config=CLIPEncoderConfig,
        factory="t2izoo_clip.encoder:CLIPEncoder",
        description="open_clip text tower: words = per-token features after ln_final, "
        "sentence = pooled projected embedding; image side exposed",
        aliases=("open-clip",),
        tags=("clip",),
    )
    from t2izoo.training import register_recipe  # torch-free

    register_recipe("shapes-clip", "t2izoo_clip.recipes:CLIPContrastiveRecipe",
                    description="contrastive (InfoNCE) training of a clip encoder, e.g. shapes-clip-tiny")
