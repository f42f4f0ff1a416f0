"""Every preset whose card pins weights finds them, verified, in the bundled hub/ with no network."""

from __future__ import annotations

import pytest

import t2izoo

PINNED = [name for name in t2izoo.list_models() if t2izoo.load_card(name).weights]


def test_some_presets_ship_weights():
    assert PINNED, "no model card pins bundled weights"


@pytest.mark.parametrize("preset", PINNED)
def test_pinned_weights_resolve_offline_and_load_strictly(preset, tmp_path, monkeypatch):
    from t2izoo._hub import download_preset_weights

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty cache: only hub/ can answer
    folder = download_preset_weights(preset, local_files_only=True)
    assert (folder / "pipeline.json").is_file()
    pipe = t2izoo.build(preset, pretrained=True, local_files_only=True)  # strict key matching
    out = pipe(["a big red circle"], seed=0)
    assert out.images[0].size[0] > 0
