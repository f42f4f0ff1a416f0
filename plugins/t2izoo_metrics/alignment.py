"""Text-image alignment: CLIP score and R-precision, in any `TextImageEmbedder` space.

Example:
    >>> import t2izoo
    >>> rp = t2izoo.create_component("evaluator", {"name": "r-precision", "embedder": "shapes-attributes",
    ...                                            "weights": None, "model": None})   # doctest: +SKIP
    >>> rp.update(images, prompts)                                                     # doctest: +SKIP
    >>> rp.compute().value                                                             # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

import t2izoo
from t2izoo.evaluation import retrieval_hits

from ._base import EmbedderEvaluator

__all__ = ["CLIPScore", "RPrecision"]


def _candidates(prompts: Sequence[str | Sequence[str]] | None, batch: int, name: str) -> list[list[str]]:
    if prompts is None or len(prompts) != batch:
        got = "none" if prompts is None else len(prompts)
        raise ValueError(f"{name} needs one prompt (or list of candidate captions) per image: {batch} images, {got} prompts")
    out = []
    for p in prompts:
        cands = [p] if isinstance(p, str) else list(p)
        if not cands:
            raise ValueError(f"{name}: an image has an empty list of candidate captions")
        out.append(cands)
    return out


class CLIPScore(EmbedderEvaluator):
    """Image-caption cosine in the embedder's space, three ways (all recorded in the protocol).

    * ``cosine``: mean over images of ``cos(image, its caption)`` (the first candidate), raw, in [-1, 1];
    * ``max-candidates``: mean over images of the max cosine over that image's candidate captions
      (the seed paper's eq. 13); equals ``cosine`` when each image has one caption;
    * ``torchmetrics``: mean of ``100 * max(cos, 0)`` (what torchmetrics' CLIPScore reports).

    ``prompts[i]`` is a caption or a list of candidate captions for image ``i``.
    """

    def __init__(self, config: Any, embedder: Any = None, **context: Any) -> None:
        super().__init__(config, embedder, **context)
        self.reset()

    def reset(self) -> None:
        self._n = 0
        self._sum = {"cosine": 0.0, "max-candidates": 0.0, "torchmetrics": 0.0}
        self._sq = dict.fromkeys(self._sum, 0.0)

    def update(self, images: torch.Tensor, prompts: Sequence[str | Sequence[str]] | None = None,
               real_images: torch.Tensor | None = None) -> None:
        cands = _candidates(prompts, images.shape[0], self.config.name)
        img = F.normalize(self.embed_images(images), dim=-1)
        flat = [c for cs in cands for c in cs]
        txt = F.normalize(self.embed_texts(flat), dim=-1)
        start = 0
        for i, cs in enumerate(cands):
            cos = txt[start:start + len(cs)] @ img[i]
            start += len(cs)
            values = {"cosine": float(cos[0]), "max-candidates": float(cos.max()),
                      "torchmetrics": 100.0 * max(float(cos[0]), 0.0)}
            for k, v in values.items():
                self._sum[k] += v
                self._sq[k] += v * v
        self._n += len(cands)

    def compute(self) -> t2izoo.MetricResult:
        if self._n == 0:
            raise ValueError("clip-score: no images were given")
        means = {k: v / self._n for k, v in self._sum.items()}
        stds = {k: max(self._sq[k] / self._n - means[k] ** 2, 0.0) ** 0.5 for k in means}
        proto = self.embedder.protocol()
        label = proto.get("backbone", self.config.embedder)
        report = self.config.report
        protocol = {
            **proto,
            "num_generated": self._n,
            "headline": report,
            "variants": {
                f"mean cosine [{label}]": means["cosine"],
                f"mean max-over-candidates cosine (eq. 13) [{label}]": means["max-candidates"],
                f"torchmetrics 100*max(cos,0) [{label}]": means["torchmetrics"],
            },
            "std_ddof": 0,
        }
        return t2izoo.MetricResult(self.config.name, means[report], stds[report], protocol)


class RPrecision(EmbedderEvaluator):
    """Top-1 retrieval of an image's caption among it and ``distractors`` other captions.

    The distractors come from a pool of distinct captions (``caption_pool`` file, or the first
    ``pool_size`` distinct prompts seen); a distractor never has the same text as the true caption.
    Samples go to folds round-robin; the result is the mean over folds and its std (ddof 0).
    Images that arrive before the pool is large enough wait (as embeddings) until it is.
    """

    def __init__(self, config: Any, embedder: Any = None, **context: Any) -> None:
        super().__init__(config, embedder, **context)
        self.reset()

    def reset(self) -> None:
        cfg = self.config
        self._pool_texts: list[str] = []
        self._pool_index: dict[str, int] = {}
        self._pool_emb: torch.Tensor | None = None
        self._pool_from_file = False
        self._pending: list[tuple[torch.Tensor, str, torch.Tensor]] = []
        self._hits = torch.zeros(cfg.folds, dtype=torch.long)
        self._counts = torch.zeros(cfg.folds, dtype=torch.long)
        self._seen = 0
        self._rng = torch.Generator().manual_seed(cfg.seed)

    def _add_to_pool(self, texts: Sequence[str]) -> None:
        new = [t for t in dict.fromkeys(texts) if t not in self._pool_index]
        new = new[: max(self.config.pool_size - len(self._pool_texts), 0)]
        if not new:
            return
        emb = self.embed_texts(new)
        for t in new:
            self._pool_index[t] = len(self._pool_texts)
            self._pool_texts.append(t)
        self._pool_emb = emb if self._pool_emb is None else torch.cat([self._pool_emb, emb])

    def _load_pool_file(self) -> None:
        path = Path(self.config.caption_pool)
        if not path.is_file():
            raise FileNotFoundError(f"r-precision: caption_pool file not found: {path}")
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        for start in range(0, len(lines), 256):
            self._add_to_pool(lines[start:start + 256])
        self._pool_from_file = True

    def _ready(self) -> bool:
        return len(self._pool_texts) > self.config.distractors

    def _score(self, img: torch.Tensor, texts: list[str], true: torch.Tensor) -> None:
        assert self._pool_emb is not None
        r = self.config.distractors
        picks = []
        for t in texts:
            perm = torch.randperm(len(self._pool_texts), generator=self._rng)[: r + 1]
            own = self._pool_index.get(t)
            perm = perm[perm != own][:r] if own is not None else perm[:r]
            picks.append(perm)
        hits = retrieval_hits(img, true, self._pool_emb[torch.stack(picks)])
        folds = torch.arange(self._seen, self._seen + len(texts)) % self.config.folds
        self._hits.index_add_(0, folds, hits.long())
        self._counts.index_add_(0, folds, torch.ones_like(folds))
        self._seen += len(texts)

    def _flush(self) -> None:
        if self._pending and self._ready():
            imgs = torch.stack([p[0] for p in self._pending])
            texts = [p[1] for p in self._pending]
            trues = torch.stack([p[2] for p in self._pending])
            self._pending = []
            self._score(imgs, texts, trues)

    def update(self, images: torch.Tensor, prompts: Sequence[str | Sequence[str]] | None = None,
               real_images: torch.Tensor | None = None) -> None:
        texts = [c[0] for c in _candidates(prompts, images.shape[0], self.config.name)]
        if self.config.caption_pool is not None and not self._pool_from_file:
            self._load_pool_file()
        if not self._pool_from_file:
            self._add_to_pool(texts)
        img = self.embed_images(images)
        true = self.embed_texts(texts)
        if self._ready():
            self._flush()
            self._score(img, texts, true)
        else:
            self._pending.extend(zip(img, texts, true, strict=True))

    def compute(self) -> t2izoo.MetricResult:
        cfg = self.config
        self._flush()
        if self._pending:
            raise ValueError(
                f"r-precision needs {cfg.distractors + 1} distinct captions for 1 true + {cfg.distractors} "
                f"distractors, but only {len(self._pool_texts)} were seen; give more samples, a "
                "'caption_pool' file, or fewer 'distractors'")
        if int(self._counts.min()) == 0:
            raise ValueError(f"r-precision with {cfg.folds} folds needs at least {cfg.folds} images, got {self._seen}")
        per_fold = self._hits.double() / self._counts.double()
        protocol = {
            **self.embedder.protocol(),
            "num_generated": self._seen,
            "distractors": cfg.distractors,
            "distractor_rule": "distinct caption text, drawn uniformly from the pool",
            "pool": (f"caption file {Path(cfg.caption_pool).name}" if self._pool_from_file
                     else "distinct prompts seen") + f" ({len(self._pool_texts)} captions)",
            "similarity": "cosine",
            "hit": "true caption strictly above every distractor (ties miss)",
            "folds": cfg.folds,
            "fold_assignment": "round-robin",
            "std_ddof": 0,
            "seed": cfg.seed,
            "per_fold": per_fold.tolist(),
        }
        return t2izoo.MetricResult(cfg.name, float(per_fold.mean()), float(per_fold.std(unbiased=False)), protocol)
