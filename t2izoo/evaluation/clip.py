"""CLIP as a `TextImageEmbedder`, through open_clip, from a local file or the Hugging Face cache.

Example:
    >>> emb = load_open_clip("ViT-B-32", "laion2b_s34b_b79k")        # doctest: +SKIP
    >>> emb.embed_images(images).shape, emb.embed_texts(["a red circle"]).shape  # doctest: +SKIP
    (torch.Size([B, 512]), torch.Size([1, 512]))
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .backbones import TextImageEmbedder, register_embedder
from .resize import resize_images
from .weights import WeightsNotFoundError, sha256_file

__all__ = ["OpenCLIPEmbedder", "load_open_clip"]


class OpenCLIPEmbedder(TextImageEmbedder):
    """An open_clip model: images resized (policy recorded) and normalised with its own mean/std.

    Images are resized to the model's square input directly (no crop): generated images are
    square already, and a crop would hide part of what the caption describes.
    """

    def __init__(self, model: nn.Module, tokenizer: Any, *, label: str, weights_sha256: str | None,
                 resize: str = "bicubic-antialias") -> None:
        super().__init__()
        self.model = model
        self.tokenizer = tokenizer
        self.label = label
        self.weights_sha256 = weights_sha256
        self.resize = resize
        visual = model.visual
        size = getattr(visual, "image_size", 224)
        self.image_size = int(size[0] if isinstance(size, (tuple, list)) else size)
        mean = getattr(visual, "image_mean", None) or (0.48145466, 0.4578275, 0.40821073)
        std = getattr(visual, "image_std", None) or (0.26862954, 0.26130258, 0.27577711)
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)

    @torch.no_grad()
    def embed_images(self, images: torch.Tensor) -> torch.Tensor:
        x = images.to(self.mean.device, torch.float32)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        x = resize_images(x, self.image_size, self.resize)
        x = ((x.clamp(-1, 1) + 1) / 2 - self.mean) / self.std
        return self.model.encode_image(x).float()

    @torch.no_grad()
    def embed_texts(self, texts: Sequence[str]) -> torch.Tensor:
        tokens = self.tokenizer(list(texts)).to(self.mean.device)
        return self.model.encode_text(tokens).float()

    def protocol(self) -> dict[str, Any]:
        return {
            "space": "clip",
            "backbone": f"open_clip {self.label}",
            "weights_sha256": self.weights_sha256,
            "resize": self.resize,
            "input_size": self.image_size,
        }


def _find_in_hf_cache(model: str, tag: str) -> tuple[Path | None, str]:
    import open_clip
    from huggingface_hub import try_to_load_from_cache

    cfg = open_clip.get_pretrained_cfg(model, tag) or {}
    hub = cfg.get("hf_hub", "")
    if not hub:
        return None, ""
    parts = hub.strip("/").split("/")
    repo = "/".join(parts[:2])
    names = [parts[2]] if len(parts) > 2 else ["open_clip_model.safetensors", "open_clip_pytorch_model.bin"]
    for name in names:
        found = try_to_load_from_cache(repo, name)
        if isinstance(found, str):
            return Path(found), repo
    return None, repo


def load_open_clip(model: str = "ViT-B-32", weights: str | None = "laion2b_s34b_b79k",
                   resize: str = "bicubic-antialias") -> OpenCLIPEmbedder:
    """An open_clip model with weights from a local file (``weights=/path/to/file``), or a
    pretrained tag (``laion2b_s34b_b79k``) already in the Hugging Face cache. Never downloads.
    """
    import open_clip

    if weights is None:
        raise ValueError("open-clip embedder needs 'weights': a local checkpoint path or a pretrained tag")
    path = Path(weights).expanduser()
    if path.suffix in (".pt", ".pth", ".bin", ".safetensors") or path.is_file() or "/" in weights:
        if not path.is_file():
            raise WeightsNotFoundError(
                f"open_clip {model} weights not found at {path}. Put the checkpoint file there or pass "
                f"a pretrained tag from open_clip.list_pretrained() that is in the Hugging Face cache."
            )
        label = f"{model} ({path.name})"
    else:
        found, repo = _find_in_hf_cache(model, weights)
        if found is None:
            from huggingface_hub import constants

            where = f"Hugging Face repo {repo}" if repo else "its open_clip release URL"
            raise WeightsNotFoundError(
                f"open_clip {model}/{weights} weights are not in the Hugging Face cache "
                f"({constants.HF_HUB_CACHE}). On a machine with internet run "
                f"`python -c \"import open_clip; open_clip.create_model('{model}', pretrained='{weights}')\"` "
                f"(downloads from {where}) and copy the cache folder here (same HF_HOME), or pass the "
                "checkpoint file's path as 'weights'."
            )
        path = found
        label = f"{model}/{weights}"
    net = open_clip.create_model(model, pretrained=str(path))
    tokenizer = open_clip.get_tokenizer(model)
    return OpenCLIPEmbedder(net, tokenizer, label=label, weights_sha256=sha256_file(path), resize=resize)


def _open_clip_loader(weights: str | None = "laion2b_s34b_b79k", model: str = "ViT-B-32",
                      resize: str = "bicubic-antialias") -> OpenCLIPEmbedder:
    return load_open_clip(model, weights, resize=resize)


register_embedder("open-clip", _open_clip_loader)


def _state_sha256(module: nn.Module) -> str:
    """sha256 over a module's parameters and buffers (names, shapes, float32 bytes), in key order."""
    import hashlib

    digest = hashlib.sha256()
    for key, value in sorted(module.state_dict().items()):
        digest.update(key.encode())
        digest.update(str(tuple(value.shape)).encode())
        digest.update(value.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()


def _clip_encoder_loader(weights: str | None = "shapes", model: str = "shapes-clip-tiny",
                         resize: str = "bicubic-antialias") -> OpenCLIPEmbedder:
    """The CLIP of a registered ``clip`` encoder (any weights it can load, e.g. the shipped
    ``shapes-clip-tiny`` with tag ``shapes``), as a CLIP-space embedder for clip-score/r-precision.

    Example:
        >>> emb = _clip_encoder_loader("shapes", "shapes-clip-tiny")  # doctest: +SKIP
    """
    import open_clip

    from .._build import create_component

    encoder = create_component("encoder", {"name": "clip", "model": model, "pretrained": weights}).eval()
    tokenizer = open_clip.get_tokenizer(model)  # the encoder registered the model's config with open_clip
    return OpenCLIPEmbedder(encoder.clip, tokenizer, label=f"{model}/{weights} (t2izoo clip encoder)",
                            weights_sha256=_state_sha256(encoder.clip), resize=resize)


register_embedder("clip-encoder", _clip_encoder_loader)
