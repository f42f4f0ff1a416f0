"""Configs of the basic components (pydantic only: importing this does not import torch)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

import t2izoo


class HashedEmbeddingConfig(t2izoo.ComponentConfig):
    """Hashed bag-of-words encoder: words hashed (CRC32) into ``buckets`` embeddings."""

    name: str = "hashed-embedding"
    buckets: int = Field(4096, ge=16, description="number of hash buckets (embedding rows)")
    dim: int = Field(64, ge=1, description="width of word and sentence features")
    max_length: int = Field(32, ge=1, description="tokens kept per caption")

    def ports(self) -> t2izoo.Ports:
        return t2izoo.Ports(
            outputs={"word_dim": self.dim, "sentence_dim": self.dim, "tokenizer": "hashed-words"}
        )

    @classmethod
    def tiny(cls) -> dict:
        return {"buckets": 64, "dim": 8, "max_length": 8}


class SentenceConcatConfig(t2izoo.ComponentConfig):
    """Concatenate the (projected) sentence vector to every position, then a 1x1 conv."""

    name: str = "sentence-concat"
    text_channels: int = Field(16, ge=1, description="channels the sentence is projected to")


class TinyConvConfig(t2izoo.ComponentConfig):
    """A small conditional generator: (noise, sentence) -> 4x4 map -> x2 upsampling blocks."""

    name: str = "tiny-conv"
    ngf: int = Field(32, ge=1, description="channels of the last stage; earlier stages have more")
    z_dim: int = Field(32, ge=1)
    text_dim: int = Field(64, ge=1, description="sentence width expected from the encoder")
    image_size: int = Field(64, ge=8, description="side of the final image (a power of two)")
    num_stages: int = Field(2, ge=1, description="images emitted at image_size / 2**k, k < num_stages")
    channels: int = Field(3, ge=1)
    fusion: t2izoo.ComponentRef("fusion") = "sentence-concat"

    @model_validator(mode="after")
    def _check_sizes(self) -> TinyConvConfig:
        size = self.image_size
        if size & (size - 1):
            raise ValueError(f"image_size must be a power of two, got {size}")
        if size >> (self.num_stages - 1) < 8:
            raise ValueError(f"num_stages={self.num_stages} would make a stage smaller than 8 px")
        return self

    def ports(self) -> t2izoo.Ports:
        return t2izoo.Ports(
            inputs={"sentence_dim": self.text_dim},
            outputs={"image_size": self.image_size, "image_channels": self.channels},
        )

    @classmethod
    def tiny(cls) -> dict:
        return {"ngf": 8, "z_dim": 8, "text_dim": 8, "image_size": 16, "num_stages": 2}


class InterpolateConfig(t2izoo.ComponentConfig):
    """Upsample by ``scale`` with a fixed interpolation kernel."""

    name: str = "interpolate"
    scale: int = Field(2, ge=1)
    mode: Literal["bicubic", "bilinear", "nearest"] = "bicubic"
    antialias: bool = False
    image_size: int | None = Field(None, description="expected input side; None accepts any")

    def ports(self) -> t2izoo.Ports:
        out = None if self.image_size is None else self.image_size * self.scale
        return t2izoo.Ports(inputs={"image_size": self.image_size}, outputs={"image_size": out})


class PixelDiversityConfig(t2izoo.ComponentConfig):
    """Mean pairwise squared distance between generated images, per pixel and channel."""

    name: str = "pixel-diversity"
