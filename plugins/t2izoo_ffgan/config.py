"""Configs of the FF-GAN components (pydantic only: importing this does not import torch)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

import t2izoo

#: ``correct``: each caption's own padding is masked; ``legacy``: AttnGAN's batch-order bug
#: (for an ``attngan`` generator with ``mask_mode='legacy'``); ``none``: no mask at all, as in
#: the FF-GAN release (its ``applyMask`` call is commented out).
AffineMaskMode = Literal["correct", "legacy", "none"]


class AffineFusionConfig(t2izoo.ComponentConfig):
    """FF-Block (word level, FF-GAN eq. 4-5) or a DF-GAN-style per-channel affine (sentence level),
    optionally followed by Global Semantic Refinement (FF-GAN eq. 6-7).

    * ``level="word"``: word attention gives a word-context map ``f`` at the visual width; bias-free
      3x3 convs predict a spatial scale ``W(f)`` and shift ``b(f)``; ``h' = h * W(f) + b(f)``.
    * ``level="sentence"``: two small MLPs on the sentence vector predict a per-channel
      ``gamma`` and ``beta`` (initialised to the identity, as DF-GAN does); ``h' = h * gamma + beta``.
    * ``gsr=True``: the sentence, projected by a 1x1 conv to the visual width, weights every
      channel's spatial positions by a softmax over positions; that sentence-context map is
      concatenated to ``h'`` (C -> 2C channels).
    """

    name: str = "affine"
    level: Literal["word", "sentence"] = Field("word", description="word: FF-Block (spatial); sentence: DF-GAN style (per channel)")
    gsr: bool = Field(True, description="concatenate the Global Semantic Refinement map (C -> 2C channels)")
    hidden: int | None = Field(
        None, ge=1,
        description="width of the affine's hidden layer; None: the references' (128 for word level, C for sentence level)",
    )
    mask_mode: AffineMaskMode = Field(
        "correct", description="word mask: 'correct', 'legacy' (AttnGAN's bug) or 'none' (the FF-GAN release)"
    )

    @classmethod
    def tiny(cls) -> dict:
        return {"hidden": 8}


class FFGANConfig(t2izoo.ComponentConfig):
    """FF-GAN generator (Sun et al.): CA -> 64 px initial stage -> FF-Block + GSR refinement stages.

    Bird defaults (the release's ``bird_DMGAN.yml``: ``GF_DIM`` 64, ``DF_DIM`` 32, ``R_NUM`` 2).
    ``ndf`` is the width of the discriminators the ``ffgan`` recipe builds; it is not part of the
    generator's weights.
    """

    name: str = "ffgan"
    ngf: int = Field(64, ge=1, description="channels of the stage features (the 4x4 map has 16*ngf)")
    ndf: int = Field(32, ge=1, description="discriminator width used by the ffgan recipe")
    z_dim: int = Field(100, ge=1, description="noise width")
    c_dim: int = Field(100, ge=1, description="conditioning-augmentation code width")
    word_dim: int = Field(256, ge=1, description="word feature width expected from the encoder")
    sentence_dim: int = Field(256, ge=1, description="sentence width expected from the encoder")
    branch_num: int = Field(3, ge=1, le=3, description="stages: 1 -> 64 px, 2 -> 128 px, 3 -> 256 px")
    r_num: int = Field(2, ge=0, description="residual blocks per refinement stage")
    image_channels: int = Field(3, ge=1)
    fusion: t2izoo.ComponentRef("fusion") = Field("affine", validate_default=True)

    @property
    def image_size(self) -> int:
        return 64 * 2 ** (self.branch_num - 1)

    def ports(self) -> t2izoo.Ports:
        inputs: dict[str, int] = {"sentence_dim": self.sentence_dim}
        if self.branch_num > 1 and getattr(self.fusion, "level", "word") == "word":
            inputs["word_dim"] = self.word_dim
        return t2izoo.Ports(
            inputs=inputs, outputs={"image_size": self.image_size, "image_channels": self.image_channels}
        )

    @classmethod
    def tiny(cls) -> dict:
        return {
            "ngf": 4, "ndf": 4, "z_dim": 8, "c_dim": 8, "word_dim": 8, "sentence_dim": 8, "branch_num": 2,
            "r_num": 1, "fusion": {"name": "affine", "hidden": 8},
        }
