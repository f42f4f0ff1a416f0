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

import argparse
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "CONVERTER",
    "AttnGANConverter",
    "ConversionError",
    "read_checkpoint",
    "infer_generator_config",
    "infer_encoder_config",
    "match_state_dict",
    "convert_attngan",
    "DAMSM_DIR",
]

DAMSM_DIR = "damsm_image_encoder"


class ConversionError(ValueError):
    """A checkpoint does not fit the architecture it is converted to."""


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """Tensors of a ``.pth`` state dict (weights only; a ``module.`` prefix removed)."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - name the file, keep the cause
        raise ConversionError(f"{path}: cannot read it as a weights-only PyTorch state dict: {err}") from err
    for wrapper in ("state_dict", "model", "netG"):
        if isinstance(state, Mapping) and wrapper in state and isinstance(state[wrapper], Mapping):
            state = state[wrapper]
    if not isinstance(state, Mapping) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ConversionError(f"{path}: expected a state dict of tensors, got {type(state).__name__}")
    return {(k[len("module."):] if k.startswith("module.") else k): v for k, v in state.items()}


def _shape(state: Mapping[str, Any], key: str, source: str) -> tuple[int, ...]:
    if key not in state:
        raise ConversionError(f"{source}: key {key!r} is missing; is this the right kind of checkpoint?")
    return tuple(state[key].shape)


def infer_generator_config(state: Mapping[str, Any], source: str = "generator") -> dict[str, Any]:
    """``attngan`` config fields from a G_NET state dict."""
    ca_out, sentence_dim = _shape(state, "ca_net.fc.weight", source)
    c_dim = ca_out // 4
    ngf = _shape(state, "img_net1.img.0.weight", source)[1]
    in_dim = _shape(state, "h_net1.fc.0.weight", source)[1]
    branch_num = max(int(m.group(1)) for k in state if (m := re.match(r"img_net(\d+)\.", k)))
    config: dict[str, Any] = {
        "name": "attngan", "ngf": ngf, "c_dim": c_dim, "z_dim": in_dim - c_dim,
        "sentence_dim": sentence_dim, "branch_num": branch_num,
    }
    if branch_num > 1:
        config["word_dim"] = _shape(state, "h_net2.att.conv_context.weight", source)[1]
        config["r_num"] = len({m.group(1) for k in state if (m := re.match(r"h_net2\.residual\.(\d+)\.", k))})
    else:
        config["word_dim"] = sentence_dim
    return config


def infer_encoder_config(state: Mapping[str, Any], source: str = "text encoder") -> dict[str, Any]:
    """``lstm`` config fields from an RNN_ENCODER state dict (the vocabulary comes separately)."""
    vocab_size, embed_dim = _shape(state, "encoder.weight", source)
    hidden_per_dir = _shape(state, "rnn.weight_hh_l0", source)[1]
    bidirectional = "rnn.weight_hh_l0_reverse" in state
    if any(k.startswith("rnn.") and "_l1" in k for k in state):
        raise ConversionError(f"{source}: a multi-layer RNN is not the DAMSM encoder (found *_l1 keys)")
    if "rnn.weight_ih_l0" in state and _shape(state, "rnn.weight_ih_l0", source)[0] != 4 * hidden_per_dir:
        raise ConversionError(f"{source}: rnn.weight_ih_l0 is not an LSTM's (a GRU checkpoint?)")
    return {
        "name": "lstm", "vocab": None, "vocab_size": vocab_size, "embed_dim": embed_dim,
        "hidden": hidden_per_dir * (2 if bidirectional else 1), "bidirectional": bidirectional,
    }


def match_state_dict(module: Any, state: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Map ``state`` onto ``module``'s keys; fill missing BN counters; fail on anything else."""
    import torch

    own = module.state_dict()
    out: dict[str, Any] = {}
    missing = []
    for key, ref in own.items():
        if key in state:
            value = state[key]
            if tuple(value.shape) != tuple(ref.shape):
                raise ConversionError(
                    f"{source}: {key} has shape {tuple(value.shape)}, the model expects {tuple(ref.shape)}"
                )
            out[key] = value.to(ref.dtype)
        elif key.endswith("num_batches_tracked"):
            out[key] = torch.zeros_like(ref)  # PyTorch < 0.4 did not store the counter
        else:
            missing.append(key)
    unexpected = sorted(set(state) - set(own))
    if missing or unexpected:
        raise ConversionError(
            f"{source}: keys do not match the model. missing: {missing[:8]}{' ...' if len(missing) > 8 else ''}; "
            f"unexpected: {unexpected[:8]}{' ...' if len(unexpected) > 8 else ''}"
        )
    return out


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
    from t2izoo.data import AttnGANTokenizer

    g_state = read_checkpoint(generator)
    e_state = read_checkpoint(text_encoder)
    g_cfg = infer_generator_config(g_state, str(generator))
    e_cfg = infer_encoder_config(e_state, str(text_encoder))
    g_cfg["mask_mode"] = mask_mode
    if e_cfg["hidden"] != g_cfg["word_dim"] or e_cfg["hidden"] != g_cfg["sentence_dim"]:
        raise ConversionError(
            f"text encoder width {e_cfg['hidden']} does not match the generator's "
            f"word_dim={g_cfg['word_dim']} / sentence_dim={g_cfg['sentence_dim']}"
        )
    tokenizer = AttnGANTokenizer.from_captions_pickle(Path(captions))
    if tokenizer.vocab_size != e_cfg["vocab_size"]:
        raise ConversionError(
            f"{captions} has {tokenizer.vocab_size} words but {text_encoder} embeds "
            f"{e_cfg['vocab_size']}: they come from different data sets or versions"
        )

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
    pipe.encoder.load_state_dict(match_state_dict(pipe.encoder, e_state, str(text_encoder)), strict=True)
    pipe.generator.load_state_dict(match_state_dict(pipe.generator, g_state, str(generator)), strict=True)
    out = Path(out)
    pipe.save_pretrained(out)

    if image_encoder is not None:
        from t2izoo.nn import DAMSMImageEncoder

        i_state = read_checkpoint(image_encoder)
        embed_dim = _shape(i_state, "emb_cnn_code.weight", str(image_encoder))[0]
        damsm = DAMSMImageEncoder(embed_dim=embed_dim, backbone="inception_v3", align_corners=True)
        damsm.load_state_dict(match_state_dict(damsm, i_state, str(image_encoder)), strict=True)
        damsm.save_pretrained(out / DAMSM_DIR)
    return out


class AttnGANConverter:
    """The ``attngan`` converter object that ``t2izoo convert attngan`` drives."""

    name = "attngan"
    help = "released AttnGAN .pth files (G_NET, DAMSM encoders) + captions.pickle -> model directory"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--generator", required=True, help="G_NET state dict (netG_*.pth)")
        parser.add_argument("--text-encoder", required=True, help="DAMSM RNN_ENCODER state dict (text_encoder*.pth)")
        parser.add_argument("--image-encoder", default=None, help="DAMSM CNN_ENCODER state dict (image_encoder*.pth)")
        parser.add_argument("--captions", required=True, help="the data set's captions.pickle (vocabulary)")
        parser.add_argument("--out", required=True, help="model directory to write")
        parser.add_argument("--preset", default=None, help="check sizes against this preset (attngan-bird, attngan-coco)")
        parser.add_argument(
            "--mask-mode", choices=("correct", "legacy"), default="correct",
            help="legacy: reproduce the release's outputs exactly (its word-mask bug included)",
        )
        parser.add_argument("--max-length", type=int, default=None, help="words kept per caption")

    def run(self, args: argparse.Namespace) -> int:
        out = convert_attngan(
            args.generator, args.text_encoder, args.captions, args.out,
            image_encoder=args.image_encoder, preset=args.preset, mask_mode=args.mask_mode,
            max_length=args.max_length,
        )
        print(f"wrote {out}; load it with t2izoo.build({str(args.preset or out)!r}, pretrained={str(out)!r})")
        return 0


CONVERTER = AttnGANConverter()
