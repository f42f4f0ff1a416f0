"""Weights named in a model card: download through huggingface_hub, pinned and verified.

A card's ``weights`` block::

    weights:
      repo: t2izoo/shapes-tiny          # a Hub repo id
      revision: 0123abcd...              # pinned commit
      files:                             # every file, with its sha256
        pipeline.json: 9f2c...
        generator/model.safetensors: 41aa...

Each file is fetched with `huggingface_hub.hf_hub_download` (so ``HF_ENDPOINT``,
``HF_HUB_OFFLINE`` and the cache behave as users expect) and its sha256 is checked before use.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["download_preset_weights", "sha256_file", "WeightsError"]


class WeightsError(RuntimeError):
    """Weights are unavailable or do not match their pinned checksum."""


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def download_preset_weights(preset: str, *, local_files_only: bool | None = None) -> Path:
    """Fetch (or find in the cache) every weight file a preset's card pins; return the folder.

    Example:
        >>> folder = download_preset_weights("shapes-tiny")  # doctest: +SKIP
    """
    from ._cards import load_card

    card = load_card(preset)
    weights = card.weights
    if not weights:
        raise WeightsError(
            f"preset '{preset}' publishes no weights (its card {card.path} has `weights: null`). "
            f"Train it with `t2izoo train {preset} --out DIR` and load it with "
            f"build('{preset}', pretrained='DIR/final')."
        )
    missing = [k for k in ("repo", "revision", "files") if not weights.get(k)]
    if missing:
        raise WeightsError(f"{card.path}: the weights block lacks {', '.join(missing)}")
    from huggingface_hub import hf_hub_download

    folder: Path | None = None
    for filename, expected in weights["files"].items():
        try:
            path = Path(hf_hub_download(
                weights["repo"], filename, revision=weights["revision"], local_files_only=bool(local_files_only)
            ))
        except Exception as err:  # huggingface_hub raises several types; all mean "not available"
            raise WeightsError(
                f"could not get {filename} of {weights['repo']}@{weights['revision'][:12]} for preset "
                f"'{preset}': {type(err).__name__}: {err}"
            ) from err
        actual = sha256_file(path)
        if actual != expected:
            raise WeightsError(
                f"{filename} of {weights['repo']}@{weights['revision'][:12]} has sha256 {actual}, but the "
                f"card pins {expected}; the file was not used. Delete it from the cache and retry."
            )
        root = path
        for _ in Path(filename).parts:
            root = root.parent
        folder = root
    assert folder is not None
    return folder
