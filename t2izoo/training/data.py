"""Resumable, sharded batch stream for the trainer.

The order of samples and the caption chosen for each are those of `t2izoo.data.make_dataloader`
(a pure function of ``seed`` and the epoch). This module only adds what training needs on top:
every process takes its own slice of each global batch, the stream never ends (epochs follow
each other), and its position ``(epoch, batch)`` can be saved and restored exactly, so a resumed
run sees the same batches as an uninterrupted one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch.utils.data import DataLoader

__all__ = ["BatchStream"]


class BatchStream:
    """Endless iterator of collated batches for process ``rank`` of ``world_size``.

    Args:
        loader: a loader from `t2izoo.data.make_dataloader` (its data set, collate function,
            seeded sampler and worker count are reused; it is never iterated itself).
        world_size, rank: the process group (1, 0 for a single process).

    Global batch ``g`` of an epoch is ``order[g*W*b : (g+1)*W*b]``; process ``r`` takes its
    ``r``-th slice of ``b`` samples. A last partial global batch is dropped so every process
    always gets the same number of equally sized batches.

    Example:
        >>> stream = BatchStream(loader, world_size=1, rank=0)      # doctest: +SKIP
        >>> batch = next(stream); stream.position                  # doctest: +SKIP
        {'epoch': 0, 'batch': 1}
    """

    def __init__(self, loader: DataLoader, world_size: int = 1, rank: int = 0) -> None:
        self.dataset = loader.dataset
        self.collate_fn = loader.collate_fn
        self.num_workers = loader.num_workers
        self.batch_size = int(loader.batch_size or 1)
        sampler = loader.sampler
        self.seed = int(getattr(sampler, "seed", 0))
        self.shuffle = bool(getattr(sampler, "shuffle", True))
        self.group_size = int(getattr(sampler, "group_size", 1))
        self.world_size, self.rank = int(world_size), int(rank)
        global_batch = self.world_size * self.batch_size
        self.batches_per_epoch = len(self.dataset) // global_batch
        if self.batches_per_epoch < 1:
            raise ValueError(
                f"the data set has {len(self.dataset)} samples, fewer than one global batch "
                f"({self.world_size} process(es) x batch size {self.batch_size}); lower --batch-size"
            )
        self.epoch = 0
        self.batch = 0
        self._iter: Iterator[Any] | None = None

    # -- order -----------------------------------------------------------------------------
    def _order(self, epoch: int) -> list[tuple[int, int]]:
        from ..data import SeededSampler

        sampler = SeededSampler(len(self.dataset), shuffle=self.shuffle, seed=self.seed, group_size=self.group_size)
        sampler.set_epoch(epoch)
        return list(iter(sampler))

    def _epoch_batches(self, epoch: int) -> list[list[tuple[int, int]]]:
        order = self._order(epoch)
        b, w = self.batch_size, self.world_size
        return [
            order[g * w * b + self.rank * b : g * w * b + (self.rank + 1) * b]
            for g in range(self.batches_per_epoch)
        ]

    def _start(self) -> None:
        batches = self._epoch_batches(self.epoch)[self.batch :]
        loader = DataLoader(
            self.dataset,
            batch_sampler=batches,
            collate_fn=self.collate_fn,
            num_workers=self.num_workers,
            # a private generator: creating an iterator must not consume the global torch RNG,
            # or a resumed run would drift from an uninterrupted one
            generator=torch.Generator().manual_seed(self.seed),
        )
        self._iter = iter(loader)

    # -- iteration ---------------------------------------------------------------------------
    def __iter__(self) -> BatchStream:
        return self

    def __next__(self) -> Any:
        if self._iter is None:
            self._start()
        try:
            item = next(self._iter)  # type: ignore[arg-type]
        except StopIteration:
            self.epoch, self.batch = self.epoch + 1, 0
            self._start()
            item = next(self._iter)  # type: ignore[arg-type]
        self.batch += 1
        if self.batch >= self.batches_per_epoch:
            # the next call starts the next epoch; record it now so a checkpoint says so
            self.epoch, self.batch = self.epoch + 1, 0
            self._iter = None
        return item

    @property
    def position(self) -> dict[str, int]:
        return {"epoch": self.epoch, "batch": self.batch}

    def seek(self, epoch: int, batch: int) -> None:
        """Continue from ``batch`` of ``epoch`` (as saved in a checkpoint)."""
        if not 0 <= batch < self.batches_per_epoch:
            raise ValueError(f"batch {batch} out of range for {self.batches_per_epoch} batches per epoch")
        self.epoch, self.batch = int(epoch), int(batch)
        self._iter = None
