"""build(NAME, pretrained=True) against a loopback Hub: the real huggingface_hub download path."""

from __future__ import annotations

import pytest

import t2izoo
from t2izoo._hub import WeightsError

from .helpers import repo_files, same_weights, saved_pipeline, weights_block

REPO = "t2izoo/shapes-test"


@pytest.fixture
def published(tmp_path, fake_hub, cards):
    """Two revisions of one repo with different weights, and a card pinning each."""
    one, two = saved_pipeline(tmp_path / "one", seed=1), saved_pipeline(tmp_path / "two", seed=2)
    rev1 = fake_hub.commit(REPO, repo_files(one))
    rev2 = fake_hub.commit(REPO, repo_files(two))
    cards.write("hub-one", weights=weights_block(one, REPO, rev1))
    cards.write("hub-two", weights=weights_block(two, REPO, rev2))
    return {"one": one, "two": two, "rev1": rev1, "rev2": rev2}


def test_first_download_then_cache_hit_without_a_second_get(published, fake_hub):
    pipe = t2izoo.build("hub-one", pretrained=True)
    assert same_weights(pipe, t2izoo.Text2ImagePipeline.from_pretrained(published["one"]))
    weights = fake_hub.gets("/cdn/") + fake_hub.gets("/resolve/")
    assert fake_hub.gets("/cdn/") == 3  # three safetensors, served like LFS files through the "CDN"
    assert fake_hub.gets("/resolve/") >= 1  # pipeline.json and configs: plain files
    before = len(fake_hub.requests)
    again = t2izoo.build("hub-one", pretrained=True)
    assert same_weights(pipe, again)
    assert fake_hub.gets("/cdn/") + fake_hub.gets("/resolve/") == weights
    assert len(fake_hub.requests) == before, fake_hub.requests[before:]  # not even a HEAD


def test_revision_pin_selects_that_commits_content(published):
    one = t2izoo.build("hub-one", pretrained=True)
    two = t2izoo.build("hub-two", pretrained=True)
    assert same_weights(one, t2izoo.Text2ImagePipeline.from_pretrained(published["one"]))
    assert same_weights(two, t2izoo.Text2ImagePipeline.from_pretrained(published["two"]))
    assert not same_weights(one, two)


def test_branch_revision_resolves_to_its_commit(published, cards):
    from t2izoo._hub import WeightsSpec, resolve_weights

    block = weights_block(published["two"], REPO, "main")
    resolved = resolve_weights(WeightsSpec.parse(block), preset="x")
    assert resolved.commit == published["rev2"]
    assert set(resolved.sources.values()) == {"download"}


def test_sha256_mismatch_is_an_error_and_the_file_is_not_kept(published, cards, hf_cache):
    from huggingface_hub import try_to_load_from_cache

    block = weights_block(published["one"], REPO, published["rev1"])
    block["files"]["generator/model.safetensors"] = "0" * 64  # the server holds something else
    cards.write("hub-bad", weights=block)
    with pytest.raises(WeightsError) as err:
        t2izoo.build("hub-bad", pretrained=True)
    msg = str(err.value)
    assert "generator/model.safetensors" in msg and REPO in msg and "0" * 64 in msg and "not used" in msg
    assert try_to_load_from_cache(REPO, "generator/model.safetensors", revision=published["rev1"]) is None
    blobs = {p.name for p in (hf_cache / "models--t2izoo--shapes-test" / "blobs").iterdir()}
    from t2izoo._hub import sha256_file

    wrong = sha256_file(published["one"] / "generator" / "model.safetensors")
    assert wrong not in blobs  # the LFS blob (named by its sha256) is gone too


def test_tampered_cache_entry_is_evicted_and_fetched_again(published, fake_hub):
    from huggingface_hub import try_to_load_from_cache

    t2izoo.build("hub-one", pretrained=True)
    cached = try_to_load_from_cache(REPO, "encoder/model.safetensors", revision=published["rev1"])
    with open(cached, "r+b") as fh:  # flip bytes in the cached blob
        fh.seek(100)
        fh.write(b"\xff\xff\xff\xff")
    gets = fake_hub.gets("/cdn/")
    pipe = t2izoo.build("hub-one", pretrained=True)
    assert fake_hub.gets("/cdn/") == gets + 1  # only the tampered file came again
    assert same_weights(pipe, t2izoo.Text2ImagePipeline.from_pretrained(published["one"]))


@pytest.mark.parametrize("what, expected", [
    ("repo", "repository 't2izoo/nope' not found"),
    ("revision", "has no revision"),
    ("file", "has no file 'extra/model.safetensors'"),
])
def test_404_names_repo_file_and_revision(published, cards, what, expected):
    block = weights_block(published["one"], REPO, published["rev1"])
    if what == "repo":
        block["repo"] = "t2izoo/nope"
    elif what == "revision":
        block["revision"] = "f" * 40
    else:
        block["files"]["extra/model.safetensors"] = "1" * 64
    cards.write("hub-404", weights=block)
    with pytest.raises(WeightsError, match=expected) as err:
        t2izoo.build("hub-404", pretrained=True)
    msg = str(err.value)
    assert block["repo"] in msg and block["revision"] in msg and "hub-404" in msg


def test_offline_uses_the_cache_and_names_a_missing_file(published, cards, fake_hub, monkeypatch):
    from huggingface_hub import constants

    t2izoo.build("hub-one", pretrained=True)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    before = len(fake_hub.requests)
    t2izoo.build("hub-one", pretrained=True)
    assert len(fake_hub.requests) == before
    with pytest.raises(WeightsError, match="HF_HUB_OFFLINE=1") as err:
        t2izoo.build("hub-two", pretrained=True)  # rev2 was never downloaded
    msg = str(err.value)
    assert "pipeline.json" in msg and "generator/model.safetensors" in msg and published["rev2"][:12] in msg
    assert len(fake_hub.requests) == before
    # local_files_only does the same while online
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    with pytest.raises(WeightsError, match="local_files_only=True"):
        t2izoo.build("hub-two", pretrained=True, local_files_only=True)
    assert len(fake_hub.requests) == before


def test_pickle_files_are_refused_unless_allowed(cards, hf_cache):
    cards.write("hub-pickle", weights={"repo": REPO, "revision": "a" * 40,
                                       "files": {"generator/pytorch_model.bin": "b" * 64}})
    with pytest.raises(WeightsError, match="pickle checkpoint; t2izoo loads safetensors only"):
        t2izoo.build("hub-pickle", pretrained=True)


def test_no_weights_block_says_how_to_get_weights(cards):
    cards.write("hub-none")
    with pytest.raises(WeightsError, match="publishes no weights"):
        t2izoo.build("hub-none", pretrained=True)
