"""FID, KID and Inception Score: evaluators over one (shared) image backbone.

Built on one backbone instance with the same settings and fed the same tensors, the three run
the network once per batch (see `t2izoo.evaluation.ImageFeatureExtractor.features`).

Example:
    >>> import t2izoo
    >>> fid = t2izoo.create_component("evaluator", "shapes-fid")      # doctest: +SKIP
    >>> for fake, real in batches:                                      # doctest: +SKIP
    ...     fid.update(fake, real_images=real)
    >>> result = fid.compute()                                          # doctest: +SKIP
    >>> result.value, result.protocol["resize"]                         # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import torch

import t2izoo
from t2izoo.evaluation import (
    FeatureReservoir,
    StreamingInceptionScore,
    StreamingMoments,
    frechet_distance,
    kernel_inception_distance,
    load_statistics,
    save_statistics,
)

from ._base import BackboneEvaluator

__all__ = ["FID", "KID", "InceptionScore"]

# protocol keys that must agree between a set's statistics and the reference statistics
_COMPARABLE = ("backbone", "weights_sha256", "resize", "input_size", "features")


class FID(BackboneEvaluator):
    """Frechet distance between generated and real feature Gaussians (float64, ddof 1)."""

    requires_real: ClassVar[bool] = True

    def __init__(self, config: Any, extractor: Any = None, **context: Any) -> None:
        super().__init__(config, extractor, **context)
        self.reset()

    def reset(self) -> None:
        self._fake: StreamingMoments | None = None
        self._real: StreamingMoments | None = None

    @staticmethod
    def _add(acc: StreamingMoments | None, feats: torch.Tensor) -> StreamingMoments:
        acc = acc or StreamingMoments(feats.shape[1])
        acc.update(feats)
        return acc

    def update(self, images: torch.Tensor, prompts: Sequence[str] | None = None,
               real_images: torch.Tensor | None = None) -> None:
        self._fake = self._add(self._fake, self.features(images).features)
        if real_images is not None:
            self._real = self._add(self._real, self.features(real_images, "real_images").features)

    def update_real(self, real_images: torch.Tensor) -> None:
        """Add real images only (reference statistics can come from another loop)."""
        self._real = self._add(self._real, self.features(real_images, "real_images").features)

    def save_real_statistics(self, path: str | Path) -> Path:
        """Save the real images' statistics with this backbone's protocol (reuse as ``reference_stats``)."""
        if self._real is None or self._real.count < 2:
            raise ValueError("no real statistics to save: call update(..., real_images=...) first")
        protocol = {**self.extractor.protocol(), "num_samples": self._real.count}
        return save_statistics(path, self._real.mean(), self._real.covariance(), protocol)

    def _reference(self) -> tuple[Any, Any, dict[str, Any]]:
        cfg = self.config
        mine = self.extractor.protocol()
        if cfg.reference_stats is not None:
            mu, sigma, theirs = load_statistics(cfg.reference_stats)
            diff = [k for k in _COMPARABLE if k in theirs and theirs.get(k) != mine.get(k)]
            if diff:
                details = "; ".join(f"{k}: stats {theirs.get(k)!r} vs now {mine.get(k)!r}" for k in diff)
                raise ValueError(f"{cfg.name}: reference_stats {cfg.reference_stats} were made under another "
                                 f"protocol ({details}); FIDs are only comparable under one protocol")
            return mu, sigma, {"reference": f"statistics file {Path(cfg.reference_stats).name}",
                               "num_real": theirs.get("num_samples")}
        if self._real is None or self._real.count < 2:
            raise ValueError(f"{cfg.name} needs real images (update(..., real_images=...)) or a "
                             "'reference_stats' file; got fewer than 2 real samples")
        return self._real.mean(), self._real.covariance(), {"reference": "real images",
                                                            "num_real": self._real.count}

    def compute(self) -> t2izoo.MetricResult:
        if self._fake is None or self._fake.count < 2:
            raise ValueError(f"{self.config.name} needs at least 2 generated images, got "
                             f"{0 if self._fake is None else self._fake.count}")
        mu, sigma, ref = self._reference()
        # the distance is >= 0; round-off on identical sets can give -1e-12
        value = max(frechet_distance(self._fake.mean(), self._fake.covariance(), mu, sigma), 0.0)
        protocol = {**self.extractor.protocol(), **ref, "num_generated": self._fake.count,
                    "statistics": "float64 mean and covariance (ddof 1)"}
        return t2izoo.MetricResult(self.config.name, value, None, protocol)


class KID(BackboneEvaluator):
    """Kernel Inception Distance over bounded, seeded reservoirs of features."""

    requires_real: ClassVar[bool] = True

    def __init__(self, config: Any, extractor: Any = None, **context: Any) -> None:
        super().__init__(config, extractor, **context)
        self.reset()

    def reset(self) -> None:
        self._fake: FeatureReservoir | None = None
        self._real: FeatureReservoir | None = None

    def _add(self, res: FeatureReservoir | None, feats: torch.Tensor, offset: int) -> FeatureReservoir:
        res = res or FeatureReservoir(feats.shape[1], self.config.max_samples, seed=self.config.seed + offset)
        res.update(feats)
        return res

    def update(self, images: torch.Tensor, prompts: Sequence[str] | None = None,
               real_images: torch.Tensor | None = None) -> None:
        self._fake = self._add(self._fake, self.features(images).features, 0)
        if real_images is not None:
            self._real = self._add(self._real, self.features(real_images, "real_images").features, 1)

    def compute(self) -> t2izoo.MetricResult:
        cfg = self.config
        if self._fake is None or self._real is None:
            raise ValueError("kid needs generated and real images (update(images, real_images=...))")
        mean, std, size = kernel_inception_distance(
            self._fake.data.numpy(), self._real.data.numpy(), subsets=cfg.subsets,
            subset_size=cfg.subset_size, seed=cfg.seed, degree=cfg.degree)
        protocol = {**self.extractor.protocol(), "num_generated": self._fake.seen, "num_real": self._real.seen,
                    "kept_per_set": cfg.max_samples, "subsets": cfg.subsets, "subset_size": size,
                    "kernel": f"(x.y/d + 1)^{cfg.degree}", "estimator": "unbiased MMD^2", "std_ddof": 0,
                    "seed": cfg.seed}
        return t2izoo.MetricResult(cfg.name, mean, std, protocol)


class InceptionScore(BackboneEvaluator):
    """exp(E KL(p(y|x) || p(y))) per split; mean and std (ddof 0) over splits."""

    def __init__(self, config: Any, extractor: Any = None, **context: Any) -> None:
        super().__init__(config, extractor, **context)
        self.reset()

    def reset(self) -> None:
        self._acc: StreamingInceptionScore | None = None

    def update(self, images: torch.Tensor, prompts: Sequence[str] | None = None,
               real_images: torch.Tensor | None = None) -> None:
        logits = self.features(images).logits
        if logits is None:
            raise ValueError(f"is: backbone {self.config.backbone!r} has no softmax classifier; "
                             "use fid-inception (the reference) or timm-inception")
        if self._acc is None:
            cfg = self.config
            self._acc = StreamingInceptionScore(logits.shape[1], cfg.splits, cfg.split_assignment,
                                                total=cfg.num_samples)
        self._acc.update(logits)

    def compute(self) -> t2izoo.MetricResult:
        if self._acc is None:
            raise ValueError("is: no images were given")
        mean, std, per_split = self._acc.compute()
        cfg = self.config
        protocol = {**self.extractor.protocol(), "num_generated": self._acc.seen, "splits": cfg.splits,
                    "split_assignment": cfg.split_assignment, "std_ddof": 0, "per_split": per_split}
        return t2izoo.MetricResult(cfg.name, mean, std, protocol)
