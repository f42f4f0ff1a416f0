"""Inception Score and KID on constructed inputs with known answers."""

import numpy as np
import pytest
import torch

from t2izoo.evaluation import StreamingInceptionScore, kernel_inception_distance, polynomial_mmd_unbiased


def _reference_is(logits: np.ndarray, splits: int) -> tuple[float, float]:
    # straight from the definition, contiguous chunks as the original code
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    n = len(p)
    scores = []
    for k in range(splits):
        part = p[k * n // splits:(k + 1) * n // splits]
        py = part.mean(0, keepdims=True)
        kl = (part * (np.log(part) - np.log(py))).sum(1).mean()
        scores.append(np.exp(kl))
    return float(np.mean(scores)), float(np.std(scores))


def test_confident_uniform_predictions_score_k():
    k = 5
    acc = StreamingInceptionScore(k, splits=2)
    acc.update(torch.eye(k).repeat(4, 1) * 100)
    mean, std, _ = acc.compute()
    assert mean == pytest.approx(k, rel=1e-6) and std == pytest.approx(0, abs=1e-6)


def test_identical_predictions_score_one():
    acc = StreamingInceptionScore(7, splits=3)
    acc.update(torch.randn(1, 7).repeat(30, 1))
    assert acc.compute()[0] == pytest.approx(1.0, abs=1e-9)


def test_contiguous_splits_match_reference_and_std_is_ddof0():
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=3, size=(103, 10))
    acc = StreamingInceptionScore(10, splits=10, assignment="contiguous", total=103)
    for chunk in np.array_split(logits, 6):  # streamed in uneven batches
        acc.update(torch.from_numpy(chunk))
    mean, std, per_split = acc.compute()
    ref_mean, ref_std = _reference_is(logits, 10)
    assert mean == pytest.approx(ref_mean, rel=1e-10)
    assert std == pytest.approx(ref_std, rel=1e-8)
    assert std != pytest.approx(float(np.std(per_split, ddof=1)), rel=1e-3)  # not torchmetrics' ddof 1


def test_contiguous_needs_total():
    with pytest.raises(ValueError, match="total"):
        StreamingInceptionScore(3, assignment="contiguous")


def test_polynomial_mmd_matches_double_loop():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(6, 4)), rng.normal(size=(5, 4)) + 1

    def k(a, b):
        return (a @ b / 4 + 1) ** 3

    xx = sum(k(x[i], x[j]) for i in range(6) for j in range(6) if i != j) / 30
    yy = sum(k(y[i], y[j]) for i in range(5) for j in range(5) if i != j) / 20
    xy = sum(k(x[i], y[j]) for i in range(6) for j in range(5)) / 30
    assert polynomial_mmd_unbiased(x, y) == pytest.approx(xx + yy - 2 * xy, rel=1e-12)


def test_kid_near_zero_for_same_distribution_and_positive_for_shift():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(400, 8)), rng.normal(size=(400, 8))
    same, _, size = kernel_inception_distance(a, b, subsets=20, subset_size=200)
    shifted, _, _ = kernel_inception_distance(a, b + 1.0, subsets=20, subset_size=200)
    assert size == 200 and abs(same) < 0.02 and shifted > 10 * abs(same) + 0.1
