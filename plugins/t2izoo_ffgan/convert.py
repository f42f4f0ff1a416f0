"""``t2izoo convert ffgan``: the released FF-GAN generator (+ AttnGAN's DAMSM files) -> a model directory.

The release (github.com/haoranhfut/FF-GAN) is a DM-GAN fork. Its ``G_NET`` state dict differs
from our ``ffgan`` generator in two ways, and the mapping is exactly these:

* the fusion of a refinement stage sits directly in ``h_net<k>`` (``w_att.conv_context``,
  ``affine.conv`` / ``conv_weight`` / ``conv_bias``, ``s_att.conv_context``); ours is the
  swappable component ``h_net<k>.att``, so ``att.`` is inserted;
* ``h_net<k>`` also holds DM-GAN's memory-writing layers (``A``, ``B``, ``M_r``, ``M_w``, ``key``,
  ``value``, ``response_gate``), built but never called by FF-GAN's forward pass: dropped.

Everything else (``ca_net``, ``h_net1``, ``residual``, ``upsample``, ``img_net<k>``) is key for
key. A ``module.`` prefix (``DataParallel``) is removed and batch-norm ``num_batches_tracked``
counters absent from old files are filled with zeros; any other missing or unexpected key is an
error that names it. Files are read with ``torch.load(weights_only=True)``.

FF-GAN uses AttnGAN's pretrained DAMSM encoders, so ``--text-encoder`` / ``--captions`` /
``--image-encoder`` are AttnGAN's ``text_encoder200.pth``, ``captions.pickle`` and
``image_encoder200.pth``.

Example:
    $ t2izoo convert ffgan --generator netG.pth --text-encoder text_encoder200.pth \\
          --captions captions.pickle --out models/ffgan-bird --preset ffgan-bird
    $ t2izoo generate models/ffgan-bird "this bird is red with white wings"
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from t2izoo.convert import (
    ConversionError,
    StackGANConverter,
    damsm_tokenizer,
    infer_damsm_text_encoder_config,
    read_checkpoint,
    save_stackgan_model,
    tensor_shape,
)

__all__ = [
    "CONVERTER",
    "ConversionError",
    "MEMORY_LAYERS",
    "read_checkpoint",
    "map_generator_keys",
    "infer_generator_config",
    "infer_encoder_config",
    "convert_ffgan",
]

#: DM-GAN memory-writing layers in every released ``h_net<k>``; FF-GAN's forward never uses them
MEMORY_LAYERS = ("A", "B", "M_r", "M_w", "key", "value", "response_gate")
#: the release's fusion layers of a stage, which live under ``h_net<k>.att`` here
FUSION_LAYERS = ("w_att", "affine", "s_att")
# FF-GAN uses AttnGAN's DAMSM files: the core's one copy of their conversion serves both converters
infer_encoder_config = infer_damsm_text_encoder_config


_STAGE_KEY = re.compile(r"^(h_net\d+)\.([^.]+)\.(.+)$")


def map_generator_keys(state: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Release ``G_NET`` keys -> ``ffgan`` keys. Returns ``(mapped state, dropped memory keys)``.

    Example:
        >>> mapped, dropped = map_generator_keys({"h_net2.w_att.conv_context.weight": 0,
        ...                                       "h_net2.M_r.0.bias": 1, "img_net2.img.0.weight": 2})
        >>> sorted(mapped), dropped
        (['h_net2.att.w_att.conv_context.weight', 'img_net2.img.0.weight'], ['h_net2.M_r.0.bias'])
    """
    mapped: dict[str, Any] = {}
    dropped: list[str] = []
    for key, value in state.items():
        m = _STAGE_KEY.match(key)
        if m and m.group(2) in MEMORY_LAYERS:
            dropped.append(key)
            continue
        if m and m.group(2) in FUSION_LAYERS:
            key = f"{m.group(1)}.att.{m.group(2)}.{m.group(3)}"
        mapped[key] = value
    return mapped, dropped


def infer_generator_config(state: Mapping[str, Any], source: str = "generator") -> dict[str, Any]:
    """``ffgan`` config fields from a (mapped) generator state dict."""
    ca_out, sentence_dim = tensor_shape(state, "ca_net.fc.weight", source)
    c_dim = ca_out // 4
    ngf = tensor_shape(state, "img_net1.img.0.weight", source)[1]
    in_dim = tensor_shape(state, "h_net1.fc.0.weight", source)[1]
    branch_num = max(int(m.group(1)) for k in state if (m := re.match(r"img_net(\d+)\.", k)))
    config: dict[str, Any] = {
        "name": "ffgan", "ngf": ngf, "c_dim": c_dim, "z_dim": in_dim - c_dim,
        "sentence_dim": sentence_dim, "branch_num": branch_num, "word_dim": sentence_dim,
    }
    if branch_num > 1:
        if "h_net2.att.affine.conv.weight" not in state:
            raise ConversionError(
                f"{source}: no FF-Block weights (h_net2.affine.conv.weight); an AttnGAN or DM-GAN generator "
                f"is converted with `t2izoo convert attngan`"
            )
        config["word_dim"] = tensor_shape(state, "h_net2.att.w_att.conv_context.weight", source)[1]
        config["r_num"] = len({m.group(1) for k in state if (m := re.match(r"h_net2\.residual\.(\d+)\.", k))})
        config["fusion"] = {
            "name": "affine", "level": "word",
            "hidden": tensor_shape(state, "h_net2.att.affine.conv.weight", source)[0],
            "gsr": "h_net2.att.s_att.conv_context.weight" in state,
        }
    return config


def _merge_preset(preset: str, slot: str, base: Mapping[str, Any], inferred: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in inferred.items():
        if key == "fusion":
            merged["fusion"] = _merge_preset(preset, "generator.fusion", base.get("fusion") or {}, value)
            continue
        expected = base.get(key)
        if key not in ("name", "vocab", "vocab_size") and expected is not None and expected != value:
            raise ConversionError(
                f"the checkpoint's {slot} has {key}={value!r} but preset {preset!r} says {key}={expected!r}; "
                f"choose the matching preset or omit --preset"
            )
        merged[key] = value
    return merged


def convert_ffgan(
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
    """Convert the released FF-GAN generator and AttnGAN's DAMSM files into a model directory.

    Args:
        generator: the release's G_NET ``.pth`` (``netG_*.pth``).
        text_encoder: AttnGAN's DAMSM RNN_ENCODER ``.pth``.
        captions: the data set's ``captions.pickle`` (the vocabulary order).
        out: the model directory to write.
        image_encoder: DAMSM CNN_ENCODER ``.pth``; written to ``OUT/damsm_image_encoder``.
        preset: a preset whose sizes the files must match (``ffgan-bird``).
        mask_mode: ``"none"`` attends over padding as the release does; ``"correct"`` (default)
            ignores each caption's padding.
        max_length: words kept per caption (default: the preset's, else 18).

    Returns:
        ``out``. Load it with ``t2izoo.build(preset or str(out), pretrained=out)``.

    Example:
        >>> convert_ffgan("netG.pth", "text_encoder200.pth", "captions.pickle", "models/ffgan-bird",
        ...               preset="ffgan-bird")   # doctest: +SKIP
    """
    import t2izoo
    from t2izoo import PipelineConfig, Text2ImagePipeline

    g_state, dropped = map_generator_keys(read_checkpoint(generator))
    e_state = read_checkpoint(text_encoder)
    g_cfg = infer_generator_config(g_state, str(generator))
    if "fusion" in g_cfg:
        g_cfg["fusion"]["mask_mode"] = mask_mode
    e_cfg = infer_encoder_config(e_state, str(text_encoder))
    tokenizer = damsm_tokenizer(captions, e_cfg, g_cfg, text_encoder)
    data: dict[str, Any] = {"encoder": e_cfg, "generator": g_cfg, "refiner": None}
    if preset is not None:
        base = t2izoo.build_config(preset).to_dict()
        generator_cfg = _merge_preset(preset, "generator", base["generator"], g_cfg)  # checked first
        data = {
            "encoder": _merge_preset(preset, "encoder", base["encoder"], e_cfg),
            "generator": generator_cfg,
            "refiner": base.get("refiner"),
            "preset": preset,
        }
    else:
        data["encoder"].setdefault("max_length", 18)
    if max_length is not None:
        data["encoder"]["max_length"] = max_length
    try:
        config = PipelineConfig.model_validate(data)
        pipe = Text2ImagePipeline.from_config(config)
    except ValueError as err:  # the vocabulary and the embedding disagree, a bad preset...
        raise ConversionError(f"cannot build the converted model from {generator} / {text_encoder}: {err}") from err
    pipe.encoder.tokenizer = tokenizer
    out = save_stackgan_model(pipe, e_state, text_encoder, g_state, generator, out, image_encoder)
    if dropped:
        stages = sorted({k.split(".")[0] for k in dropped})
        print(f"dropped {len(dropped)} unused DM-GAN memory tensors ({', '.join(stages)})")
    return out


CONVERTER = StackGANConverter(
    "ffgan", "released FF-GAN netG.pth + AttnGAN's DAMSM files + captions.pickle -> model directory", convert_ffgan,
    family="FF-GAN", presets="ffgan-bird", mask_choices=("correct", "none"),
    mask_help="none: attend over padding words too, as the release does",
)
