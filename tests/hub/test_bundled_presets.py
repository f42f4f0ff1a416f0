"""Every preset whose card pins weights finds them, verified, in the bundled hub/ with no network."""

from __future__ import annotations

import pytest

import t2izoo

PINNED = [name for name in t2izoo.list_models() if t2izoo.load_card(name).weights]


def test_some_presets_ship_weights():
    assert PINNED, "no model card pins bundled weights"


def test_each_bundled_repo_is_under_20_mb():
    from t2izoo._hub import bundled_hub_dirs

    sizes = {}
    for preset in PINNED:
        repo = t2izoo.load_card(preset).weights["repo"]
        folder = bundled_hub_dirs()[-1] / repo
        sizes[repo] = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert sizes and all(size < 20 * 2**20 for size in sizes.values()), sizes


def test_cards_that_share_a_repo_pin_the_same_files():
    pins: dict[str, dict] = {}
    for preset in PINNED:
        weights = t2izoo.load_card(preset).weights
        assert pins.setdefault(weights["repo"], weights) == weights, f"{preset} disagrees on {weights['repo']}"


@pytest.mark.parametrize("preset", PINNED)
def test_pinned_weights_resolve_offline_and_load_strictly(preset, tmp_path, monkeypatch):
    from t2izoo._hub import download_preset_weights

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty cache: only hub/ can answer
    folder = download_preset_weights(preset, local_files_only=True)
    card = t2izoo.load_card(preset)
    if card.kind != "pipeline":  # a component card (shapes-clip, shapes-fid, ...): the component loads
        component = t2izoo.build(preset, pretrained=True, local_files_only=True)
        assert component.kind == card.kind
        return
    assert (folder / "pipeline.json").is_file()
    pipe = t2izoo.build(preset, pretrained=True, local_files_only=True)  # strict key matching
    out = pipe(["a big red circle"], seed=0)
    assert out.images[0].size[0] > 0
