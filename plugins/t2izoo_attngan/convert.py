"""``t2izoo convert attngan``: released AttnGAN checkpoints -> a t2izoo model directory.

Inputs are the original files: ``netG_*.pth`` / ``bird_AttnGAN2.pth`` (G_NET), the DAMSM
``text_encoder*.pth`` (RNN_ENCODER), optionally ``image_encoder*.pth`` (CNN_ENCODER), and the
data set's ``captions.pickle`` (the only place the vocabulary order lives). They are read with
``torch.load(weights_only=True)``: no code from a checkpoint ever runs.

Our module names equal the original's, so the key mapping is the identity up to two legacy
details: a ``module.`` prefix (checkpoints saved from ``DataParallel``) is removed, and batch-norm
``num_batches_tracked`` counters, absent from PyTorch < 0.4 files, are filled with zeros. Every
other missing or unexpected key is an error naming the keys.

Sizes (ngf, stages, residual blocks, vocabulary, text width) are read from the tensors; a
``--preset`` is checked against them.

Example:
    $ t2izoo convert attngan --generator bird_AttnGAN2.pth --text-encoder text_encoder200.pth \\
          --image-encoder image_encoder200.pth --captions captions.pickle \\
          --out models/attngan-bird --preset attngan-bird
    $ t2izoo generate models/attngan-bird "this bird is red with white wings"
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from t2izoo.convert import (
    DAMSM_DIR,
    ConversionError,
    StackGANConverter,
    damsm_tokenizer,
    infer_damsm_text_encoder_config,
    match_state_dict,
    read_checkpoint,
    save_stackgan_model,
    tensor_shape,
)

__all__ = [
    "CONVERTER",
    "ConversionError",
    "read_checkpoint",
    "infer_generator_config",
    "infer_encoder_config",
    "match_state_dict",
    "convert_attngan",
    "DAMSM_DIR",
]

# the checkpoint helpers (and the DAMSM ones, which ffgan shares) live in t2izoo.convert; the
# names tests and docs import from this module are re-exported
infer_encoder_config = infer_damsm_text_encoder_config


def infer_generator_config(state: Mapping[str, Any], source: str = "generator") -> dict[str, Any]:
    """``attngan`` config fields from a G_NET state dict."""
    ca_out, sentence_dim = tensor_shape(state, "ca_net.fc.weight", source)
    c_dim = ca_out // 4
    ngf = tensor_shape(state, "img_net1.img.0.weight", source)[1]
    in_dim = tensor_shape(state, "h_net1.fc.0.weight", source)[1]
    branch_num = max(int(m.group(1)) for k in state if (m := re.match(r"img_net(\d+)\.", k)))
    config: dict[str, Any] = {
        "name": "attngan", "ngf": ngf, "c_dim": c_dim, "z_dim": in_dim - c_dim,
        "sentence_dim": sentence_dim, "branch_num": branch_num,
    }
    if branch_num > 1:
        config["word_dim"] = tensor_shape(state, "h_net2.att.conv_context.weight", source)[1]
        config["r_num"] = len({m.group(1) for k in state if (m := re.match(r"h_net2\.residual\.(\d+)\.", k))})
    else:
        config["word_dim"] = sentence_dim
    return config


def _check_against_preset(preset: str, slot: str, preset_cfg: Mapping[str, Any], inferred: Mapping[str, Any]) -> None:
    for key, value in inferred.items():
        if key in ("name", "vocab", "vocab_size"):
            continue
        expected = preset_cfg.get(key)
        if expected is not None and expected != value:
            raise ConversionError(
                f"the checkpoint's {slot} has {key}={value!r} but preset {preset!r} says {key}={expected!r}; "
                f"choose the matching preset (attngan-bird: ngf 32, r_num 2; attngan-coco: ngf 48, r_num 3) "
                f"or omit --preset"
            )


def convert_attngan(
    generator: str | Path,
    text_encoder: str | Path,
    captions: str | Path,
    out: str | Path,
    *,
    image_encoder: str | Path | None = None,
    preset: str | None = None,
    mask_mode: str = "correct",
    max_length: int | None = None,
) -> Path:
    """Convert released AttnGAN files into a model directory loadable with ``t2izoo.build``.

    Args:
        generator: G_NET ``.pth``.
        text_encoder: RNN_ENCODER ``.pth``.
        captions: the data set's ``captions.pickle`` (vocabulary order).
        out: the model directory to write.
        image_encoder: CNN_ENCODER ``.pth``; written to ``OUT/damsm_image_encoder`` (for the
            DAMSM loss and R-precision).
        preset: a preset whose config the sizes must match (``attngan-bird``, ``attngan-coco``).
        mask_mode: ``"legacy"`` reproduces the release's outputs exactly (its batch-order mask
            bug included); ``"correct"`` (default) masks each caption's own padding.
        max_length: words kept per caption (default: the preset's, else 18).

    Returns:
        ``out``. Load it with ``t2izoo.build(preset or str(out), pretrained=out)``.

    Example:
        >>> convert_attngan("netG.pth", "text_encoder.pth", "captions.pickle", "out/bird",
        ...                 preset="attngan-bird")   # doctest: +SKIP
    """
    import t2izoo
    from t2izoo import PipelineConfig, Text2ImagePipeline

    g_state = read_checkpoint(generator)
    e_state = read_checkpoint(text_encoder)
    g_cfg = infer_generator_config(g_state, str(generator))
    e_cfg = infer_encoder_config(e_state, str(text_encoder))
    g_cfg["mask_mode"] = mask_mode
    tokenizer = damsm_tokenizer(captions, e_cfg, g_cfg, text_encoder)

    data: dict[str, Any] = {"encoder": e_cfg, "generator": g_cfg, "refiner": None}
    if preset is not None:
        base = t2izoo.build_config(preset).to_dict()
        _check_against_preset(preset, "generator", base["generator"], g_cfg)
        _check_against_preset(preset, "encoder", base["encoder"], e_cfg)
        data = {
            "encoder": {**base["encoder"], **e_cfg},
            "generator": {**base["generator"], **g_cfg},
            "refiner": base.get("refiner"),
            "preset": preset,
        }
    if max_length is not None:
        data["encoder"]["max_length"] = max_length
    config = PipelineConfig.model_validate(data)

    pipe = Text2ImagePipeline.from_config(config)
    pipe.encoder.tokenizer = tokenizer
    return save_stackgan_model(pipe, e_state, text_encoder, g_state, generator, out, image_encoder)


CONVERTER = StackGANConverter(
    "attngan", "released AttnGAN .pth files (G_NET, DAMSM encoders) + captions.pickle -> model directory", convert_attngan,
    family="AttnGAN", presets="attngan-bird, attngan-coco", mask_choices=("correct", "legacy"),
    mask_help="legacy: reproduce the release's outputs exactly (its word-mask bug included)",
)
