"""The standard training batch, how samples become one, and a seeded data loader.

Every data set in `t2izoo.data` returns `Sample` objects; `collate` turns a list of them into
a `Batch`; `make_dataloader` wires both into a `torch.utils.data.DataLoader` whose order and
caption choice depend only on ``seed`` and the epoch (also under Accelerate, which calls
``set_epoch`` on our sampler).

Example:
    >>> from t2izoo.data import load_dataset, make_dataloader
    >>> ds = load_dataset("shapes", split="train", size=64, resolutions=(64,))
    >>> loader = make_dataloader(ds, batch_size=8, shuffle=True, seed=0)
    >>> batch = next(iter(loader))
    >>> batch.images[64].shape, len(batch.captions)
    (torch.Size([8, 3, 64, 64]), 8)
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from ..interfaces import Tokenizer
from ..types import TokenBatch

__all__ = ["Sample", "Batch", "collate", "make_dataloader", "SeededSampler", "CaptionChoice", "group_size_of"]


@dataclass
class Sample:
    """One data-set item.

    Attributes:
        images: resolution -> ``[3, r, r]`` float tensor in ``[-1, 1]``.
        captions: every caption of this image (at least one).
        class_id: integer class (CUB species, COCO: 0, shapes: first object's shape+colour).
        key: a stable identifier (file stem, ``shapes/train/17``).
        attributes: structured ground truth (shapes) or ``None``.
        caption_index: which of ``captions`` this sample stands for in a batch.
    """

    images: dict[int, torch.Tensor]
    captions: list[str]
    class_id: int
    key: str
    attributes: dict[str, Any] | None = None
    caption_index: int = 0

    @property
    def caption(self) -> str:
        return self.captions[self.caption_index]


@dataclass
class Batch:
    """A collated batch.

    Attributes:
        images: resolution -> ``[B, 3, r, r]`` float in ``[-1, 1]``.
        captions: one caption per sample (the one chosen among the sample's captions).
        class_ids: ``[B]`` int64; DAMSM masks same-class pairs with it.
        attributes: structured ground truth per sample (shapes), else ``None``.
        keys: sample identifiers.
        tokens: the captions tokenised, when the loader was given a tokenizer.
        skipped: samples dropped from this batch because they could not be read
            (only with ``on_error="skip"``).
    """

    images: dict[int, torch.Tensor]
    captions: list[str]
    class_ids: torch.Tensor
    attributes: list[dict[str, Any]] | None
    keys: list[str]
    tokens: TokenBatch | None = None
    skipped: int = field(default=0, compare=False)

    def __len__(self) -> int:
        return len(self.keys)

    def to(self, device: torch.device | str, non_blocking: bool = False) -> Batch:
        """Move every tensor (images, class ids, tokens) to ``device``."""
        return replace(
            self,
            images={r: t.to(device, non_blocking=non_blocking) for r, t in self.images.items()},
            class_ids=self.class_ids.to(device, non_blocking=non_blocking),
            tokens=None if self.tokens is None else self.tokens.to(device, non_blocking=non_blocking),
        )


def collate(
    samples: Sequence[Sample | None],
    tokenizer: Tokenizer | None = None,
    resolutions: Sequence[int] | None = None,
    max_length: int | None = None,
) -> Batch:
    """Stack samples into a `Batch`.

    ``None`` entries (unreadable items skipped by a data set with ``on_error="skip"``) are
    dropped and counted in ``Batch.skipped``. ``resolutions`` keeps a subset of the samples'
    resolutions (default: all of them, which must be the same for every sample).

    Example:
        >>> batch = collate([ds[0], ds[1]], resolutions=[64])   # doctest: +SKIP
    """
    kept = [s for s in samples if s is not None]
    skipped = len(samples) - len(kept)
    if not kept:
        raise ValueError(
            f"collate: all {len(samples)} samples of this batch were unreadable and skipped; "
            "see the earlier warnings for the files"
        )
    available = set(kept[0].images)
    for s in kept[1:]:
        if set(s.images) != available:
            raise ValueError(
                f"collate: sample {s.key!r} has resolutions {sorted(s.images)} but "
                f"{kept[0].key!r} has {sorted(available)}"
            )
    wanted = sorted(available) if resolutions is None else [int(r) for r in resolutions]
    missing = [r for r in wanted if r not in available]
    if missing:
        raise ValueError(
            f"collate: resolution(s) {missing} requested but the samples carry {sorted(available)}; "
            "pass resolutions=... to load_dataset"
        )
    captions = [s.caption for s in kept]
    attributes = [s.attributes for s in kept]
    return Batch(
        images={r: torch.stack([s.images[r] for s in kept]) for r in wanted},
        captions=captions,
        class_ids=torch.tensor([s.class_id for s in kept], dtype=torch.long),
        attributes=attributes if all(a is not None for a in attributes) else None,
        keys=[s.key for s in kept],
        tokens=None if tokenizer is None else tokenizer(captions, max_length=max_length),
        skipped=skipped,
    )


def group_size_of(dataset: Any) -> int:
    """Items that must stay together in one batch (``dataset.group_size``, looked up through wrappers).

    A data set of minimal pairs (`t2izoo.data.ShapesDataset` with ``minimal_pairs=``) has
    groups of 2: item ``2k + 1`` differs from item ``2k`` in one attribute, and a contrastive
    loss only learns that attribute when both are in the same batch.
    """
    while dataset is not None:
        size = getattr(dataset, "group_size", None)
        if size is not None:
            return max(1, int(size))
        dataset = getattr(dataset, "dataset", None)
    return 1


class SeededSampler(Sampler):
    """Yields ``(index, epoch)`` pairs in an order fixed by ``(seed, epoch)``.

    The epoch travels with the index so that `CaptionChoice` can pick the caption from
    ``(seed, epoch, index)`` inside worker processes, which never see the sampler.
    Accelerate calls `set_epoch` before every pass; a plain DataLoader gets the next epoch
    automatically after each full pass. With ``group_size`` > 1 whole groups of consecutive
    indices are shuffled, so a group stays contiguous (and in one batch when the batch size is
    a multiple of it).
    """

    def __init__(self, num_samples: int, *, shuffle: bool, seed: int, group_size: int = 1) -> None:
        self.num_samples = int(num_samples)
        self.shuffle = shuffle
        self.seed = int(seed)
        self.group_size = max(1, int(group_size))
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.num_samples

    def __iter__(self) -> Iterator[tuple[int, int]]:
        epoch = self.epoch
        if self.shuffle:
            rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([self.seed, epoch, 0x5A])))
            if self.group_size == 1:
                order = rng.permutation(self.num_samples)
            else:
                g = self.group_size
                groups = rng.permutation(-(-self.num_samples // g))
                order = (groups[:, None] * g + np.arange(g)[None, :]).reshape(-1)
                order = order[order < self.num_samples]
        else:
            order = np.arange(self.num_samples)
        for i in order.tolist():
            yield (i, epoch)
        self.epoch = epoch + 1


class CaptionChoice(Dataset):
    """Wraps a data set; ``self[(index, epoch)]`` returns the sample with one caption chosen.

    The choice is a pure function of ``(seed, epoch, index)`` (numpy PCG64), so it is the same
    with any number of workers or processes. A plain integer index picks caption 0.
    """

    def __init__(self, dataset: Dataset, seed: int, random_caption: bool = True) -> None:
        self.dataset = dataset
        self.seed = int(seed)
        self.random_caption = random_caption
        self.group_size = group_size_of(dataset)  # one caption template for a whole group (minimal pairs)

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, item: int | tuple[int, int]) -> Sample | None:
        index, epoch = (item, None) if isinstance(item, int) else item
        sample = self.dataset[index]
        if sample is None or epoch is None or not self.random_caption or len(sample.captions) < 2:
            return sample
        group = self.group_size
        seq = np.random.SeedSequence([self.seed, int(epoch), int(index) // group * group, 0xCA])
        choice = int(np.random.Generator(np.random.PCG64(seq)).integers(len(sample.captions)))
        return replace(sample, caption_index=choice)


class _Collator:
    """Picklable collate function (DataLoader workers pickle it)."""

    def __init__(self, tokenizer: Tokenizer | None, resolutions: Sequence[int] | None, max_length: int | None):
        self.tokenizer = tokenizer
        self.resolutions = resolutions
        self.max_length = max_length

    def __call__(self, samples: Sequence[Sample | None]) -> Batch:
        batch = collate(samples, self.tokenizer, self.resolutions, self.max_length)
        if batch.skipped:
            warnings.warn(
                f"{batch.skipped} unreadable sample(s) skipped in this batch (on_error='skip')",
                stacklevel=2,
            )
        return batch


def make_dataloader(
    dataset: Dataset,
    batch_size: int,
    *,
    shuffle: bool = True,
    seed: int = 0,
    num_workers: int = 0,
    tokenizer: Tokenizer | None = None,
    drop_last: bool = True,
    resolutions: Sequence[int] | None = None,
    random_caption: bool | None = None,
    max_length: int | None = None,
    pin_memory: bool = False,
) -> DataLoader:
    """A DataLoader of `Batch` whose order and caption choice are fixed by ``seed`` and the epoch.

    Works with worker processes and with ``accelerator.prepare(loader)`` (Accelerate shards
    the batches and calls ``set_epoch`` on the `SeededSampler`).

    Args:
        dataset: a t2izoo data set (items are `Sample`).
        batch_size: samples per batch.
        shuffle: shuffle each epoch (seeded); also picks a random caption per sample unless
            ``random_caption`` says otherwise.
        seed: the only source of randomness for order and caption choice.
        num_workers: DataLoader worker processes.
        tokenizer: fills ``Batch.tokens`` when given.
        drop_last: drop the last incomplete batch.
        resolutions: keep only these resolutions in the batch.
        random_caption: choose among a sample's captions (default: same as ``shuffle``).
        max_length: passed to the tokenizer (e.g. 18 words for AttnGAN training).

    Example:
        >>> loader = make_dataloader(ds, 16, shuffle=True, seed=0, tokenizer=tok)  # doctest: +SKIP
        >>> loader = accelerator.prepare(loader)                                   # doctest: +SKIP
    """
    if batch_size < 1:
        raise ValueError(f"make_dataloader: batch_size must be >= 1, got {batch_size}")
    wrapped = CaptionChoice(dataset, seed, shuffle if random_caption is None else random_caption)
    sampler = SeededSampler(len(wrapped), shuffle=shuffle, seed=seed, group_size=wrapped.group_size)
    return DataLoader(
        wrapped,
        batch_size=batch_size,
        sampler=sampler,
        num_workers=num_workers,
        collate_fn=_Collator(tokenizer, resolutions, max_length),
        drop_last=drop_last,
        pin_memory=pin_memory,
        persistent_workers=False,
    )
