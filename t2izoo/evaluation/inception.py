"""Inception-v3 feature extractors for FID / KID / IS.

Two backbones, never interchangeable (their FIDs differ):

* ``fid-inception``: the TF 2015-12-05 Inception graph that FID and IS were defined with, as
  ported to PyTorch by pytorch-fid (``pt_inception-2015-12-05-6726825d.pth``, a plain state dict
  in torchvision's module names, 1008 classes). It differs from torchvision's Inception-v3 in
  four blocks: average pools exclude padding, and the last block max-pools its pool branch.
  Logits are computed *without* the fc bias, as the original IS code did.
* ``timm-inception``: timm's ``inception_v3.tv_in1k`` (torchvision ImageNet weights) from a local
  file or the Hugging Face cache; convenient, but not the reference.

Example:
    >>> fe = load_fid_inception("~/.cache/t2izoo/weights/pt_inception-2015-12-05-6726825d.pth")  # doctest: +SKIP
    >>> out = fe.features(images)           # images [-1, 1], any size  # doctest: +SKIP
    >>> out.features.shape, out.logits.shape  # doctest: +SKIP
    (torch.Size([B, 2048]), torch.Size([B, 1008]))
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .backbones import ImageFeatureExtractor, ImageFeatures, register_image_backbone
from .resize import resize_images
from .weights import WeightsNotFoundError, find_weights, sha256_file

__all__ = [
    "FID_INCEPTION_FILE",
    "FID_INCEPTION_URL",
    "FIDInception",
    "TimmInception",
    "build_fid_inception_network",
    "load_fid_inception",
    "load_timm_inception",
]

FID_INCEPTION_FILE = "pt_inception-2015-12-05-6726825d.pth"
FID_INCEPTION_URL = (
    "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" + FID_INCEPTION_FILE
)


def _fid_blocks() -> dict[str, type[nn.Module]]:
    from torchvision.models import inception as tv

    # Only the pooling of the pool branch differs from torchvision; the convolutions and their
    # names are the same, so the checkpoint loads strictly into these subclasses.
    class FIDInceptionA(tv.InceptionA):
        def _forward(self, x: torch.Tensor) -> list[torch.Tensor]:
            b1 = self.branch1x1(x)
            b5 = self.branch5x5_2(self.branch5x5_1(x))
            b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
            bp = self.branch_pool(F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False))
            return [b1, b5, b3, bp]

    class FIDInceptionC(tv.InceptionC):
        def _forward(self, x: torch.Tensor) -> list[torch.Tensor]:
            b1 = self.branch1x1(x)
            b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
            bd = self.branch7x7dbl_1(x)
            for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
                bd = layer(bd)
            bp = self.branch_pool(F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False))
            return [b1, b7, bd, bp]

    class _FIDInceptionE(tv.InceptionE):
        max_pool = False

        def _forward(self, x: torch.Tensor) -> list[torch.Tensor]:
            b1 = self.branch1x1(x)
            b3 = self.branch3x3_1(x)
            b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
            bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
            bd = torch.cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)], 1)
            if self.max_pool:
                pooled = F.max_pool2d(x, 3, stride=1, padding=1)
            else:
                pooled = F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
            return [b1, b3, bd, self.branch_pool(pooled)]

    class FIDInceptionE1(_FIDInceptionE):
        max_pool = False

    class FIDInceptionE2(_FIDInceptionE):
        max_pool = True

    return {"A": FIDInceptionA, "C": FIDInceptionC, "E1": FIDInceptionE1, "E2": FIDInceptionE2}


def build_fid_inception_network() -> nn.Module:
    """The FID Inception architecture with random weights (torchvision names, 1008 classes)."""
    from torchvision.models.inception import Inception3

    blocks = _fid_blocks()
    net = Inception3(num_classes=1008, aux_logits=False, init_weights=False)
    net.Mixed_5b = blocks["A"](192, pool_features=32)
    net.Mixed_5c = blocks["A"](256, pool_features=64)
    net.Mixed_5d = blocks["A"](288, pool_features=64)
    net.Mixed_6b = blocks["C"](768, channels_7x7=128)
    net.Mixed_6c = blocks["C"](768, channels_7x7=160)
    net.Mixed_6d = blocks["C"](768, channels_7x7=160)
    net.Mixed_6e = blocks["C"](768, channels_7x7=192)
    net.Mixed_7b = blocks["E1"](1280)
    net.Mixed_7c = blocks["E2"](2048)
    return net


_TRUNK = (
    "Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1", "Conv2d_4a_3x3",
    "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d",
    "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c",
)


class FIDInception(ImageFeatureExtractor):
    """pool3 (2048) and bias-free logits (1008) of the FID Inception network, one pass.

    Example:
        >>> fe = FIDInception(build_fid_inception_network(), weights_sha256=None)
        >>> out = fe.features(torch.zeros(1, 3, 64, 64))
        >>> out.features.shape, out.logits.shape
        (torch.Size([1, 2048]), torch.Size([1, 1008]))
    """

    feature_dim = 2048
    num_classes = 1008

    def __init__(self, network: nn.Module, weights_sha256: str | None, resize: str = "tf1-bilinear",
                 weights_file: str | None = None) -> None:
        super().__init__()
        self.net = network
        self.resize = resize
        self.weights_sha256 = weights_sha256
        self.weights_file = weights_file

    def extract(self, images: torch.Tensor) -> ImageFeatures:
        x = resize_images(images, 299, self.resize)
        for name in _TRUNK:
            x = getattr(self.net, name)(x)
        pool3 = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        # the original IS graph multiplies pool3 by the softmax weight matrix only (no bias)
        logits = pool3 @ self.net.fc.weight.T
        return ImageFeatures(features=pool3, logits=logits)

    def protocol(self) -> dict[str, Any]:
        return {
            "backbone": "fid-inception (TF 2015-12-05, pytorch-fid port)",
            "weights_file": self.weights_file,
            "weights_sha256": self.weights_sha256,
            "resize": self.resize,
            "input_size": 299,
            "features": "pool3 2048",
            "logits": "1008, no bias",
        }


def load_fid_inception(weights: str | None = None, resize: str = "tf1-bilinear") -> FIDInception:
    """Load the FID Inception from a local ``pt_inception-2015-12-05-6726825d.pth``.

    Looked up at ``weights`` (file or directory), else ``$T2IZOO_FID_INCEPTION``, else
    ``~/.cache/t2izoo/weights/``; loaded with ``weights_only=True``.
    """
    path = find_weights(weights, FID_INCEPTION_FILE, what="FID Inception (fid-inception)",
                        url=FID_INCEPTION_URL, env_var="T2IZOO_FID_INCEPTION")
    state = torch.load(path, map_location="cpu", weights_only=True)
    net = build_fid_inception_network()
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise ValueError(f"{path} is not the FID Inception state dict: {err}") from err
    return FIDInception(net, weights_sha256=sha256_file(path), resize=resize, weights_file=path.name)


class TimmInception(ImageFeatureExtractor):
    """timm ``inception_v3`` (torchvision ImageNet weights): pooled 2048 features and 1000 logits."""

    feature_dim = 2048
    num_classes = 1000

    def __init__(self, model: nn.Module, weights_sha256: str | None, resize: str = "bilinear",
                 model_name: str = "inception_v3.tv_in1k") -> None:
        super().__init__()
        self.model = model
        self.resize = resize
        self.weights_sha256 = weights_sha256
        self.model_name = model_name
        cfg = getattr(model, "pretrained_cfg", {}) or {}
        mean = torch.tensor(cfg.get("mean", (0.5, 0.5, 0.5))).view(1, 3, 1, 1)
        std = torch.tensor(cfg.get("std", (0.5, 0.5, 0.5))).view(1, 3, 1, 1)
        self.register_buffer("mean", mean, persistent=False)
        self.register_buffer("std", std, persistent=False)

    def extract(self, images: torch.Tensor) -> ImageFeatures:
        x = resize_images(images, 299, self.resize)
        x = ((x + 1) / 2 - self.mean) / self.std
        pooled = self.model.forward_head(self.model.forward_features(x), pre_logits=True)
        return ImageFeatures(features=pooled, logits=self.model.get_classifier()(pooled))

    def protocol(self) -> dict[str, Any]:
        return {
            "backbone": f"timm {self.model_name}",
            "weights_sha256": self.weights_sha256,
            "resize": self.resize,
            "input_size": 299,
            "features": "global pool 2048",
            "logits": "1000, with bias",
        }


def _hf_cached_file(repo_id: str, filenames: tuple[str, ...]) -> Path | None:
    from huggingface_hub import try_to_load_from_cache

    for filename in filenames:
        found = try_to_load_from_cache(repo_id, filename)
        if isinstance(found, str):
            return Path(found)
    return None


def load_timm_inception(
    weights: str | None = None, resize: str = "bilinear", model_name: str = "inception_v3.tv_in1k"
) -> TimmInception:
    """timm Inception-v3 from a local weights file or the Hugging Face cache (never the network)."""
    import timm

    if weights is not None:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise WeightsNotFoundError(
                f"timm {model_name} weights not found at {path}. Pass the path of its "
                f"model.safetensors (from https://huggingface.co/timm/{model_name}) as 'weights'."
            )
    else:
        repo = f"timm/{model_name}"
        found = _hf_cached_file(repo, ("model.safetensors", "pytorch_model.bin"))
        if found is None:
            from huggingface_hub import constants

            raise WeightsNotFoundError(
                f"timm {model_name} weights are not in the Hugging Face cache ({constants.HF_HUB_CACHE}). "
                f"On a machine with internet run `hf download {repo} model.safetensors` and copy "
                f"{constants.HF_HUB_CACHE}/models--timm--{model_name} here (same HF_HOME), or pass the "
                "file's path as the evaluator's 'weights' field."
            )
        path = found
    model = timm.create_model(model_name, pretrained=True, pretrained_cfg_overlay={"file": str(path)})
    return TimmInception(model, weights_sha256=sha256_file(path), resize=resize, model_name=model_name)


def _fid_loader(weights: str | None = None, resize: str = "tf1-bilinear") -> FIDInception:
    return load_fid_inception(weights, resize=resize)


def _timm_loader(weights: str | None = None, resize: str = "bilinear",
                 model: str = "inception_v3.tv_in1k") -> TimmInception:
    return load_timm_inception(weights, resize=resize, model_name=model)


register_image_backbone("fid-inception", _fid_loader)
register_image_backbone("timm-inception", _timm_loader)
