"""Configs of the cvae family (pydantic only: importing this does not import torch)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

import t2izoo

__all__ = [
    "LabelEncoderConfig",
    "T5EncoderConfig",
    "GatedFusionConfig",
    "LatentConcatConfig",
    "CVAEConfig",
    "T5_WIDTHS",
]


class LabelEncoderConfig(t2izoo.ComponentConfig):
    """One-hot class label read from the prompt (see `t2izoo_cvae.labels`).

    ``vocabulary`` names a built-in class list (``fashion-mnist``, ``shapes``); ``classes`` lists
    your own (``["cat|kitten", "dog|puppy"]``: name, then synonyms) and takes precedence.
    """

    name: str = "label"
    vocabulary: str = Field("fashion-mnist", description="built-in class list: fashion-mnist or shapes")
    classes: list[str] | None = Field(None, description="own classes, 'name|synonym|...' each (overrides vocabulary)")
    unknown: Literal["error", "zeros"] = Field(
        "error", description="a prompt naming no class: raise (default) or encode as all zeros"
    )

    @model_validator(mode="after")
    def _check_vocabulary(self) -> LabelEncoderConfig:
        from .labels import BUILTIN_VOCABULARIES

        if not self.classes and self.vocabulary not in BUILTIN_VOCABULARIES:
            raise ValueError(
                f"label.vocabulary={self.vocabulary!r} is not built in; choose one of "
                f"{sorted(BUILTIN_VOCABULARIES)} or give label.classes"
            )
        return self

    def num_classes(self) -> int:
        from .labels import get_vocabulary

        return get_vocabulary(self.vocabulary, self.classes).num_classes

    def ports(self) -> t2izoo.Ports:
        # no word features: sentence-only consumers (cvae, sentence-concat) connect, word attention refuses
        return t2izoo.Ports(outputs={"sentence_dim": self.num_classes(), "tokenizer": f"label:{self.vocabulary if not self.classes else 'custom'}"})

    @classmethod
    def tiny(cls) -> dict:
        return {"vocabulary": "shapes"}


# d_model of the public T5 checkpoints, so that ports are known before anything is downloaded
T5_WIDTHS: dict[str, int] = {
    "t5-small": 512, "t5-base": 768, "t5-large": 1024, "t5-3b": 1024, "t5-11b": 1024,
    "google-t5/t5-small": 512, "google-t5/t5-base": 768, "google-t5/t5-large": 1024,
    "google/t5-v1_1-small": 512, "google/t5-v1_1-base": 768, "google/t5-v1_1-large": 1024,
    "google/flan-t5-small": 512, "google/flan-t5-base": 768, "google/flan-t5-large": 1024,
    "google/t5-efficient-tiny": 256, "google/t5-efficient-mini": 384,
}


class T5EncoderConfig(t2izoo.ComponentConfig):
    """A transformers T5 encoder: words = last hidden states, sentence = their masked mean.

    ``model`` is a Hugging Face Hub id (``t5-small``; the HF cache is used and honoured offline) or
    a local folder written by ``save_pretrained`` (``config.json`` + weights, and a
    ``spiece.model``). With ``pretrained: false`` the encoder is randomly initialised from
    ``architecture`` (T5Config fields) and needs no download; the tokenizer is then ``tokenizer``
    (default: the shapes sentencepiece model bundled with t2izoo).
    """

    name: str = "t5"
    model: str = Field("t5-small", description="Hub id or local folder with config.json + weights")
    pretrained: bool = Field(True, description="load the weights of `model`; false = random init from `architecture`")
    architecture: dict[str, Any] | None = Field(
        None, description="T5Config fields for random init (d_model, d_ff, num_layers, num_heads, d_kv)"
    )
    tokenizer: str | None = Field(
        None, description="spiece.model file or folder; default: the model's own (or the bundled shapes one)"
    )
    extra_ids: int | None = Field(
        None, ge=0, description="T5 sentinel tokens added to the tokenizer (default: 100 for Hub models, else 0)"
    )
    revision: str | None = Field(None, description="Hub revision (branch, tag or commit)")
    cache_dir: str | None = Field(None, description="Hugging Face cache folder (default: HF_HOME's)")
    max_length: int = Field(64, ge=2, description="tokens per caption, </s> included")
    frozen: bool = Field(True, description="no gradients into T5 (the seed paper uses it as a fixed feature extractor)")
    d_model: int | None = Field(None, description="declared width when it cannot be read without loading the model")

    @model_validator(mode="after")
    def _check(self) -> T5EncoderConfig:
        if not self.pretrained and not self.architecture and not _local_config(self.model):
            raise ValueError(
                "t5.pretrained=false needs t5.architecture (T5Config fields such as d_model, num_layers) "
                f"or a local t5.model folder with a config.json; got model={self.model!r}"
            )
        return self

    def width(self) -> int | None:
        """d_model, read without loading weights: architecture, local config.json, the HF cache, a table."""
        if self.d_model is not None:
            return self.d_model
        if not self.pretrained and self.architecture:
            return int(self.architecture.get("d_model", 512))
        local = _local_config(self.model)
        if local is not None:
            return int(local.get("d_model", 512))
        cached = _cached_config(self.model, self.revision, self.cache_dir)
        if cached is not None:
            return int(cached.get("d_model", 512))
        return T5_WIDTHS.get(self.model)

    def ports(self) -> t2izoo.Ports:
        width = self.width()
        return t2izoo.Ports(outputs={"word_dim": width, "sentence_dim": width, "tokenizer": "t5-sentencepiece"})

    @classmethod
    def tiny(cls) -> dict:
        return {
            "pretrained": False,
            "architecture": {"d_model": 16, "d_ff": 32, "num_layers": 1, "num_heads": 2, "d_kv": 8},
            "max_length": 16,
        }


def _local_config(model: str) -> dict[str, Any] | None:
    path = Path(model).expanduser() / "config.json"
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    return None


def _cached_config(model: str, revision: str | None, cache_dir: str | None) -> dict[str, Any] | None:
    if model.startswith(("/", ".", "~")) or model.count("/") > 1:  # a path, not a Hub id
        return None
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(model, "config.json", cache_dir=cache_dir, revision=revision)
    except Exception:  # noqa: BLE001 - an odd id is simply not in the cache
        return None
    if isinstance(found, str) and Path(found).is_file():
        return json.loads(Path(found).read_text(encoding="utf-8"))
    return None


class GatedFusionConfig(t2izoo.ComponentConfig):
    """Gated fusion (seed paper eq.): ``g = sigmoid(W[z; t] + b)``, ``out = g*z + (1-g)*t``.

    ``t`` is the sentence projected to the visual width (the paper projects the text "into the
    same feature space"); on a feature map the gate is a 1x1 convolution, per position.
    """

    name: str = "gated"
    project_text: bool = Field(True, description="Linear(sentence -> channels); false needs equal widths")


class LatentConcatConfig(t2izoo.ComponentConfig):
    """The ablation baseline: concatenate the (optionally projected) sentence to the latent.

    Output width = channels + text width, what the seed paper's decoders take ([z; c]).
    """

    name: str = "latent-concat"
    text_channels: int | None = Field(None, ge=1, description="project the sentence to this width; None = raw")


class CVAEConfig(t2izoo.ComponentConfig):
    """Conditional VAE (Sohn et al. 2015 as used by the seed paper).

    * encoder q(z|x,c): ``arch: mlp`` flattens the image (the paper's Fashion-MNIST model);
      ``arch: conv`` uses stride-2 4x4 convolutions with ``channels`` filters (its COCO models).
      With ``condition_encoder`` the image features are concatenated with the sentence ``c``.
    * ``z = mu + exp(logvar/2) * eps`` with explicit ``eps``.
    * decoder p(x|z,c): the ``fusion`` of z and the sentence (``latent-concat``: [z; c], or
      ``gated``), then the mirror of the encoder.
    * loss ``bce`` (sigmoid output, pixels in [0,1]) or ``mse`` (tanh output, pixels in [-1,1]),
      summed over pixels, plus ``kl_weight`` * KL(q || N(0, I)), both averaged over the batch.
    """

    name: str = "cvae"
    image_size: int = Field(28, ge=4, description="side of the images")
    image_channels: int = Field(1, ge=1)
    text_dim: int = Field(10, ge=1, description="sentence width expected from the encoder")
    latent_dim: int = Field(20, ge=1)
    arch: Literal["mlp", "conv"] = "mlp"
    hidden: list[int] = Field(default_factory=lambda: [512], description="fully connected widths before mu/logvar")
    channels: list[int] = Field(default_factory=lambda: [64, 128], description="conv: filters per stride-2 layer")
    batch_norm: bool = Field(False, description="conv: BatchNorm after each conv (the paper's CLIP model)")
    negative_slope: float = Field(0.0, ge=0.0, description="LeakyReLU slope; 0 = ReLU")
    condition_encoder: bool = Field(True, description="q(z|x,c) sees the sentence (false: q(z|x), text only via fusion)")
    fusion: t2izoo.ComponentRef("fusion") = "latent-concat"
    loss: Literal["bce", "mse"] = "bce"
    kl_weight: float = Field(1.0, ge=0.0)

    @model_validator(mode="after")
    def _check(self) -> CVAEConfig:
        if self.arch == "conv":
            if not self.channels:
                raise ValueError("cvae.channels must list at least one conv width when arch='conv'")
            if self.image_size % (2 ** len(self.channels)):
                raise ValueError(
                    f"cvae.image_size={self.image_size} is not divisible by 2**{len(self.channels)} "
                    f"(one halving per entry of cvae.channels={self.channels})"
                )
        return self

    def ports(self) -> t2izoo.Ports:
        return t2izoo.Ports(
            inputs={"sentence_dim": self.text_dim},
            outputs={"image_size": self.image_size, "image_channels": self.image_channels},
        )

    @classmethod
    def tiny(cls) -> dict:
        return {"image_size": 8, "text_dim": 8, "latent_dim": 4, "hidden": [16], "channels": [8]}
