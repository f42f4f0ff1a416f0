"""push_to_hub / from_pretrained(repo, revision=...) through the loopback Hub's commit API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import t2izoo
from t2izoo._hub import WeightsError

from .conftest import tiny_config
from .helpers import repo_files, same_weights, saved_pipeline, weights_block


def test_pipeline_push_then_from_pretrained_at_each_revision(fake_hub, tmp_path):
    import torch

    torch.manual_seed(0)
    first = t2izoo.build(tiny_config())
    info = first.push_to_hub("me/pushed")
    assert fake_hub.resolve("me/pushed", "main") == info.oid
    stored = fake_hub.repos["me/pushed"]["commits"][info.oid]
    assert {"pipeline.json", "README.md", "encoder/config.json", "encoder/model.safetensors",
            "generator/model.safetensors", "refiner/config.json"} <= set(stored)
    assert json.loads(stored["generator/config.json"])["name"] == "tiny-conv"
    assert "library_name: t2izoo" in stored["README.md"].decode()
    assert ("POST", "/api/models/me/pushed/preupload/main") in fake_hub.requests

    torch.manual_seed(1)
    second = t2izoo.build(tiny_config())
    info2 = second.push_to_hub("me/pushed", commit_message="retrained")  # the repo exists: exist_ok
    assert info2.oid != info.oid

    assert same_weights(first, t2izoo.Text2ImagePipeline.from_pretrained("me/pushed", revision=info.oid))
    assert same_weights(second, t2izoo.Text2ImagePipeline.from_pretrained("me/pushed"))  # main = latest
    assert fake_hub.gets("/api/models/me/pushed/tree/") >= 1  # snapshot listed the files


def test_component_push_and_from_pretrained(fake_hub):
    enc = t2izoo.create_component("encoder", {"name": "hashed-embedding", "buckets": 32, "dim": 8})
    info = enc.push_to_hub("me/encoder")
    again = t2izoo.Encoder.from_pretrained("me/encoder", revision=info.oid)
    assert type(again) is type(enc) and same_weights(enc, again)
    also = t2izoo.Component.from_pretrained("me/encoder")  # kind read from the safetensors metadata
    assert same_weights(enc, also)
    with pytest.raises(TypeError, match="kind 'encoder', not 'generator'"):
        t2izoo.Generator.from_pretrained("me/encoder")


def test_from_pretrained_skips_pickle_files(fake_hub, tmp_path):
    folder = saved_pipeline(tmp_path / "m", seed=0)
    files = repo_files(folder)
    files["generator/pytorch_model.bin"] = b"not for unpickling"
    fake_hub.commit("me/mixed", files)
    t2izoo.Text2ImagePipeline.from_pretrained("me/mixed")
    assert fake_hub.gets("pytorch_model.bin") == 0


def test_missing_repo_is_a_clear_error(fake_hub):
    with pytest.raises(WeightsError, match="'me/absent'"):
        t2izoo.Text2ImagePipeline.from_pretrained("me/absent")


def test_push_request_building_with_a_fake_api(tmp_path):
    """The commit push_to_hub asks for, seen by a stand-in HfApi (no server)."""

    class FakeApi:
        def __init__(self):
            self.calls = []

        def create_repo(self, repo_id, **kw):
            self.calls.append(("create_repo", repo_id, kw))

        def create_commit(self, repo_id, operations, **kw):
            self.calls.append(("create_commit", repo_id, sorted(op.path_in_repo for op in operations), kw))
            return "ok"

    api = FakeApi()
    pipe = t2izoo.build(tiny_config())
    assert pipe.push_to_hub("org/x", revision="dev", private=True, api=api) == "ok"
    (_, repo, kw), (_, repo2, paths, ckw) = api.calls
    assert repo == repo2 == "org/x" and kw["exist_ok"] and kw["private"]
    assert ckw["revision"] == "dev" and "README.md" in paths and "generator/model.safetensors" in paths


def test_env_vars_in_a_fresh_interpreter(fake_hub, cards, tmp_path):
    """HF_ENDPOINT / HF_HOME / HF_HUB_OFFLINE as a user sets them (read at import by huggingface_hub)."""
    folder = saved_pipeline(tmp_path / "m", seed=3)
    rev = fake_hub.commit("t2izoo/env", repo_files(folder))
    card = cards.write("hub-env", weights=weights_block(folder, "t2izoo/env", rev))
    code = (
        "import sys, t2izoo\n"
        "from t2izoo import _cards\n"
        "from pathlib import Path\n"
        f"_cards._index = lambda: {{'hub-env': Path({str(card)!r})}}\n"
        "_cards._index.cache_clear = lambda: None\n"
        "pipe = t2izoo.build('hub-env', pretrained=True)\n"
        "print(float(sum(p.double().sum() for p in pipe.parameters())))\n"
    )
    env = {**os.environ, "HF_ENDPOINT": fake_hub.endpoint, "HF_HOME": str(tmp_path / "home"),
           "HF_HUB_OFFLINE": "0", "T2IZOO_HUB_DIR": "", "OMP_NUM_THREADS": "1"}
    env.pop("HF_HUB_CACHE", None)
    run = lambda e: subprocess.run([sys.executable, "-c", code], env=e, capture_output=True, text=True,  # noqa: E731
                                   timeout=300, cwd=tmp_path)
    online = run(env)
    assert online.returncode == 0, online.stderr
    expected = float(sum(p.detach().double().sum() for p in t2izoo.Text2ImagePipeline.from_pretrained(folder).parameters()))
    assert abs(float(online.stdout.split()[-1]) - expected) < 1e-6
    assert any(p.startswith("/cdn/") for _, p in fake_hub.requests)
    assert (Path(tmp_path / "home" / "hub" / "models--t2izoo--env")).is_dir()
    before = len(fake_hub.requests)
    offline = run({**env, "HF_HUB_OFFLINE": "1"})
    assert offline.returncode == 0, offline.stderr
    assert len(fake_hub.requests) == before
