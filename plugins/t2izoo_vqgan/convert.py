"""``t2izoo convert vqgan``: a taming-transformers VQGAN checkpoint -> a diffusers VQModel directory.

Input: the Lightning checkpoint (``last.ckpt``; weights under ``"state_dict"``) or a bare state
dict, read with ``torch.load(weights_only=True)`` (no code from the file runs). Optional: the
run's ``model.yaml`` (``model.params.ddconfig``, ``embed_dim``, ``n_embed``), checked against the
tensors.

Mapping (taming -> diffusers ``VQModel``), with ``n`` levels:

    encoder.down.{i}.block.{j}.*           encoder.down_blocks.{i}.resnets.{j}.*
        .nin_shortcut                          .conv_shortcut
    encoder.down.{i}.attn.{j}.norm/q/k/v/proj_out   ...attentions.{j}.group_norm/to_q/to_k/to_v/to_out.0
    encoder.down.{i}.downsample.conv       encoder.down_blocks.{i}.downsamplers.0.conv
    {en,de}coder.mid.block_1/attn_1/block_2   {en,de}coder.mid_block.resnets.0/attentions.0/resnets.1
    {en,de}coder.norm_out                  {en,de}coder.conv_norm_out
    decoder.up.{i}.block/attn/upsample     decoder.up_blocks.{n-1-i}.resnets/attentions/upsamplers.0
    quant_conv, post_quant_conv, quantize.embedding, conv_in, conv_out: same names

Attention q/k/v/proj_out are 1x1 convolutions in taming and linear layers in diffusers: their
``[C, C, 1, 1]`` weights become ``[C, C]``. ``loss.*`` (discriminator, LPIPS) is dropped. Any
other key left over, or a missing one, is an error naming it.

Example:
    $ t2izoo convert vqgan --checkpoint vqgan_imagenet_f16_16384/checkpoints/last.ckpt \\
          --config vqgan_imagenet_f16_16384/configs/model.yaml --out models/vqgan-f16-16384
    $ t2izoo generate vqgan-clip-imagenet-f16-16384 "a watercolour fox" \\
          --overrides generator.vqgan_weights=models/vqgan-f16-16384
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from t2izoo.convert import ConversionError, match_state_dict, read_checkpoint

__all__ = [
    "CONVERTER", "VQGANConverter", "ConversionError", "read_taming_state_dict", "infer_config",
    "taming_to_diffusers", "convert_vqgan",
]


def read_taming_state_dict(path: str | Path) -> dict[str, Any]:
    """The model tensors of a taming checkpoint (``"state_dict"`` of a Lightning file, or bare)."""
    # Lightning files keep the model under "state_dict"; taming keys never carry a "module." prefix
    obj = read_checkpoint(
        path, wrappers=("state_dict",), strip_prefix="",
        load_hint="If you trust the file, extract its weights once: python -c \"import torch; "
        f"torch.save(torch.load('{path}', weights_only=False)['state_dict'], 'vqgan_state.pt')\" "
        "and convert vqgan_state.pt",
    )
    if not any(k.startswith("encoder.") for k in obj):
        raise ConversionError(f"{path}: no taming VQGAN weights found (no 'encoder.*' keys in the state dict)")
    return {k: v for k, v in obj.items() if not k.startswith("loss.")}


def _indices(state: Mapping[str, Any], pattern: str) -> list[int]:
    rx = re.compile(pattern)
    return sorted({int(m.group(1)) for k in state for m in [rx.match(k)] if m})


def infer_config(state: Mapping[str, Any], yaml_config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """VQGAN config fields (taming names) read from the tensors; ``model.yaml`` values are checked.

    The tensors fix every width and which levels carry attention; only ``resolution`` (which
    turns attention levels into ``attn_resolutions``) comes from the yaml, else 256.
    """
    if "quantize.embedding.weight" not in state:
        keys = sorted(k for k in state if k.startswith("quantize."))
        raise ConversionError(f"unsupported quantizer: expected 'quantize.embedding.weight', found {keys} (Gumbel/EMA variants are not supported)")
    ch = int(state["encoder.conv_in.weight"].shape[0])
    levels = _indices(state, r"encoder\.down\.(\d+)\.")
    ch_mult = tuple(int(state[f"encoder.down.{i}.block.0.conv1.weight"].shape[0]) // ch for i in levels)
    num_res_blocks = len(_indices(state, r"encoder\.down\.0\.block\.(\d+)\."))
    attn_levels = [i for i in levels if f"encoder.down.{i}.attn.0.q.weight" in state]
    params = dict((yaml_config or {}).get("model", {}).get("params", {}))
    dd = dict(params.get("ddconfig", {}))
    resolution = int(dd.get("resolution", 256))
    inferred = {
        "resolution": resolution,
        "in_channels": int(state["encoder.conv_in.weight"].shape[1]),
        "out_ch": int(state["decoder.conv_out.weight"].shape[0]),
        "ch": ch, "ch_mult": ch_mult, "num_res_blocks": num_res_blocks,
        "attn_resolutions": tuple(resolution // 2**i for i in attn_levels),
        "z_channels": int(state["post_quant_conv.weight"].shape[0]),
        "embed_dim": int(state["quantize.embedding.weight"].shape[1]),
        "n_embed": int(state["quantize.embedding.weight"].shape[0]),
    }
    checks = {**{k: dd[k] for k in ("in_channels", "out_ch", "ch", "ch_mult", "num_res_blocks", "attn_resolutions", "z_channels") if k in dd},
              **{k: params[k] for k in ("embed_dim", "n_embed") if k in params}}
    diffs = [f"{k}: yaml {v} vs tensors {inferred[k]}" for k, v in checks.items()
             if (tuple(v) if isinstance(v, (list, tuple)) else v) != inferred[k]]
    if diffs:
        raise ConversionError("model.yaml disagrees with the checkpoint's tensors:\n  " + "\n  ".join(diffs))
    return inferred


_ATTN = {"norm": "group_norm", "q": "to_q", "k": "to_k", "v": "to_v", "proj_out": "to_out.0"}
_RES = {"norm1": "norm1", "conv1": "conv1", "norm2": "norm2", "conv2": "conv2", "nin_shortcut": "conv_shortcut"}


def _map_key(key: str, n_levels: int) -> tuple[str, bool] | None:
    """taming key -> (diffusers key, is an attention projection to flatten), or None if unknown."""
    for side in ("encoder", "decoder"):
        if not key.startswith(side + "."):
            continue
        rest = key[len(side) + 1:]
        if m := re.fullmatch(r"(conv_in|conv_out)\.(weight|bias)", rest):
            return f"{side}.{rest}", False
        if m := re.fullmatch(r"norm_out\.(weight|bias)", rest):
            return f"{side}.conv_norm_out.{m.group(1)}", False
        if m := re.fullmatch(r"mid\.(block_1|block_2)\.(\w+)\.(weight|bias)", rest):
            if m.group(2) not in _RES:
                return None
            j = 0 if m.group(1) == "block_1" else 1
            return f"{side}.mid_block.resnets.{j}.{_RES[m.group(2)]}.{m.group(3)}", False
        if m := re.fullmatch(r"mid\.attn_1\.(\w+)\.(weight|bias)", rest):
            if m.group(1) not in _ATTN:
                return None
            return f"{side}.mid_block.attentions.0.{_ATTN[m.group(1)]}.{m.group(2)}", m.group(1) != "norm"
        level = r"(down|up)\.(\d+)\."
        if m := re.fullmatch(level + r"block\.(\d+)\.(\w+)\.(weight|bias)", rest):
            if m.group(4) not in _RES:
                return None
            blocks, i = _blocks(side, m.group(1), int(m.group(2)), n_levels)
            return f"{side}.{blocks}.{i}.resnets.{m.group(3)}.{_RES[m.group(4)]}.{m.group(5)}", False
        if m := re.fullmatch(level + r"attn\.(\d+)\.(\w+)\.(weight|bias)", rest):
            if m.group(4) not in _ATTN:
                return None
            blocks, i = _blocks(side, m.group(1), int(m.group(2)), n_levels)
            return f"{side}.{blocks}.{i}.attentions.{m.group(3)}.{_ATTN[m.group(4)]}.{m.group(5)}", m.group(4) != "norm"
        if m := re.fullmatch(level + r"(downsample|upsample)\.conv\.(weight|bias)", rest):
            blocks, i = _blocks(side, m.group(1), int(m.group(2)), n_levels)
            sampler = "downsamplers" if m.group(3) == "downsample" else "upsamplers"
            return f"{side}.{blocks}.{i}.{sampler}.0.conv.{m.group(4)}", False
        return None
    if re.fullmatch(r"(quant_conv|post_quant_conv)\.(weight|bias)|quantize\.embedding\.weight", key):
        return key, False
    return None


def _blocks(side: str, kind: str, i: int, n_levels: int) -> tuple[str, int]:
    if side == "encoder" and kind == "down":
        return "down_blocks", i
    if side == "decoder" and kind == "up":
        return "up_blocks", n_levels - 1 - i  # taming counts up-levels from the highest resolution
    raise ConversionError(f"{side} has no '{kind}' levels")


def taming_to_diffusers(state: Mapping[str, Any], n_levels: int) -> dict[str, Any]:
    """Rename (and reshape) taming VQGAN tensors into diffusers ``VQModel`` keys.

    Raises:
        ConversionError: keys with no diffusers counterpart (listed).
    """
    out: dict[str, Any] = {}
    unknown = []
    for key, value in state.items():
        mapped = _map_key(key, n_levels)
        if mapped is None:
            unknown.append(key)
            continue
        new, flatten = mapped
        if flatten and key.endswith(".weight") and value.dim() == 4:
            value = value[:, :, 0, 0]
        out[new] = value.contiguous()
    if unknown:
        raise ConversionError(f"{len(unknown)} checkpoint keys have no place in a VQModel: {unknown[:12]}")
    return out


def convert_vqgan(
    checkpoint: str | Path, out: str | Path, config: str | Path | None = None, norm_num_groups: int | None = None
) -> tuple[Path, dict[str, Any]]:
    """Convert a taming VQGAN checkpoint; return (directory, the inferred generator fields).

    The directory holds diffusers' ``config.json`` + ``diffusion_pytorch_model.safetensors`` and
    ``vqgan_config.json`` (the taming-named fields for ``generator.*``). Loading is strict.
    GroupNorm's group count is not in the tensors: taming's 32 unless ``norm_num_groups`` says
    otherwise (widths that 32 does not divide fall back to their largest common divisor <= 32).
    """
    import yaml

    from .configs import VQGANClipConfig
    from .vqmodel import build_vqmodel

    state = read_taming_state_dict(checkpoint)
    yaml_cfg = None
    if config is not None:
        yaml_cfg = yaml.safe_load(Path(config).read_text(encoding="utf-8"))
    fields = infer_config(state, yaml_cfg)
    groups = norm_num_groups or (32 if all((fields["ch"] * m) % 32 == 0 for m in fields["ch_mult"]) else _groups(fields))
    cfg = VQGANClipConfig(**fields, norm_num_groups=groups, image_size=fields["resolution"],
                          clip={"name": "clip", "model": "shapes-clip-tiny", "pretrained": None})
    vq = build_vqmodel(cfg)
    mapped = taming_to_diffusers(state, len(fields["ch_mult"]))
    vq.load_state_dict(match_state_dict(vq, mapped, f"{checkpoint} (after renaming)"), strict=True)
    out = Path(out)
    vq.save_pretrained(str(out), safe_serialization=True)
    fields_json = {k: list(v) if isinstance(v, tuple) else v for k, v in {**fields, "norm_num_groups": groups}.items()}
    (out / "vqgan_config.json").write_text(json.dumps(fields_json, indent=2), encoding="utf-8")
    return out, fields_json


def _groups(fields: Mapping[str, Any]) -> int:
    # taming always uses 32 groups; a checkpoint whose widths are not multiples of 32 is not
    # taming's, so take the largest group count that divides every width
    import math

    widths = [fields["ch"] * m for m in fields["ch_mult"]]
    g = math.gcd(*widths)
    return max(d for d in range(1, min(32, g) + 1) if g % d == 0)


class VQGANConverter:
    """The ``vqgan`` converter object that ``t2izoo convert vqgan`` drives."""

    name = "vqgan"
    help = "taming-transformers VQGAN checkpoint (last.ckpt) -> diffusers VQModel directory"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--checkpoint", required=True, help="taming Lightning checkpoint (last.ckpt) or bare state dict")
        parser.add_argument("--config", default=None, help="the run's model.yaml (resolution; checked against the tensors)")
        parser.add_argument("--out", required=True, help="directory to write (diffusers VQModel layout)")
        parser.add_argument("--norm-groups", type=int, default=None, help="GroupNorm groups (taming: 32)")

    def run(self, args: argparse.Namespace) -> int:
        out, fields = convert_vqgan(args.checkpoint, args.out, args.config, args.norm_groups)
        defaults = {"resolution": 256, "in_channels": 3, "out_ch": 3, "ch": 128, "ch_mult": [1, 1, 2, 2, 4],
                    "num_res_blocks": 2, "attn_resolutions": [16], "z_channels": 256, "embed_dim": 256,
                    "n_embed": 16384, "norm_num_groups": 32}
        extra = " ".join(f"generator.{k}={json.dumps(v).replace(' ', '')}" for k, v in fields.items() if defaults.get(k) != v)
        print(f"wrote {out}; use it with: t2izoo generate vqgan-clip-imagenet-f16-16384 PROMPT "
              f"--overrides generator.vqgan_weights={out} {extra}".rstrip())
        return 0


CONVERTER = VQGANConverter()
