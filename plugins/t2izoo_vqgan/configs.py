"""Config of the ``vqgan-clip`` generator (pydantic only: importing this does not import torch).

The VQGAN fields keep taming-transformers' names (``ch``, ``ch_mult``, ``num_res_blocks``,
``attn_resolutions``, ``z_channels``, ``embed_dim``, ``n_embed``) so a taming ``model.yaml`` reads
across one to one; `VQGANClipConfig.vqmodel_kwargs` turns them into diffusers ``VQModel``
arguments. Defaults are the ``vqgan_imagenet_f16_16384`` model that VQGAN+CLIP uses.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

import t2izoo

__all__ = ["VQGANClipConfig", "DEFAULT_GUIDE"]

#: the guidance CLIP of the paper (OpenAI ViT-B/32)
DEFAULT_GUIDE: dict[str, Any] = {"name": "clip", "model": "ViT-B-32", "pretrained": "openai"}


class VQGANClipConfig(t2izoo.ComponentConfig):
    """VQGAN decoder + CLIP guidance: optimise a latent until CLIP agrees it shows the prompt.

    Two groups of fields:

    * the VQGAN (taming names, f16 ImageNet defaults): ``resolution`` 256, ``ch`` 128,
      ``ch_mult`` (1, 1, 2, 2, 4), ``num_res_blocks`` 2, ``attn_resolutions`` (16,),
      ``z_channels`` 256, ``embed_dim`` 256, ``n_embed`` 16384;
    * the optimisation: ``iterations``, AdamW ``lr`` 0.5 / ``weight_decay`` 0.1 (the seed
      report's values), ``cutn`` augmented cutouts, weighted ``extra_prompts``, ``clamp``,
      ``frame_every``.

    ``clip`` is the guidance model: a ``clip`` encoder config owned by this generator (text and
    image side of one CLIP, so prompts and cutouts live in the same space).

    Example:
        >>> cfg = VQGANClipConfig(clip={"name": "clip", "model": "shapes-clip-tiny", "pretrained": None})
        >>> cfg.downsample_factor, cfg.latent_size
        (16, 16)
    """

    name: str = "vqgan-clip"
    # -- VQGAN (taming-transformers ddconfig) ----------------------------------------------
    resolution: int = Field(256, ge=8, description="training resolution; with attn_resolutions it places attention")
    in_channels: int = Field(3, ge=1)
    out_ch: int = Field(3, ge=1, description="image channels out of the decoder")
    ch: int = Field(128, ge=1, description="base width")
    ch_mult: tuple[int, ...] = Field((1, 1, 2, 2, 4), min_length=1, description="width multiplier per level")
    num_res_blocks: int = Field(2, ge=1, description="ResNet blocks per encoder level (decoder: +1)")
    attn_resolutions: tuple[int, ...] = Field((16,), description="feature sides that get self-attention")
    z_channels: int = Field(256, ge=1)
    embed_dim: int = Field(256, ge=1, description="codebook vector width")
    n_embed: int = Field(16384, ge=2, description="codebook size")
    norm_num_groups: int = Field(32, ge=1, description="GroupNorm groups (eps 1e-6)")
    beta: float = Field(0.25, ge=0, description="commitment weight of the VQ loss (training)")
    vqgan_weights: str | None = Field(
        None, description="directory written by `t2izoo convert vqgan` (diffusers VQModel layout), loaded at build"
    )
    require_weights: bool = Field(
        False, description="refuse to generate with an untrained VQGAN (presets whose weights come from the user)"
    )
    # -- generation ------------------------------------------------------------------------
    image_size: int = Field(256, ge=8, description="side of the generated image (a multiple of the downsample factor)")
    clip: t2izoo.ComponentRef("encoder") = Field(  # type: ignore[valid-type]
        default_factory=lambda: dict(DEFAULT_GUIDE), validate_default=True,
        description="the guidance CLIP (a `clip` encoder config)",
    )
    iterations: int = Field(300, ge=0, description="optimiser steps on z")
    lr: float = Field(0.5, gt=0, description="AdamW learning rate (seed report: 0.5)")
    weight_decay: float = Field(0.1, ge=0, description="AdamW weight decay (seed report: 0.1)")
    cutn: int = Field(32, ge=1, description="augmented cutouts per image and step")
    cut_pow: float = Field(1.0, gt=0, description="cutout size ~ U^cut_pow between min_cut and the full side")
    min_cut: float = Field(0.25, gt=0, le=1, description="smallest cutout side as a fraction of the image side")
    flip: bool = Field(True, description="random horizontal flips of cutouts")
    noise_fac: float = Field(0.1, ge=0, description="per-cutout Gaussian noise, std ~ U(0, noise_fac)")
    similarity: Literal["cosine", "spherical"] = Field(
        "cosine", description="cosine (the seed report) or squared spherical distance (VQGAN-CLIP notebooks)"
    )
    extra_prompts: tuple[str, ...] = Field(
        (), description="weighted prompts added to every image, e.g. ['watermark:-0.5', 'flat colours:0.3']"
    )
    init: Literal["codes", "noise"] = Field(
        "codes", description="z starts as random codebook vectors ('codes') or sin(0.5*N(0,1)) noise (seed report)"
    )
    quantize: bool = Field(True, description="straight-through codebook quantisation of z before decoding")
    clamp: bool = Field(True, description="clamp z to the codebook's per-channel range after each step")
    frame_every: int = Field(0, ge=0, description="keep an intermediate image every K steps (0: none)")
    frames_dir: str | None = Field(None, description="also save the intermediate images as PNGs here")
    progress: bool = Field(True, description="show a progress bar over the iterations")

    @field_validator("clip")
    @classmethod
    def _clip_encoder(cls, value: Any) -> Any:
        if getattr(value, "name", None) != "clip":
            raise ValueError(
                f"vqgan-clip.clip must be a 'clip' encoder (it needs CLIP's image side), got {getattr(value, 'name', value)!r}"
            )
        return value

    @model_validator(mode="after")
    def _check(self) -> VQGANClipConfig:
        bad = [self.ch * m for m in self.ch_mult if (self.ch * m) % self.norm_num_groups]
        if bad or self.ch % self.norm_num_groups:
            raise ValueError(f"widths {bad or [self.ch]} (ch * ch_mult) must be divisible by norm_num_groups={self.norm_num_groups}")
        f = self.downsample_factor
        if self.image_size % f:
            raise ValueError(f"image_size={self.image_size} must be a multiple of the downsample factor {f} (2 ** (len(ch_mult) - 1))")
        for prompt in self.extra_prompts:
            from .prompts import parse_prompt

            parse_prompt(prompt, require_positive=False)  # raises with the offending text
        return self

    @property
    def downsample_factor(self) -> int:
        return 2 ** (len(self.ch_mult) - 1)

    @property
    def latent_size(self) -> int:
        return self.image_size // self.downsample_factor

    def attention_levels(self) -> list[bool]:
        """Per encoder level (highest resolution first): does it carry self-attention?"""
        return [self.resolution // 2**i in self.attn_resolutions for i in range(len(self.ch_mult))]

    def vqmodel_kwargs(self) -> dict[str, Any]:
        """diffusers ``VQModel(**kwargs)`` for this architecture."""
        attn = self.attention_levels()
        down = tuple("AttnDownEncoderBlock2D" if a else "DownEncoderBlock2D" for a in attn)
        up = tuple("AttnUpDecoderBlock2D" if a else "UpDecoderBlock2D" for a in reversed(attn))
        return {
            "in_channels": self.in_channels, "out_channels": self.out_ch,
            "down_block_types": down, "up_block_types": up,
            "block_out_channels": tuple(self.ch * m for m in self.ch_mult),
            "layers_per_block": self.num_res_blocks, "act_fn": "silu",
            "latent_channels": self.z_channels, "sample_size": self.resolution,
            "num_vq_embeddings": self.n_embed, "norm_num_groups": self.norm_num_groups,
            "vq_embed_dim": self.embed_dim, "norm_type": "group", "mid_block_add_attention": True,
        }

    def ports(self) -> t2izoo.Ports:
        guide = self.clip.ports().outputs
        return t2izoo.Ports(
            inputs={"sentence_dim": guide.get("sentence_dim")},
            outputs={"image_size": self.image_size, "image_channels": self.out_ch},
        )

    @classmethod
    def tiny(cls) -> dict:
        return {
            "resolution": 16, "ch": 8, "ch_mult": (1, 2), "num_res_blocks": 1, "attn_resolutions": (8,),
            "z_channels": 8, "embed_dim": 4, "n_embed": 16, "norm_num_groups": 4, "image_size": 16,
            "clip": {"name": "clip", "model": "shapes-clip-tiny", "pretrained": None, "context_length": 16},
            "iterations": 2, "cutn": 2, "progress": False,
        }
