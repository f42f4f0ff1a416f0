"""The VQGAN itself: a diffusers ``VQModel`` in taming-transformers' architecture, plus the
nearest-code quantiser with its straight-through estimator and losses.

diffusers' own quantiser is not used for the forward pass: the generator needs the code indices,
the straight-through output and the two VQ losses separately, and a quantiser that is plain code
here is easier to check against taming's (``VectorQuantizer2``, legacy loss).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .configs import VQGANClipConfig

__all__ = ["Quantized", "build_vqmodel", "quantize", "load_vqmodel_dir", "VQMODEL_WEIGHTS", "VQMODEL_CONFIG"]

VQMODEL_WEIGHTS = "diffusion_pytorch_model.safetensors"
VQMODEL_CONFIG = "config.json"
# the diffusers config keys that fix the architecture (and so the state-dict shapes)
_ARCH_KEYS = (
    "in_channels", "out_channels", "down_block_types", "up_block_types", "block_out_channels",
    "layers_per_block", "latent_channels", "num_vq_embeddings", "vq_embed_dim", "norm_num_groups",
    "norm_type", "mid_block_add_attention",
)


def build_vqmodel(config: VQGANClipConfig) -> Any:
    """A randomly initialised diffusers ``VQModel`` with ``config``'s architecture.

    Example:
        >>> vq = build_vqmodel(VQGANClipConfig(**VQGANClipConfig.tiny()))
        >>> vq.quantize.embedding.weight.shape
        torch.Size([16, 4])
    """
    from diffusers import VQModel

    return VQModel(**config.vqmodel_kwargs())


@dataclass
class Quantized:
    """Output of `quantize`.

    Attributes:
        z_q: ``[B, E, h, w]`` the nearest codes, with the straight-through gradient of ``z``.
        indices: ``[B, h, w]`` int64 code indices.
        codebook_loss: ``mean((z_q - sg[z])^2)``: moves the codes towards the encoder outputs.
        commitment_loss: ``mean((sg[z_q] - z)^2)``: keeps the encoder close to its codes.
    """

    z_q: torch.Tensor
    indices: torch.Tensor
    codebook_loss: torch.Tensor
    commitment_loss: torch.Tensor


def quantize(z: torch.Tensor, codebook: torch.Tensor) -> Quantized:
    """Replace every latent vector by its nearest codebook entry (squared Euclidean distance).

    The forward value is the code, the gradient is the identity to ``z`` (straight-through).

    Example:
        >>> q = quantize(torch.zeros(1, 2, 1, 1), torch.tensor([[1.0, 1.0], [0.1, 0.0]]))
        >>> q.indices.tolist(), q.z_q.flatten().tolist()
        ([[[1]]], [0.10000000149011612, 0.0])
    """
    b, e, h, w = z.shape
    flat = z.permute(0, 2, 3, 1).reshape(-1, e)
    cb = codebook.to(flat.dtype)
    # ||z||^2 - 2 z.c + ||c||^2, the same expansion taming uses (no [N, K, E] intermediate)
    dist = flat.pow(2).sum(1, keepdim=True) - 2 * flat @ cb.t() + cb.pow(2).sum(1)[None]
    idx = dist.argmin(1)
    codes = cb[idx].view(b, h, w, e).permute(0, 3, 1, 2)
    codebook_loss = (codes - z.detach()).pow(2).mean()
    commitment_loss = (codes.detach() - z).pow(2).mean()
    z_q = z + (codes - z).detach()
    return Quantized(z_q, idx.view(b, h, w), codebook_loss, commitment_loss)


def load_vqmodel_dir(vq: Any, directory: str | Path, config: VQGANClipConfig) -> None:
    """Load a directory written by ``t2izoo convert vqgan`` (diffusers layout) into ``vq``, strictly.

    Raises:
        FileNotFoundError: the directory or its weights file is missing (with how to make it).
        ValueError: the directory's architecture differs from ``config`` (naming the fields).
    """
    from safetensors.torch import load_file

    directory = Path(directory)
    weights, cfg_file = directory / VQMODEL_WEIGHTS, directory / VQMODEL_CONFIG
    if not weights.is_file() or not cfg_file.is_file():
        raise FileNotFoundError(
            f"vqgan-clip.vqgan_weights={str(directory)!r}: expected {VQMODEL_CONFIG} and {VQMODEL_WEIGHTS} there. "
            "Make them from a taming-transformers checkpoint with "
            f"`t2izoo convert vqgan --checkpoint last.ckpt --out {directory}`"
        )
    found = json.loads(cfg_file.read_text(encoding="utf-8"))
    wanted = config.vqmodel_kwargs()
    diffs = [
        f"{k}: config {_norm(wanted.get(k))} vs {cfg_file} {_norm(found.get(k))}"
        for k in _ARCH_KEYS
        if k in found and _norm(found[k]) != _norm(wanted.get(k))
    ]
    if diffs:
        raise ValueError(
            "vqgan-clip: the VQGAN in vqgan_weights does not match the generator config "
            "(set ch/ch_mult/num_res_blocks/attn_resolutions/z_channels/embed_dim/n_embed to the "
            "checkpoint's):\n  " + "\n  ".join(diffs)
        )
    state = load_file(str(weights))
    vq.load_state_dict(state, strict=True)


def _norm(value: Any) -> Any:
    return list(value) if isinstance(value, (tuple, list)) else value
