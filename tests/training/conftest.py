"""Shared fixtures of the training tests: a tiny pipeline, a tiny shapes set, clean Accelerate state."""

from __future__ import annotations

import pytest
import torch

TINY_OVERRIDES = {
    "generator.image_size": 32,
    "generator.ngf": 8,
    "generator.z_dim": 8,
    "generator.fusion.text_channels": 8,
    "encoder.buckets": 256,
    "encoder.dim": 16,
    "generator.text_dim": 16,
    "refiner.image_size": 32,
}


@pytest.fixture(autouse=True)
def _fresh_accelerate_state(fresh_accelerate):
    """Every test here builds its own Accelerator (the suite-wide fixture resets the singletons)."""
    yield


@pytest.fixture
def make_pipeline():
    import t2izoo

    def make(seed: int = 0):
        torch.manual_seed(seed)
        return t2izoo.build("shapes-tiny", dict(TINY_OVERRIDES))

    return make


@pytest.fixture(scope="session")
def tiny_shapes():
    from t2izoo.data.shapes import ShapesDataset

    return ShapesDataset("train", size=24, resolutions=(16, 32))
