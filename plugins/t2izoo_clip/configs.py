"""Config of the ``clip`` encoder (pydantic only: importing this does not import torch)."""

from __future__ import annotations

import importlib.util
import json
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

import t2izoo

#: architectures this plugin adds to open_clip's list (JSON files beside this module)
MODEL_CONFIG_DIR = Path(__file__).parent / "model_configs"


@cache
def architecture(name: str) -> dict[str, Any] | None:
    """An open_clip architecture config by name, read from JSON without importing open_clip.

    Looks in this plugin's ``model_configs/`` and in open_clip's own; ``None`` when the name is
    an ``hf-hub:``/``local-dir:`` id or unknown (its widths are then known only once built).

    Example:
        >>> architecture("shapes-clip-tiny")["embed_dim"]
        64
    """
    if ":" in name:
        return None
    dirs = [MODEL_CONFIG_DIR]
    spec = importlib.util.find_spec("open_clip")
    if spec is not None and spec.submodule_search_locations:
        dirs += [Path(p) / "model_configs" for p in spec.submodule_search_locations]
    for d in dirs:
        path = d / f"{name.replace('/', '-')}.json"
        if path.is_file():
            return json.loads(path.read_text(encoding="utf-8"))
    return None


class CLIPEncoderConfig(t2izoo.ComponentConfig):
    """Any open_clip model as a text encoder (and the image side for CLIP losses and scores).

    ``model`` is an open_clip architecture (``ViT-B-32``, ``RN50``, this plugin's
    ``shapes-clip-tiny``), an ``hf-hub:org/repo`` id or a ``local-dir:/path``; ``pretrained`` is
    an open_clip tag (``openai``, ``laion2b_s34b_b79k``), a local checkpoint file, or ``null`` for
    random initialisation (a model you will train, e.g. on shapes).
    """

    name: str = "clip"
    model: str = Field("ViT-B-32", description="open_clip architecture name, hf-hub:org/repo or local-dir:path")
    pretrained: str | None = Field(
        "openai", description="open_clip pretrained tag or checkpoint file; null = random init"
    )
    architecture: dict[str, Any] | None = Field(
        None, description="inline open_clip model config (embed_dim, vision_cfg, text_cfg) overriding `model`"
    )
    frozen: bool = Field(True, description="no gradients into CLIP (the usual use as a conditioning encoder)")
    context_length: int | None = Field(None, ge=2, description="override the text context length")
    project_words: bool = Field(False, description="apply the text projection to every token (word_dim = embed_dim)")
    normalize_sentence: bool = Field(False, description="L2-normalise the sentence embedding")
    word_dim: int | None = Field(None, description="only for hf-hub/local-dir models: declared word width")
    sentence_dim: int | None = Field(None, description="only for hf-hub/local-dir models: declared sentence width")
    cache_dir: str | None = Field(None, description="where open_clip looks for/downloads weights (default: HF cache)")

    @model_validator(mode="after")
    def _check_model(self) -> CLIPEncoderConfig:
        arch = self.resolved_architecture()
        if arch is None and ":" not in self.model:
            raise ValueError(
                f"clip.model={self.model!r} is not an open_clip architecture (see open_clip.list_models()) "
                "nor an 'hf-hub:'/'local-dir:' id; or give clip.architecture inline"
            )
        if arch is not None:
            missing = {"embed_dim", "vision_cfg", "text_cfg"} - set(arch)
            if missing:
                raise ValueError(f"clip.architecture is missing {sorted(missing)}")
        return self

    def resolved_architecture(self) -> dict[str, Any] | None:
        return self.architecture if self.architecture is not None else architecture(self.model)

    def ports(self) -> t2izoo.Ports:
        arch = self.resolved_architecture()
        word, sentence = self.word_dim, self.sentence_dim
        if arch is not None:
            text_cfg = arch["text_cfg"]
            sentence = int(arch["embed_dim"])
            word = sentence if self.project_words else int(text_cfg.get("width", 512))
        return t2izoo.Ports(outputs={"word_dim": word, "sentence_dim": sentence, "tokenizer": "clip-bpe"})

    @classmethod
    def tiny(cls) -> dict:
        return {"model": "shapes-clip-tiny", "pretrained": None, "context_length": 16}
