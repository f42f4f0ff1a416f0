"""Fixtures of the ablation tests: a tiny shapes-tiny base config, clean Accelerate state."""

from __future__ import annotations

import pytest

TINY = ["generator.image_size=32", "generator.ngf=8", "generator.z_dim=8", "encoder.dim=16",
        "generator.text_dim=16", "encoder.buckets=256", "refiner.image_size=32"]


@pytest.fixture(autouse=True)
def _fresh_accelerate_state(fresh_accelerate):
    """Every test here builds its own Accelerator (the suite-wide fixture resets the singletons)."""
    yield


@pytest.fixture
def tiny_settings():
    """`AblationSettings` for a 2-step shapes-tiny run evaluated on 8 images by weightless metrics."""
    from t2izoo.ablation import AblationSettings

    def make(**kw):
        base = dict(base="shapes-tiny", overrides=list(TINY), steps=2, batch_size=4, data_size=16, n=8,
                    eval_batch_size=8, metrics=["psnr", "shapes-accuracy"], cpu=True, progress=False,
                    lr=5e-4, options=["ndf=8"])
        base.update(kw)
        return AblationSettings(**base)

    return make
