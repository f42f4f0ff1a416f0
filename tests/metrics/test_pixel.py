"""SSIM and PSNR against scikit-image."""

import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

import t2izoo


def _pair(seed=0, n=3, side=24):
    g = torch.Generator().manual_seed(seed)
    real = torch.rand(n, 3, side, side, generator=g, dtype=torch.float64) * 2 - 1
    fake = (real + 0.2 * torch.randn(real.shape, generator=g, dtype=torch.float64)).clamp(-1, 1)
    return fake, real


def test_ssim_matches_skimage_with_explicit_data_range():
    fake, real = _pair()
    ev = t2izoo.create_component("evaluator", "ssim")
    ev.update(fake[:2], real_images=real[:2])
    ev.update(fake[2:], real_images=real[2:])
    f01, r01 = ((fake + 1) / 2).numpy(), ((real + 1) / 2).numpy()
    ref = [structural_similarity(r01[i], f01[i], channel_axis=0, gaussian_weights=True, sigma=1.5,
                                 use_sample_covariance=False, data_range=1.0) for i in range(3)]
    result = ev.compute()
    assert result.value == pytest.approx(np.mean(ref), abs=1e-9)
    assert result.std == pytest.approx(np.std(ref), abs=1e-9)
    assert result.protocol["data_range"] == 1.0


def test_ssim_of_identical_images_is_one_and_needs_real_images():
    _, real = _pair(1)
    ev = t2izoo.create_component("evaluator", "ssim")
    ev.update(real, real_images=real)
    assert ev.compute().value == pytest.approx(1.0, abs=1e-12)
    with pytest.raises(ValueError, match="real_images"):
        ev.update(real)


def test_psnr_matches_skimage():
    fake, real = _pair(2)
    ev = t2izoo.create_component("evaluator", "psnr")
    ev.update(fake, real_images=real)
    f01, r01 = ((fake + 1) / 2).numpy(), ((real + 1) / 2).numpy()
    ref = [peak_signal_noise_ratio(r01[i], f01[i], data_range=1.0) for i in range(3)]
    assert ev.compute().value == pytest.approx(np.mean(ref), rel=1e-12)
