"""Fixtures for the hub tests: a loopback Hub, a private HF cache, and cards in a temp folder."""

from __future__ import annotations

from pathlib import Path

import pytest

import t2izoo
from t2izoo._cards import ModelCard

from .fakehub import FakeHub

# small enough that a pipeline saves and loads in milliseconds
TINY = {"encoder.buckets": 64, "encoder.dim": 16, "generator.ngf": 8, "generator.text_dim": 16,
        "generator.z_dim": 8, "generator.image_size": 32, "refiner.image_size": 32}


def tiny_config() -> dict:
    data = t2izoo.build_config("shapes-tiny", TINY).to_dict()
    data.pop("preset", None)
    return data


class CardIndex:
    """Stands in for `t2izoo._cards._index`: the real cards plus cards written by a test."""

    def __init__(self, folder: Path, real: dict[str, Path]) -> None:
        self.folder, self.real, self.extra = folder, real, {}

    def __call__(self) -> dict[str, Path]:
        return {**self.real, **self.extra}

    def cache_clear(self) -> None:
        pass

    def write(self, preset: str, *, weights: dict | None = None, metrics: dict | None = None,
              config: dict | None = None, kind: str = "pipeline", extra: dict | None = None) -> Path:
        base = t2izoo.load_card("shapes-tiny")
        path = self.folder / f"{preset}.md"
        card = ModelCard(preset=preset, summary=f"test card {preset}", config=config or tiny_config(), path=path,
                         license="apache-2.0", weights=weights, metrics=metrics or {}, body=base.body, kind=kind,
                         extra=extra or {})
        path.write_text(card.render(), encoding="utf-8")
        self.extra[preset] = path
        return path


@pytest.fixture
def cards(tmp_path, monkeypatch) -> CardIndex:
    from t2izoo import _cards

    folder = tmp_path / "cards"
    folder.mkdir()
    index = CardIndex(folder, _cards.card_paths())
    monkeypatch.setattr(_cards, "_index", index)
    return index


@pytest.fixture
def hf_cache(tmp_path, monkeypatch) -> Path:
    """A private, empty HF cache; no bundled hub folder unless a test sets one."""
    from huggingface_hub import constants

    cache = tmp_path / "hf_home" / "hub"
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr("t2izoo._hub.bundled_hub_dirs", lambda: [])
    return cache


@pytest.fixture
def fake_hub(hf_cache, monkeypatch):
    """A running loopback Hub; huggingface_hub's constants point at it and it is online.

    huggingface_hub reads HF_ENDPOINT / HF_HUB_OFFLINE into `constants` at import, so the
    in-process tests patch the constants; `test_env_vars_in_a_fresh_interpreter` checks the
    real environment-variable path in a subprocess.
    """
    from huggingface_hub import constants

    hub = FakeHub().start()
    monkeypatch.setattr(constants, "ENDPOINT", hub.endpoint)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", hub.endpoint + "/{repo_id}/resolve/{revision}/{filename}")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    yield hub
    hub.stop()
