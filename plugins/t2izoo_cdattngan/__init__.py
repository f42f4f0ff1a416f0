"""t2izoo-cdattngan: CD-AttnGAN (Chen & Zhou 2025): AttnGAN + CLIP guidance + diffusion super-resolution.

Registers:

* encoder ``lstm+clip`` -- AttnGAN's LSTM and a CLIP text tower joined by one FC layer,
  ``T_text = FC([T_clip ; T_lstm])``, carrying CLIP's image side with the features;
* fusion ``clip-attention`` -- AttnGAN's word attention re-weighted at every stage by
  ``A_k = softmax(T_text . I_clip^k / sqrt(D_clip))`` of the previous stage's image (eq. 3);
* recipe ``cd-attngan`` -- stage 1 (the ``attngan`` recipe + ``lambda * L_clip``, eq. 4-5), then
  stage 2 (the ``diffusion-sr`` refiner with stage 1 frozen).

Presets: ``cd-attngan`` (paper sizes), ``attngan-clip`` (no refiner), ``shapes-cd-attngan``.
This module is import-light (no torch): factories are import strings.

Example:
    >>> import t2izoo
    >>> pipe = t2izoo.build("shapes-cd-attngan")                         # doctest: +SKIP
    >>> pipe(["a small red circle"], seed=0).images[0].size               # doctest: +SKIP
    (256, 256)
"""

from __future__ import annotations

import t2izoo

from .configs import CLIPAttentionConfig, LSTMCLIPEncoderConfig

__all__ = ["CLIPAttentionConfig", "LSTMCLIPEncoderConfig"]


@t2izoo.hookimpl
def t2izoo_register_components(registry) -> None:
    registry.register(
        "encoder", "lstm+clip", config=LSTMCLIPEncoderConfig,
        factory="t2izoo_cdattngan.encoder:LSTMCLIPEncoder",
        description="CD-AttnGAN dual text encoder: FC([CLIP sentence ; LSTM words/sentence]) -> generator width",
        aliases=("dual-lstm-clip",),
        tags=("clip", "cd-attngan"),
    )
    registry.register(
        "fusion", "clip-attention", config=CLIPAttentionConfig,
        factory="t2izoo_cdattngan.fusion:CLIPAttentionFusion",
        description="AttnGAN word attention guided by CLIP features of the previous stage's image (eq. 3)",
        tags=("clip", "cd-attngan"),
    )
    from t2izoo.training import register_recipe  # torch-free

    register_recipe(
        "cd-attngan", "t2izoo_cdattngan.recipes:CDAttnGANRecipe",
        description="CD-AttnGAN: stage 1 AttnGAN + lambda L_clip (CLIP frozen), stage 2 diffusion-sr (stage 1 frozen)",
    )
