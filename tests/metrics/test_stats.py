"""Frechet distance and streaming statistics against independent computations."""

import numpy as np
import pytest
import scipy.linalg
import torch

from t2izoo.evaluation import StreamingMoments, frechet_distance, load_statistics, save_statistics


def _scipy_fd(mu1, s1, mu2, s2):
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    covmean = np.real(covmean)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def test_frechet_closed_form_for_commuting_covariances():
    # diagonal covariances: FD = |mu1-mu2|^2 + sum (sqrt(a) - sqrt(b))^2
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.1, 3, 16), rng.uniform(0.1, 3, 16)
    mu1, mu2 = rng.normal(size=16), rng.normal(size=16)
    expected = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-10)


def test_frechet_matches_scipy_sqrtm_on_gaussian_features():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(500, 32)) @ rng.normal(size=(32, 32))
    y = rng.normal(size=(400, 32)) @ rng.normal(size=(32, 32)) + 0.5
    mu1, s1 = x.mean(0), np.cov(x, rowvar=False)
    mu2, s2 = y.mean(0), np.cov(y, rowvar=False)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(_scipy_fd(mu1, s1, mu2, s2), rel=1e-6)


def test_streaming_moments_match_numpy_in_float64():
    rng = np.random.default_rng(2)
    x = rng.normal(loc=1e4, size=(1000, 8))  # large offset: naive sums would lose precision
    m = StreamingMoments(8)
    for chunk in np.array_split(x, 7):
        m.update(torch.from_numpy(chunk))
    assert m.count == 1000
    np.testing.assert_allclose(m.mean(), x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(m.covariance(), np.cov(x, rowvar=False), rtol=1e-8, atol=1e-10)


def test_merge_equals_single_stream():
    rng = np.random.default_rng(3)
    x = torch.from_numpy(rng.normal(size=(300, 5)))
    a, b, whole = StreamingMoments(5), StreamingMoments(5), StreamingMoments(5)
    a.update(x[:100])
    b.update(x[100:])
    whole.update(x)
    a.merge(b)
    np.testing.assert_allclose(a.covariance(), whole.covariance(), rtol=1e-12)


def test_statistics_round_trip_keeps_protocol(tmp_path):
    path = save_statistics(tmp_path / "ref.npz", np.zeros(3), np.eye(3), {"backbone": "x", "resize": "bilinear"})
    mu, sigma, proto = load_statistics(path)
    assert proto == {"backbone": "x", "resize": "bilinear"} and sigma.shape == (3, 3)
