"""Configs of the AttnGAN components (pydantic only: importing this does not import torch)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

import t2izoo

MaskMode = Literal["correct", "legacy"]


class LSTMEncoderConfig(t2izoo.ComponentConfig):
    """The DAMSM text encoder: embedding -> dropout -> 1-layer bi-LSTM.

    ``vocab`` says where the vocabulary comes from: ``"shapes"`` (the built-in world's words), a
    path to AttnGAN's ``captions.pickle`` or to a saved vocabulary (``.json``), or ``None`` when
    the vocabulary arrives with the weights (``load_assets`` of a converted or trained model;
    ``vocab_size`` must then be given).
    """

    name: str = "lstm"
    vocab: str | None = Field("shapes", description="'shapes', a captions.pickle / vocab .json path, or None")
    vocab_size: int | None = Field(None, ge=2, description="embedding rows; None: the vocabulary's size")
    embed_dim: int = Field(300, ge=1, description="word embedding width")
    hidden: int = Field(256, ge=2, description="output width (both directions together)")
    bidirectional: bool = True
    dropout: float = Field(0.5, ge=0.0, lt=1.0, description="dropout on the embeddings (training only)")
    max_length: int | None = Field(18, ge=1, description="words kept per caption (AttnGAN: 18 birds, 12 COCO)")

    @model_validator(mode="after")
    def _check(self) -> LSTMEncoderConfig:
        if self.vocab is None and self.vocab_size is None:
            raise ValueError("lstm encoder: give vocab (e.g. 'shapes' or a captions.pickle path) or vocab_size")
        if self.bidirectional and self.hidden % 2:
            raise ValueError(f"lstm encoder: hidden={self.hidden} must be even when bidirectional")
        return self

    def ports(self) -> t2izoo.Ports:
        return t2izoo.Ports(
            outputs={"word_dim": self.hidden, "sentence_dim": self.hidden, "tokenizer": "attngan"}
        )

    @classmethod
    def tiny(cls) -> dict:
        return {"embed_dim": 8, "hidden": 8, "max_length": 8}


class ConcatAttentionConfig(t2izoo.ComponentConfig):
    """AttnGAN's fusion: word attention (1x1 conv words -> C, masked softmax over words), then
    the word-context map is concatenated to the visual features (C -> 2C channels)."""

    name: str = "concat-attention"
    mask_mode: MaskMode = Field(
        "correct", description="'legacy' reproduces the release's batch-order mask bug (checkpoint parity)"
    )


class AttnGANConfig(t2izoo.ComponentConfig):
    """AttnGAN generator (Xu et al. 2018): CA -> 64x64 initial stage -> attention stages.

    Bird defaults. COCO: ``ngf=48, r_num=3``.
    """

    name: str = "attngan"
    ngf: int = Field(32, ge=1, description="channels of the stage features (the 4x4 map has 16*ngf)")
    z_dim: int = Field(100, ge=1, description="noise width")
    c_dim: int = Field(100, ge=1, description="conditioning-augmentation code width")
    word_dim: int = Field(256, ge=1, description="word feature width expected from the encoder")
    sentence_dim: int = Field(256, ge=1, description="sentence width expected from the encoder")
    branch_num: int = Field(3, ge=1, le=3, description="stages: 1 -> 64 px, 2 -> 128 px, 3 -> 256 px")
    r_num: int = Field(2, ge=0, description="residual blocks per attention stage")
    image_channels: int = Field(3, ge=1)
    fusion: t2izoo.ComponentRef("fusion") = Field("concat-attention", validate_default=True)
    mask_mode: MaskMode = Field(
        "correct", description="'legacy' forces the fusion's release-compatible mask (needs a fusion with mask_mode)"
    )

    @property
    def image_size(self) -> int:
        return 64 * 2 ** (self.branch_num - 1)

    def ports(self) -> t2izoo.Ports:
        inputs: dict[str, int] = {"sentence_dim": self.sentence_dim}
        if self.branch_num > 1:
            inputs["word_dim"] = self.word_dim
        return t2izoo.Ports(
            inputs=inputs, outputs={"image_size": self.image_size, "image_channels": self.image_channels}
        )

    @classmethod
    def tiny(cls) -> dict:
        return {"ngf": 4, "z_dim": 8, "c_dim": 8, "word_dim": 8, "sentence_dim": 8, "branch_num": 2, "r_num": 1}
