"""The DAMSM space as a `TextImageEmbedder`: AttnGAN's R-precision protocol on a trained DAMSM pair.

AttnGAN and DM-GAN measure R-precision with their own DAMSM encoders: the image's global code
(``emb_cnn_code``) against the bi-LSTM's sentence vector, cosine similarity, 1 true caption vs 99
others. `DAMSMEmbedder` is that pair; `load_damsm` reads it from what
``t2izoo train shapes-attngan --recipe damsm`` (or the AttnGAN converter) writes::

    RUN/final/encoder/               the text encoder (config.json, model.safetensors, vocab.json)
    RUN/final/damsm_image_encoder/   the image encoder (config.json, model.safetensors)

``weights`` may be the run directory, its ``final/`` directory, or pass ``text_encoder`` and
``image_encoder`` folders separately. Both encoders are put in eval mode (the bi-LSTM's dropout
is off), so the embedding is deterministic.

Example:
    >>> import t2izoo
    >>> rp = t2izoo.create_component("evaluator", {"name": "r-precision", "embedder": "damsm",
    ...                                            "weights": "runs/shapes-damsm", "model": None})  # doctest: +SKIP
    >>> rp.update(images, prompts=captions); rp.compute().value                                      # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from .backbones import TextImageEmbedder, register_embedder
from .weights import WeightsNotFoundError, sha256_file

__all__ = ["DAMSMEmbedder", "load_damsm", "find_damsm_dirs"]

TEXT_DIR, IMAGE_DIR = "encoder", "damsm_image_encoder"
_WEIGHTS = "model.safetensors"


class DAMSMEmbedder(TextImageEmbedder):
    """Images -> DAMSM global code ``[B, D]``; captions -> the text encoder's sentence ``[B, D]``.

    Args:
        text_encoder: a t2izoo `Encoder` (the DAMSM bi-LSTM, ``lstm``).
        image_encoder: a `t2izoo.nn.DAMSMImageEncoder` (it resizes its input itself).
        label: where the weights came from, for the protocol.
        weights_sha256: ``{"text": ..., "image": ...}`` of the two weight files.
    """

    def __init__(self, text_encoder: torch.nn.Module, image_encoder: torch.nn.Module, *, label: str = "damsm",
                 weights_sha256: dict[str, str | None] | None = None) -> None:
        super().__init__()
        if getattr(text_encoder, "kind", None) != "encoder":
            raise TypeError(f"DAMSMEmbedder: text_encoder must be a t2izoo Encoder, got {type(text_encoder).__name__}")
        self.text_encoder = text_encoder.eval()
        self.image_encoder = image_encoder.eval()
        self.label = label
        self.weights_sha256 = dict(weights_sha256 or {})

    @torch.no_grad()
    def embed_images(self, images: torch.Tensor) -> torch.Tensor:
        x = images.to(self.device, torch.float32)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        self.image_encoder.eval()
        _, code = self.image_encoder(x.clamp(-1, 1))
        return code.float()

    @torch.no_grad()
    def embed_texts(self, texts: Sequence[str]) -> torch.Tensor:
        self.text_encoder.eval()
        return self.text_encoder.encode(list(texts)).sentence.float()

    def protocol(self) -> dict[str, Any]:
        enc = self.image_encoder
        return {
            "space": "damsm",
            "backbone": f"DAMSM {self.text_encoder.config.name} + {getattr(enc, 'backbone', '?')} image encoder "
                        f"({self.label})",
            "weights_sha256": self.weights_sha256,
            "image_feature": "global code (emb_cnn_code)",
            "text_feature": "sentence vector",
            "input_size": getattr(enc, "input_size", None),
            "resize": f"bilinear, align_corners={getattr(enc, 'align_corners', None)}",
        }


def find_damsm_dirs(weights: str | Path) -> tuple[Path, Path]:
    """``RUN``, ``RUN/final`` or a model directory -> (text encoder folder, image encoder folder).

    Raises:
        WeightsNotFoundError: naming the folders looked for and the command that makes them.
    """
    root = Path(weights).expanduser()
    for cand in (root, root / "final"):
        text, image = cand / TEXT_DIR, cand / IMAGE_DIR
        if (text / _WEIGHTS).is_file() and (image / _WEIGHTS).is_file():
            return text, image
    raise WeightsNotFoundError(
        f"DAMSM encoders not found under {root}: expected {TEXT_DIR}/{_WEIGHTS} and {IMAGE_DIR}/{_WEIGHTS} in it or "
        f"in its final/ folder. Train them with `t2izoo train shapes-attngan --recipe damsm --steps 1000 "
        f"--out RUN` (or convert AttnGAN's released DAMSM with `t2izoo convert`) and pass weights=RUN."
    )


def _load_text_encoder(directory: Path) -> torch.nn.Module:
    from safetensors.torch import load_file

    from t2izoo._build import create_component

    config_file = directory / "config.json"
    if not config_file.is_file():
        raise WeightsNotFoundError(f"DAMSM text encoder: {config_file} is missing")
    encoder = create_component("encoder", json.loads(config_file.read_text(encoding="utf-8")))
    encoder.load_assets(directory)  # the vocabulary, before the embedding weights it sizes
    encoder.load_state_dict(load_file(str(directory / _WEIGHTS)), strict=True)
    return encoder


def load_damsm(weights: str | None = None, *, text_encoder: str | None = None, image_encoder: str | None = None,
               device: str | None = None) -> DAMSMEmbedder:
    """Load a DAMSM text/image encoder pair as an embedder (registered as ``"damsm"``).

    Args:
        weights: a DAMSM run directory or its ``final/`` (holds ``encoder/`` and ``damsm_image_encoder/``).
        text_encoder, image_encoder: the two folders, when they are not side by side.
        device: where to put the encoders (default: CPU; evaluators move them to the images' device).

    Example:
        >>> emb = load_damsm("/work/runs/shapes-damsm")                   # doctest: +SKIP
        >>> emb.embed_texts(["a red circle"]).shape                        # doctest: +SKIP
        torch.Size([1, 256])
    """
    from t2izoo.nn import DAMSMImageEncoder

    if text_encoder is None or image_encoder is None:
        if weights is None:
            raise ValueError("damsm embedder needs 'weights' (a DAMSM run directory) or both "
                             "'text_encoder' and 'image_encoder' folders")
        found_text, found_image = find_damsm_dirs(weights)
        text_dir = Path(text_encoder) if text_encoder else found_text
        image_dir = Path(image_encoder) if image_encoder else found_image
    else:
        text_dir, image_dir = Path(text_encoder), Path(image_encoder)
    for d in (text_dir, image_dir):
        if not (d / _WEIGHTS).is_file():
            raise WeightsNotFoundError(f"DAMSM: {d / _WEIGHTS} is missing")
    text = _load_text_encoder(text_dir)
    image = DAMSMImageEncoder.from_pretrained(image_dir)
    text_dim = text.config.ports().outputs.get("sentence_dim")
    if text_dim is not None and int(text_dim) != image.embed_dim:
        raise ValueError(f"DAMSM: the text encoder in {text_dir} gives {text_dim}-d sentences but the image "
                         f"encoder in {image_dir} gives {image.embed_dim}-d codes; they are not one pair")
    emb = DAMSMEmbedder(text, image, label=str(weights or text_dir.parent),
                        weights_sha256={"text": sha256_file(text_dir / _WEIGHTS),
                                        "image": sha256_file(image_dir / _WEIGHTS)})
    return emb.to(device) if device is not None else emb


register_embedder("damsm", load_damsm)
