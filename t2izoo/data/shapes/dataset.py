"""`ShapesDataset`: the procedural ``shapes`` world as a map-style data set.

Item ``i`` of split ``s`` with seed ``k`` is a pure function of ``(k, s, i)``: the scene, its
captions and its pixels at every resolution are rebuilt on the fly (thousands per second on one
core), optionally kept in a PNG cache on disk.

Example:
    >>> from t2izoo.data import ShapesDataset
    >>> ds = ShapesDataset("train", size=100, resolutions=(64, 256))
    >>> s = ds[0]
    >>> s.images[256].shape, s.key
    (torch.Size([3, 256, 256]), 'shapes/train/0')
    >>> s.attributes["objects"][0]["shape"] in ds.vocab.shapes
    True
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image
from torch.utils.data import Dataset

from ..base import pil_to_tensor
from ..batch import Sample
from .captions import make_captions
from .render import render_scene
from .scene import SPLIT_CODES, Scene, allowed_pairs, sample_scene, scene_rng
from .vocab import SHAPES_VOCAB, ShapesVocabulary

__all__ = ["ShapesDataset", "SHAPES_SPLITS", "DEFAULT_SIZES"]

DEFAULT_SIZES = {"train": 10_000, "test": 1_000, "compositional": 1_000}
_ALIASES = {"val": "test", "valid": "test", "validation": "test", "test-compositional": "compositional",
            "compositional-test": "compositional"}
SHAPES_SPLITS = tuple(SPLIT_CODES)
MINIMAL_PAIR_FIELDS = ("shape", "colour")


class ShapesDataset(Dataset):
    """Captioned procedural scenes at several resolutions.

    Args:
        split: ``"train"``, ``"test"`` (same rules, another random stream) or
            ``"compositional"`` (the first object has a (shape, colour) pair never seen in train).
        size: number of items (default 10000 / 1000 / 1000).
        seed: the world's seed.
        resolutions: square sides rendered per item.
        n_captions: captions per item (each from a different template).
        supersample: anti-aliasing factor of the renderer.
        min_objects, max_objects: objects per scene (1 to 3 by default).
        cache_dir: keep rendered PNGs here and reuse them (safe to share between runs with the
            same settings: the folder name carries split, seed and supersample).
        minimal_pairs: ``"shape"`` or ``"colour"``: item ``2k + 1`` is item ``2k``'s
            scene with that attribute of every object changed (same positions, background and
            caption templates), and ``group_size`` is 2 so the training loaders keep both in one
            batch. A contrastive loss (DAMSM) with random in-batch negatives can tell scenes
            apart by colour and position alone and never learn shape words; minimal pairs make
            the attribute the only difference.

    Example (minimal pairs):
        >>> pairs = ShapesDataset("train", size=4, resolutions=(64,), minimal_pairs="shape")
        >>> a, b = pairs[0], pairs[1]
        >>> [o["colour"] for o in a.attributes["objects"]] == [o["colour"] for o in b.attributes["objects"]]
        True
        >>> [o["shape"] for o in a.attributes["objects"]] != [o["shape"] for o in b.attributes["objects"]]
        True
    """

    def __init__(
        self,
        split: str = "train",
        size: int | None = None,
        *,
        seed: int = 0,
        resolutions: Sequence[int] = (64, 128, 256),
        n_captions: int = 5,
        supersample: int = 4,
        min_objects: int = 1,
        max_objects: int = 3,
        cache_dir: str | Path | None = None,
        vocab: ShapesVocabulary = SHAPES_VOCAB,
        minimal_pairs: str | None = None,
    ) -> None:
        split = _ALIASES.get(split, split)
        if split not in SPLIT_CODES:
            raise ValueError(f"shapes: unknown split {split!r}; choose one of {list(SPLIT_CODES)}")
        if not resolutions:
            raise ValueError("shapes: resolutions must name at least one size")
        self.split = split
        self.size = DEFAULT_SIZES[split] if size is None else int(size)
        if self.size < 1:
            raise ValueError(f"shapes: size must be >= 1, got {self.size}")
        self.seed = int(seed)
        self.resolutions = tuple(sorted(int(r) for r in resolutions))
        self.n_captions = int(n_captions)
        self.supersample = int(supersample)
        self.min_objects, self.max_objects = int(min_objects), int(max_objects)
        self.vocab = vocab
        if minimal_pairs is not None and minimal_pairs not in MINIMAL_PAIR_FIELDS:
            raise ValueError(
                f"shapes: minimal_pairs must be one of {list(MINIMAL_PAIR_FIELDS)} (or None), got {minimal_pairs!r}"
            )
        self.minimal_pairs = minimal_pairs
        self.group_size = 1 if minimal_pairs is None else 2
        self._allowed_pairs = frozenset(allowed_pairs(vocab, compositional=split == "compositional"))
        self.cache_dir = None
        if cache_dir is not None:
            pairs = "" if minimal_pairs is None else f"-pairs-{minimal_pairs}"
            self.cache_dir = Path(cache_dir) / (
                f"shapes-{split}-seed{self.seed}-ss{self.supersample}-obj{self.min_objects}{self.max_objects}{pairs}"
            )
            self.cache_dir.mkdir(parents=True, exist_ok=True)

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        return (f"ShapesDataset(split={self.split!r}, size={self.size}, seed={self.seed}, "
                f"resolutions={self.resolutions})")

    @property
    def class_count(self) -> int:
        return self.vocab.num_classes

    def scene(self, index: int) -> tuple[Scene, list[str]]:
        """The scene and captions of item ``index`` (no rendering)."""
        if not 0 <= index < self.size:
            raise IndexError(f"shapes: index {index} out of range for split {self.split!r} of size {self.size}")
        partner = self.minimal_pairs is not None and index % 2 == 1
        base = index - 1 if partner else index
        rng = scene_rng(self.seed, self.split, base)
        scene = sample_scene(
            rng, self.vocab, compositional=self.split == "compositional",
            min_objects=self.min_objects, max_objects=self.max_objects,
        )
        if partner:
            # the caption stream continues from the same state, so both get the same templates
            scene = self._change(scene, np.random.Generator(np.random.PCG64([self.seed, base, 0x9A1])))
        return scene, make_captions(scene, rng, self.n_captions)

    def _change(self, scene: Scene, rng: np.random.Generator) -> Scene:
        """``scene`` with attribute ``minimal_pairs`` of every object set to another allowed value."""
        field = self.minimal_pairs
        names = self.vocab.shapes if field == "shape" else self.vocab.colours
        objects = []
        for obj in scene.objects:
            options = [
                other for other in (replace(obj, **{field: n}) for n in names if n != getattr(obj, field))
                if (other.shape, other.colour) in self._allowed_pairs
            ]
            # no other allowed value for this object: leave it as it is
            objects.append(options[int(rng.integers(len(options)))] if options else obj)
        return replace(scene, objects=tuple(objects))

    def render(self, scene: Scene, index: int, resolution: int) -> Image.Image:
        """The scene at one resolution, through the disk cache when there is one."""
        if self.cache_dir is None:
            return render_scene(scene, resolution, self.supersample, self.vocab)
        path = self.cache_dir / f"{index:08d}-{resolution}.png"
        if path.is_file():
            with Image.open(path) as img:
                return img.convert("RGB")
        image = render_scene(scene, resolution, self.supersample, self.vocab)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        image.save(tmp, format="PNG")
        os.replace(tmp, path)  # atomic: concurrent workers never read half a file
        return image

    def __getitem__(self, index: int) -> Sample:
        index = int(index)
        scene, captions = self.scene(index)
        first = scene.objects[0]
        return Sample(
            images={r: pil_to_tensor(self.render(scene, index, r)) for r in self.resolutions},
            captions=captions,
            class_id=self.vocab.class_id(first.shape, first.colour),
            key=f"shapes/{self.split}/{index}",
            attributes=scene.attributes(self.vocab),
        )
