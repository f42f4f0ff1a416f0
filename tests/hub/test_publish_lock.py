"""publish -> bundled hub/ -> build(pretrained=True) with no network; lock files refuse drift."""

from __future__ import annotations

import json

import pytest

import t2izoo
from t2izoo import _hub
from t2izoo._cards import load_card
from t2izoo._lock import LockError, make_lock
from t2izoo._publish import PublishError, publish
from t2izoo.cli import main

from .helpers import same_weights, saved_pipeline

REAL_BUNDLED_DIRS = _hub.bundled_hub_dirs


@pytest.fixture
def offline(hf_cache, monkeypatch, tmp_path):
    """No network, an empty HF cache, and the bundled folder found through T2IZOO_HUB_DIR."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(_hub, "bundled_hub_dirs", REAL_BUNDLED_DIRS)
    monkeypatch.setenv("T2IZOO_HUB_DIR", str(tmp_path / "hub"))
    return tmp_path / "hub"


@pytest.fixture
def run_dir(tmp_path, cards):
    cards.write("pub-tiny")
    return saved_pipeline(tmp_path / "runs" / "pub-tiny" / "final", seed=5)


def test_publish_then_build_offline_from_bundled_hub(run_dir, offline):
    rc = main(["publish", str(run_dir), "--preset", "pub-tiny", "--hub-dir", str(offline)])
    assert rc == 0
    card = load_card("pub-tiny")
    w = card.weights
    assert w["repo"] == "t2izoo/pub-tiny" and len(w["revision"]) == 40
    assert set(w["files"]) == {"pipeline.json", "encoder/config.json", "encoder/model.safetensors",
                               "generator/config.json", "generator/model.safetensors",
                               "refiner/config.json", "refiner/model.safetensors"}
    folder = offline / "t2izoo" / "pub-tiny"
    assert (folder / "generator" / "model.safetensors").is_file()
    assert "revision: " + w["revision"] in (folder / "README.md").read_text()

    pipe = t2izoo.build("pub-tiny", pretrained=True)
    assert same_weights(pipe, t2izoo.Text2ImagePipeline.from_pretrained(run_dir))
    resolved = _hub.resolve_weights(_hub.WeightsSpec.parse(w), preset="pub-tiny")
    assert set(resolved.sources.values()) == {"bundled"} and resolved.commit == w["revision"]

    # publishing identical content again gives the same revision (a content hash)
    again = publish(run_dir, "pub-tiny", hub_dir=offline)
    assert again["revision"] == w["revision"]


def test_stale_bundled_file_is_skipped_and_named(run_dir, offline):
    publish(run_dir, "pub-tiny", hub_dir=offline)
    target = offline / "t2izoo" / "pub-tiny" / "generator" / "model.safetensors"
    target.write_bytes(target.read_bytes()[:-4] + b"\0\0\0\0")
    with pytest.raises(_hub.WeightsError, match="stale") as err:
        t2izoo.build("pub-tiny", pretrained=True)
    assert "generator/model.safetensors" in str(err.value) and str(target) in str(err.value)


def test_publish_refuses_a_run_with_another_config(tmp_path, cards, offline):
    cards.write("pub-other", config=t2izoo.build_config("shapes-tiny").to_dict() | {"preset": None})
    run = saved_pipeline(tmp_path / "run", seed=0)
    with pytest.raises(PublishError, match="encoder.buckets: card 4096, run 64"):
        publish(run, "pub-other", hub_dir=offline)
    block = publish(run, "pub-other", hub_dir=offline, update_config=True)
    assert load_card("pub-other").config["encoder"]["buckets"] == 64
    assert t2izoo.build("pub-other", pretrained=True) is not None and block["files"]


def test_lock_then_build_refuses_drift(run_dir, offline, tmp_path, capsys):
    publish(run_dir, "pub-tiny", hub_dir=offline)
    assert main(["lock", "pub-tiny", "shapes-tiny"]) == 0
    lock_text = capsys.readouterr().out
    lock = json.loads(lock_text)
    entry = lock["presets"]["pub-tiny"]["weights"]
    card = load_card("pub-tiny")
    assert entry["repo"] == card.weights["repo"] and entry["commit"] == card.weights["revision"]
    assert entry["files"] == card.weights["files"]
    assert lock["presets"]["shapes-tiny"]["weights"] is None
    lock_path = tmp_path / "t2izoo.lock"
    lock_path.write_text(lock_text)

    assert same_weights(t2izoo.build("pub-tiny", pretrained=True, lock=lock_path),
                        t2izoo.Text2ImagePipeline.from_pretrained(run_dir))

    # the card moves to another revision: refused, naming preset, field, expected and found
    card.weights["revision"] = "e" * 40
    card.path.write_text(card.render())
    with pytest.raises(LockError) as err:
        t2izoo.build("pub-tiny", pretrained=True, lock=lock_path)
    msg = str(err.value)
    assert "'pub-tiny'" in msg and "revision" in msg and entry["revision"] in msg and "e" * 40 in msg

    # a file hash differs
    card.weights["revision"] = entry["revision"]
    card.weights["files"]["generator/model.safetensors"] = "d" * 64
    card.path.write_text(card.render())
    with pytest.raises(LockError, match="file generator/model.safetensors sha256: expected [0-9a-f]{64}, found d{64}"):
        t2izoo.build("pub-tiny", lock=lock_path)

    # a preset the lock does not know
    with pytest.raises(LockError, match="'shapes-attngan' is not in"):
        t2izoo.build("shapes-attngan", lock=lock_path)


def test_locked_hash_is_checked_on_the_files_too(run_dir, offline, tmp_path):
    publish(run_dir, "pub-tiny", hub_dir=offline)
    lock = make_lock(["pub-tiny"])
    # the card and the lock agree, but the bundled file no longer matches what both pin
    target = offline / "t2izoo" / "pub-tiny" / "encoder" / "model.safetensors"
    target.write_bytes(b"x" + target.read_bytes()[1:])
    path = tmp_path / "l.json"
    path.write_text(json.dumps(lock))
    with pytest.raises(_hub.WeightsError, match="encoder/model.safetensors"):
        t2izoo.build("pub-tiny", pretrained=True, lock=path)


def test_config_drift_and_bad_lock_files(tmp_path, cards):
    cards.write("pub-cfg")
    lock = make_lock(["pub-cfg"], verify=False)
    card = load_card("pub-cfg")
    card.config["generator"]["ngf"] = 16
    card.path.write_text(card.render())
    path = tmp_path / "l.json"
    path.write_text(json.dumps(lock))
    with pytest.raises(LockError, match="config sha256"):
        t2izoo.build("pub-cfg", lock=path)
    path.write_text("{not json")
    with pytest.raises(LockError, match="not valid JSON"):
        t2izoo.build("pub-cfg", lock=path)
    with pytest.raises(LockError, match="does not exist"):
        t2izoo.build("pub-cfg", lock=tmp_path / "missing.lock")
