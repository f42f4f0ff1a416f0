"""A small CNN that reads ``shapes`` scenes, used as the offline metric backbone for that world.

One object sits in each occupied cell of the 3x3 board, so the network predicts, per cell, the
shape (or "empty"), colour, texture and size, plus the background and the presence of each of the
80 (shape, colour) pairs. Its pooled penultimate features give a shapes-domain FID that means
something without any downloaded weights (``fid`` with ``backbone: shapes-classifier``), its
per-cell predictions give ``shapes-accuracy``, and its pair/shape/colour presence gives an
attribute embedding space for R-precision (``shapes-attributes``).

Example:
    >>> net = ShapesClassifierNet()
    >>> out = net(torch.zeros(2, 3, 64, 64))
    >>> out["features"].shape, out["cell_shape"].shape
    (torch.Size([2, 128]), torch.Size([2, 9, 9]))
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from t2izoo.data import SHAPES_VOCAB
from t2izoo.evaluation import (
    ImageFeatureExtractor,
    ImageFeatures,
    TextImageEmbedder,
    WeightsNotFoundError,
    register_embedder,
    register_image_backbone,
    resize_images,
    sha256_file,
)

from .shapes_parse import parse_caption

__all__ = [
    "ShapesClassifierNet",
    "ShapesClassifierBackbone",
    "ShapesAttributeEmbedder",
    "WEIGHTS_FILE",
    "WEIGHTS_PRESET",
    "default_weights",
    "scene_targets",
    "save_classifier",
    "load_classifier",
    "predict_objects",
]

V = SHAPES_VOCAB
N_CELLS = 9
N_SHAPES, N_COLOURS, N_TEXTURES, N_SIZES = len(V.shapes), len(V.colours), len(V.textures), len(V.sizes)
N_BACKGROUNDS, N_PAIRS = len(V.backgrounds), V.num_classes
WEIGHTS_FILE = "shapes-classifier.safetensors"
#: the card that pins the trained classifier (repo t2izoo/shapes-classifier, Hub layout under hub/);
#: shapes-fid's card pins the same files
WEIGHTS_PRESET = "shapes-accuracy"
TRAIN_HINT = "t2izoo train shapes-accuracy --steps 2000 --batch-size 32 --out DIR"


def _block(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class ShapesClassifierNet(nn.Module):
    """64x64 images in ``[-1, 1]`` -> features and per-cell / global attribute logits."""

    def __init__(self, width: int = 16, input_size: int = 64) -> None:
        super().__init__()
        self.width, self.input_size = width, input_size
        w = width
        self.trunk = nn.Sequential(
            _block(3, w, 1), _block(w, 2 * w, 2),            # 32x32
            _block(2 * w, 2 * w, 1), _block(2 * w, 4 * w, 2),  # 16x16
            _block(4 * w, 4 * w, 1), _block(4 * w, 8 * w, 2),  # 8x8
            _block(8 * w, 8 * w, 1),
        )
        self.feature_dim = 8 * w
        # per cell: shape incl. empty (index 0), colour, texture, size
        self.cell_head = nn.Conv2d(8 * w, 1 + N_SHAPES + N_COLOURS + N_TEXTURES + N_SIZES, 1)
        self.global_head = nn.Linear(8 * w, N_BACKGROUNDS + N_PAIRS)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        h = self.trunk(x)
        features = h.mean(dim=(2, 3))
        cells = F.adaptive_avg_pool2d(self.cell_head(h), 3).flatten(2).transpose(1, 2)  # [B, 9, C]
        s0, s1, s2, s3 = 1 + N_SHAPES, 1 + N_SHAPES + N_COLOURS, 1 + N_SHAPES + N_COLOURS + N_TEXTURES, None
        g = self.global_head(features)
        return {
            "features": features,
            "cell_shape": cells[..., :s0],
            "cell_colour": cells[..., s0:s1],
            "cell_texture": cells[..., s1:s2],
            "cell_size": cells[..., s2:s3],
            "background": g[:, :N_BACKGROUNDS],
            "pairs": g[:, N_BACKGROUNDS:],
        }


def scene_targets(attributes: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:
    """Training/evaluation targets from `Scene.attributes()` dicts (cells without object: -1)."""
    b = len(attributes)
    shape = torch.zeros(b, N_CELLS, dtype=torch.long)  # 0 = empty
    colour = torch.full((b, N_CELLS), -1, dtype=torch.long)
    texture = torch.full((b, N_CELLS), -1, dtype=torch.long)
    size = torch.full((b, N_CELLS), -1, dtype=torch.long)
    pairs = torch.zeros(b, N_PAIRS)
    background = torch.zeros(b, dtype=torch.long)
    for i, attrs in enumerate(attributes):
        background[i] = V.backgrounds.index(attrs["background"])
        for obj in attrs["objects"]:
            c = int(obj["cell"])
            shape[i, c] = 1 + V.shapes.index(obj["shape"])
            colour[i, c] = V.colours.index(obj["colour"])
            texture[i, c] = V.textures.index(obj["texture"])
            size[i, c] = V.sizes.index(obj["size"])
            pairs[i, V.class_id(obj["shape"], obj["colour"])] = 1.0
    return {"cell_shape": shape, "cell_colour": colour, "cell_texture": texture, "cell_size": size,
            "pairs": pairs, "background": background}


def predict_objects(out: dict[str, torch.Tensor]) -> list[list[dict[str, Any]]]:
    """Per image, the objects the network sees: ``{"cell", "shape", "colour", "texture", "size"}``."""
    shape = out["cell_shape"].argmax(-1)
    colour, texture, size = (out[k].argmax(-1) for k in ("cell_colour", "cell_texture", "cell_size"))
    result = []
    for i in range(shape.shape[0]):
        objs = []
        for c in range(N_CELLS):
            if int(shape[i, c]) == 0:
                continue
            objs.append({"cell": c, "shape": V.shapes[int(shape[i, c]) - 1], "colour": V.colours[int(colour[i, c])],
                         "texture": V.textures[int(texture[i, c])], "size": V.sizes[int(size[i, c])]})
        result.append(objs)
    return result


def save_classifier(net: ShapesClassifierNet, path: str | Path, info: dict[str, Any] | None = None) -> Path:
    """Write ``<path>.safetensors`` and ``<path>.json`` (architecture + training record)."""
    from safetensors.torch import save_file

    path = Path(path)
    if path.suffix != ".safetensors":
        path = path / WEIGHTS_FILE if path.is_dir() or not path.suffix else path.with_suffix(".safetensors")
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}, str(path))
    meta = {"width": net.width, "input_size": net.input_size, "vocab": V.to_dict(), **(info or {})}
    path.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return path


def default_weights() -> Path:
    """The trained classifier pinned by the ``shapes-accuracy`` card, sha256-checked (HF cache, hub/, Hub).

    Example:
        >>> default_weights().name  # doctest: +SKIP
        'shapes-classifier.safetensors'
    """
    import t2izoo

    try:
        return t2izoo.download_preset_weights(WEIGHTS_PRESET) / WEIGHTS_FILE
    except t2izoo.WeightsError as err:
        raise WeightsNotFoundError(
            f"the shapes classifier pinned by preset {WEIGHTS_PRESET!r} is unavailable: {err} It is trained by "
            f"this project: run `{TRAIN_HINT}` and pass DIR/{WEIGHTS_FILE} as the evaluator's 'weights' field."
        ) from err


def _weights_path(weights: str | Path | None) -> Path:
    path = default_weights() if weights is None else Path(weights).expanduser()
    if path.is_dir():
        path = path / WEIGHTS_FILE
    if not path.is_file():
        raise WeightsNotFoundError(
            f"shapes classifier weights not found at {path}. They are trained by this project, not "
            f"downloaded: run `{TRAIN_HINT}` and pass DIR/{WEIGHTS_FILE} as the evaluator's 'weights' field "
            f"(weights: null uses the ones pinned by preset {WEIGHTS_PRESET!r})."
        )
    return path


def load_classifier(weights: str | Path | None = None) -> tuple[ShapesClassifierNet, dict[str, Any], str]:
    """(network in eval mode, its JSON record, sha256 of the weights)."""
    from safetensors.torch import load_file

    path = _weights_path(weights)
    meta_path = path.with_suffix(".json")
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    net = ShapesClassifierNet(width=int(meta.get("width", 16)), input_size=int(meta.get("input_size", 64)))
    net.load_state_dict(load_file(str(path)), strict=True)
    return net.eval(), meta, sha256_file(path)


class ShapesClassifierBackbone(ImageFeatureExtractor):
    """The classifier as an `ImageFeatureExtractor`: pooled features; logits = pair presence."""

    def __init__(self, net: ShapesClassifierNet, weights_sha256: str | None, resize: str = "bilinear-antialias",
                 record: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.net, self.resize, self.weights_sha256 = net, resize, weights_sha256
        self.record = record or {}
        self.feature_dim = net.feature_dim
        self.num_classes = None  # multi-label heads: not a softmax classifier, so no Inception Score

    def outputs(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every head's logits for ``images`` in ``[-1, 1]`` (any size, resized by the policy)."""
        x = images.to(self.device, torch.float32)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        self.net.eval()
        with torch.no_grad():
            return self.net(resize_images(x.clamp(-1, 1), self.net.input_size, self.resize))

    def extract(self, images: torch.Tensor) -> ImageFeatures:
        return ImageFeatures(features=self.outputs(images)["features"], logits=None)

    def protocol(self) -> dict[str, Any]:
        return {
            "backbone": f"shapes-classifier (width {self.net.width}, trained by t2izoo)",
            "weights_sha256": self.weights_sha256,
            "resize": self.resize,
            "input_size": self.net.input_size,
            "features": f"global pool {self.net.feature_dim}",
            "classifier_heldout": self.record.get("heldout"),
        }


class ShapesAttributeEmbedder(TextImageEmbedder):
    """Shapes attribute space: [80 pairs, 8 shapes, 10 colours] presence.

    Images: presence probabilities from the classifier's per-cell heads. Captions: the multi-hot of what
    `parse_caption` reads (pairs it can bind, every shape and colour named).
    """

    def __init__(self, backbone: ShapesClassifierBackbone) -> None:
        super().__init__()
        self.backbone = backbone

    def embed_images(self, images: torch.Tensor) -> torch.Tensor:
        out = self.backbone.outputs(images)
        p_cell = out["cell_shape"].softmax(-1)                       # [B, 9, 1+S]
        p_colour = out["cell_colour"].softmax(-1)                    # [B, 9, C]
        occupied = 1 - p_cell[..., 0:1]
        # pair presence from the per-cell heads (far more accurate than the global pair head):
        # max over cells of p(shape) * p(colour), flattened in class_id order (shape-major)
        pairs = (p_cell[..., 1:, None] * p_colour[..., None, :]).amax(1).flatten(1)
        shapes = p_cell[..., 1:].amax(1)
        colours = (occupied * p_colour).amax(1)
        return torch.cat([pairs, shapes, colours], dim=1)

    def embed_texts(self, texts: Sequence[str]) -> torch.Tensor:
        out = torch.zeros(len(texts), N_PAIRS + N_SHAPES + N_COLOURS)
        for i, text in enumerate(texts):
            parsed = parse_caption(text)
            for shape, colour in parsed["pairs"]:
                out[i, V.class_id(shape, colour)] = 1
            for shape in parsed["shapes"]:
                out[i, N_PAIRS + V.shapes.index(shape)] = 1
            for colour in parsed["colours"]:
                out[i, N_PAIRS + N_SHAPES + V.colours.index(colour)] = 1
        return out.to(self.backbone.device)

    def protocol(self) -> dict[str, Any]:
        return {"space": "shapes-attributes (80 pairs + 8 shapes + 10 colours)", **self.backbone.protocol()}


def _backbone_loader(weights: str | None = None, resize: str = "bilinear-antialias") -> ShapesClassifierBackbone:
    net, meta, sha = load_classifier(weights)
    return ShapesClassifierBackbone(net, sha, resize=resize, record=meta)


def _embedder_loader(weights: str | None = None, resize: str = "bilinear-antialias") -> ShapesAttributeEmbedder:
    return ShapesAttributeEmbedder(_backbone_loader(weights, resize))


register_image_backbone("shapes-classifier", _backbone_loader)
register_embedder("shapes-attributes", _embedder_loader)
