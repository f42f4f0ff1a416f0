"""Streaming accumulators for Inception Score and KID, and the retrieval hit used by R-precision.

Example:
    >>> import torch
    >>> acc = StreamingInceptionScore(num_classes=4, splits=2)
    >>> acc.update(torch.eye(4).repeat_interleave(2, 0) * 50)  # confident, evenly spread
    >>> mean, std, _ = acc.compute()
    >>> round(mean, 3), round(std, 3)
    (4.0, 0.0)
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = [
    "StreamingInceptionScore",
    "FeatureReservoir",
    "polynomial_mmd_unbiased",
    "kernel_inception_distance",
    "retrieval_hits",
]


class StreamingInceptionScore:
    """Inception Score from logits streamed in batches; memory ``O(splits * K)``.

    Per split it keeps the count, the sum of ``p(y|x)`` and the sum of ``sum_y p log p``, since
    ``mean_x KL(p(y|x) || p(y)) = mean_x sum p log p - sum p(y) log p(y)``. Samples go to splits
    ``"round-robin"`` (sample i -> split i mod S; needs no total) or ``"contiguous"`` (the original
    code's chunks ``[s*N//S, (s+1)*N//S)``; needs ``total=N`` up front). The std over splits uses
    ddof 0 like the original (torchmetrics uses ddof 1).
    """

    def __init__(self, num_classes: int, splits: int = 10, assignment: str = "round-robin",
                 total: int | None = None) -> None:
        if assignment not in ("round-robin", "contiguous"):
            raise ValueError(f"assignment must be 'round-robin' or 'contiguous', got {assignment!r}")
        if assignment == "contiguous" and not total:
            raise ValueError("assignment='contiguous' needs total=N (the number of samples) up front")
        self.num_classes, self.splits, self.assignment, self.total = num_classes, splits, assignment, total
        self.reset()

    def reset(self) -> None:
        self.seen = 0
        self.count = torch.zeros(self.splits, dtype=torch.float64)
        self.sum_p = torch.zeros(self.splits, self.num_classes, dtype=torch.float64)
        self.sum_plogp = torch.zeros(self.splits, dtype=torch.float64)

    def _split_of(self, index: torch.Tensor) -> torch.Tensor:
        if self.assignment == "round-robin":
            return index % self.splits
        assert self.total is not None
        if int(index.max()) >= self.total:
            raise ValueError(f"more samples than total={self.total} declared for contiguous IS splits")
        # split s holds indices [s*N//S, (s+1)*N//S): invert by counting boundaries <= index
        bounds = torch.tensor([s * self.total // self.splits for s in range(1, self.splits)])
        return torch.bucketize(index, bounds, right=True)

    def update(self, logits: torch.Tensor) -> None:
        """Add ``[B, K]`` logits (softmax is taken here, in float64)."""
        if logits.ndim != 2 or logits.shape[1] != self.num_classes:
            raise ValueError(f"expected logits [B, {self.num_classes}], got {tuple(logits.shape)}")
        logp = torch.log_softmax(logits.detach().cpu().to(torch.float64), dim=1)
        p = logp.exp()
        plogp = torch.where(p > 0, p * logp, torch.zeros_like(p)).sum(1)
        idx = torch.arange(self.seen, self.seen + logits.shape[0])
        split = self._split_of(idx)
        self.count.index_add_(0, split, torch.ones_like(split, dtype=torch.float64))
        self.sum_p.index_add_(0, split, p)
        self.sum_plogp.index_add_(0, split, plogp)
        self.seen += logits.shape[0]

    def compute(self) -> tuple[float, float, list[float]]:
        """(mean, std over splits with ddof 0, per-split scores)."""
        if (self.count == 0).any():
            raise ValueError(f"Inception Score with {self.splits} splits needs at least {self.splits} samples, "
                             f"got {self.seen}")
        py = self.sum_p / self.count[:, None]
        py_log_py = torch.where(py > 0, py * py.log(), torch.zeros_like(py)).sum(1)
        kl = self.sum_plogp / self.count - py_log_py
        scores = kl.exp()
        return float(scores.mean()), float(scores.std(unbiased=False)), scores.tolist()


class FeatureReservoir:
    """A uniform random sample (Algorithm R) of at most ``capacity`` feature rows, seeded.

    KID needs features, not moments; the reservoir keeps memory bounded and records how many
    rows were seen and kept.
    """

    def __init__(self, dim: int, capacity: int, seed: int = 0) -> None:
        self.dim, self.capacity, self.seed = dim, capacity, seed
        self.reset()

    def reset(self) -> None:
        self.seen = 0
        self.data = torch.empty(0, self.dim, dtype=torch.float64)
        self._rng = torch.Generator().manual_seed(self.seed)

    def update(self, rows: torch.Tensor) -> None:
        rows = rows.detach().cpu().to(torch.float64)
        room = self.capacity - self.data.shape[0]
        if room > 0:
            self.data = torch.cat([self.data, rows[:room]])
            self.seen += min(room, rows.shape[0])
            rows = rows[room:]
        for row in rows:
            self.seen += 1
            j = int(torch.randint(self.seen, (1,), generator=self._rng))
            if j < self.capacity:
                self.data[j] = row


def polynomial_mmd_unbiased(x: np.ndarray, y: np.ndarray, degree: int = 3, gamma: float | None = None,
                            coef: float = 1.0) -> float:
    """Unbiased MMD^2 with the kernel ``(gamma <x, y> + coef)^degree`` (gamma = 1/D by default)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    gamma = 1.0 / x.shape[1] if gamma is None else gamma
    kxx = (x @ x.T * gamma + coef) ** degree
    kyy = (y @ y.T * gamma + coef) ** degree
    kxy = (x @ y.T * gamma + coef) ** degree
    m, n = x.shape[0], y.shape[0]
    sxx = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    syy = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return float(sxx + syy - 2 * kxy.mean())


def kernel_inception_distance(x: np.ndarray, y: np.ndarray, subsets: int = 100, subset_size: int = 1000,
                              seed: int = 0, degree: int = 3) -> tuple[float, float, int]:
    """KID: mean and std (ddof 0) of unbiased polynomial MMD^2 over random subsets.

    Returns (mean, std, subset size actually used): the size is clipped to the smaller set.
    """
    size = min(subset_size, len(x), len(y))
    if size < 2:
        raise ValueError(f"KID needs at least 2 samples per set, got {len(x)} and {len(y)}")
    rng = np.random.default_rng(seed)
    vals = [
        polynomial_mmd_unbiased(x[rng.choice(len(x), size, replace=False)],
                                y[rng.choice(len(y), size, replace=False)], degree=degree)
        for _ in range(subsets)
    ]
    return float(np.mean(vals)), float(np.std(vals)), size


def retrieval_hits(image_emb: torch.Tensor, true_text_emb: torch.Tensor, distractor_emb: torch.Tensor) -> torch.Tensor:
    """Top-1 retrieval hits for R-precision: ``[B]`` bools.

    Args:
        image_emb: ``[B, D]``; true_text_emb: ``[B, D]``; distractor_emb: ``[B, R, D]``.
        Cosine similarity; a hit needs the true caption to score strictly above every distractor
        (ties count as misses, so a constant embedder scores 0, not 1).
    """
    img = torch.nn.functional.normalize(image_emb.double(), dim=-1)
    true = torch.nn.functional.normalize(true_text_emb.double(), dim=-1)
    dis = torch.nn.functional.normalize(distractor_emb.double(), dim=-1)
    s_true = (img * true).sum(-1)
    s_dis = torch.einsum("bd,brd->br", img, dis)
    if s_dis.shape[1] == 0:
        return torch.ones_like(s_true, dtype=torch.bool)
    return s_true > s_dis.max(dim=1).values


