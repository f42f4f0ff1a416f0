"""Configs of the CD-AttnGAN components (pydantic only: importing this does not import torch)."""

from __future__ import annotations

from pydantic import Field, model_validator

import t2izoo


class LSTMCLIPEncoderConfig(t2izoo.ComponentConfig):
    """Two text towers joined by one fully connected layer (CD-AttnGAN sec. III).

    ``T_text = FC([T_clip ; T_lstm])``: the LSTM gives one vector per word and a sentence vector,
    CLIP gives one sentence vector ``T_clip``. Word ``i`` of the output is ``FC([T_clip ; w_i])``
    and the sentence is ``FC([T_clip ; s_lstm])`` (one shared FC, the paper's single mapping to
    the generator's width ``dim``). The words, their padding mask and their count are the LSTM's:
    CLIP's BPE pieces do not line up with the LSTM's words, so CLIP enters every word as its
    sentence vector (the paper's ``T_clip`` is itself a single vector).
    """

    name: str = "lstm+clip"
    lstm: t2izoo.ComponentRef("encoder") = Field("lstm", validate_default=True)
    clip: t2izoo.ComponentRef("encoder") = Field("clip", validate_default=True)
    dim: int = Field(256, ge=1, description="D_gen: width of the joined words and sentence (the generator's)")
    freeze_lstm: bool = Field(
        True, description="keep the LSTM fixed (AttnGAN trains the GAN with its DAMSM-pretrained text encoder frozen)"
    )

    @model_validator(mode="after")
    def _check_towers(self) -> LSTMCLIPEncoderConfig:
        lstm_out = self.lstm.ports().outputs
        clip_out = self.clip.ports().outputs
        if lstm_out.get("word_dim") is None or lstm_out.get("sentence_dim") != lstm_out.get("word_dim"):
            raise ValueError(
                f"lstm+clip.lstm ('{self.lstm.name}') must give words and a sentence of one width, got "
                f"word_dim={lstm_out.get('word_dim')}, sentence_dim={lstm_out.get('sentence_dim')}"
            )
        if clip_out.get("sentence_dim") is None:
            raise ValueError(f"lstm+clip.clip ('{self.clip.name}') declares no sentence_dim (set clip.sentence_dim)")
        return self

    @property
    def clip_dim(self) -> int:
        return int(self.clip.ports().outputs["sentence_dim"])

    def ports(self) -> t2izoo.Ports:
        return t2izoo.Ports(
            outputs={
                "word_dim": self.dim,
                "sentence_dim": self.dim,
                "tokenizer": "attngan+clip-bpe",
                "image_embed_dim": self.clip_dim,  # CLIP image embeddings carried with the text
            }
        )

    @classmethod
    def tiny(cls) -> dict:
        return {
            "lstm": {"name": "lstm", "embed_dim": 8, "hidden": 8, "max_length": 8},
            "clip": {"name": "clip", "model": "shapes-clip-tiny", "pretrained": None, "context_length": 16},
            "dim": 8,
        }


class CLIPAttentionConfig(t2izoo.ComponentConfig):
    """CLIP-guided word attention (CD-AttnGAN eq. 3) on top of AttnGAN's region-word attention.

    At stage ``k`` the CLIP embedding ``I_clip^k`` of the previous stage's image, aligned to the
    word width by a linear layer, scores every word: ``A_k = softmax_words(T_text . I^T / sqrt(D_clip))``.
    Each region's word attention is multiplied by ``A_k`` and renormalised over words, so the
    words CLIP finds missing or weak in the current picture get more of the region's attention.
    """

    name: str = "clip-attention"
    image_embed_dim: int = Field(512, ge=1, description="D_clip: width of the CLIP image embedding (ViT-B/32: 512)")
    mask_mode: str = Field("correct", pattern="^(correct|legacy)$", description="padding mask of the word attention")

    def ports(self) -> t2izoo.Ports:
        return t2izoo.Ports(inputs={"image_embed_dim": self.image_embed_dim})

    @classmethod
    def tiny(cls) -> dict:
        return {"image_embed_dim": 16}
