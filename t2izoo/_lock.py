"""Lock files: freeze what each preset's card pins, and refuse to build when it drifts.

``t2izoo lock shapes-tiny shapes-attngan > t2izoo.lock`` writes JSON::

    {
      "t2izoo_lock": 1,
      "presets": {
        "shapes-tiny": {
          "config_sha256": "…",                      # the card's config, canonical JSON
          "weights": {"repo": "t2izoo/shapes-tiny",
                      "revision": "…",                 # as the card pinned it
                      "commit": "…",                   # the commit it resolved to
                      "files": {"pipeline.json": "<sha256>", …}}
        }
      }
    }

``build(NAME, lock="t2izoo.lock")`` compares the card with its entry (config, repo, revision, file
list and hashes) and loads weights pinned to the locked commit and hashes, so a card edited after
locking, or a file that changed on the Hub, is an error naming preset, field/file, expected and
found. This module does not import torch.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ._hub import WeightsError, WeightsSpec

__all__ = ["LockError", "LOCK_VERSION", "config_digest", "lock_entry", "make_lock", "read_lock", "check_lock",
           "locked_spec"]

LOCK_VERSION = 1


class LockError(WeightsError):
    """A preset drifted from its lock file entry (or the lock file is unusable)."""


def config_digest(config: dict[str, Any]) -> str:
    """sha256 of a config in canonical JSON (sorted keys, no whitespace)."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def lock_entry(preset: str, *, verify: bool = True, local_files_only: bool | None = None) -> dict[str, Any]:
    """One preset's lock entry; with ``verify`` its weights are resolved and checked first.

    Example:
        >>> lock_entry("shapes-tiny", verify=False)["weights"] is None  # doctest: +SKIP
        True
    """
    from ._cards import load_card
    from ._hub import resolve_weights

    card = load_card(preset)
    entry: dict[str, Any] = {"config_sha256": config_digest(card.config), "weights": None}
    if card.weights:
        spec = WeightsSpec.parse(card.weights, origin=str(card.path))
        commit = spec.revision
        if verify:
            commit = resolve_weights(spec, preset=preset, local_files_only=local_files_only).commit
        entry["weights"] = {"repo": spec.repo, "revision": spec.revision, "commit": commit,
                            "files": dict(sorted(spec.files.items()))}
    return entry


def make_lock(presets: list[str], *, verify: bool = True, local_files_only: bool | None = None) -> dict[str, Any]:
    """A whole lock document for ``presets``.

    Example:
        >>> make_lock(["shapes-tiny"], verify=False)["t2izoo_lock"]
        1
    """
    return {
        "t2izoo_lock": LOCK_VERSION,
        "presets": {p: lock_entry(p, verify=verify, local_files_only=local_files_only) for p in presets},
    }


def read_lock(path: str | Path) -> dict[str, Any]:
    """Parse and sanity-check a lock file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LockError(f"lock file {path} does not exist (write one with `t2izoo lock PRESET > {path}`)") from None
    except json.JSONDecodeError as err:
        raise LockError(f"lock file {path} is not valid JSON: {err}") from err
    if not isinstance(data, dict) or data.get("t2izoo_lock") != LOCK_VERSION or not isinstance(
            data.get("presets"), dict):
        raise LockError(f"lock file {path} is not a version-{LOCK_VERSION} t2izoo lock (keys t2izoo_lock, presets)")
    return data


def check_lock(preset: str, lock: str | Path | dict[str, Any], card: Any = None) -> dict[str, Any]:
    """Raise `LockError` if ``preset``'s card differs from its lock entry; return the entry.

    Example:
        >>> check_lock("shapes-tiny", make_lock(["shapes-tiny"], verify=False))["weights"] is None  # doctest: +SKIP
        True
    """
    from ._cards import load_card

    origin = "lock" if isinstance(lock, dict) else str(lock)
    data = lock if isinstance(lock, dict) else read_lock(lock)
    if preset not in data["presets"]:
        raise LockError(f"preset '{preset}' is not in {origin} (it locks: {', '.join(data['presets']) or 'nothing'})")
    entry = data["presets"][preset]
    card = card or load_card(preset)

    def drift(what: str, expected: Any, found: Any) -> LockError:
        return LockError(f"preset '{preset}' drifted from {origin}: {what}: expected {expected}, found {found} "
                         f"(in {card.path}). Re-lock with `t2izoo lock {preset}` if the change is intended.")

    found_config = config_digest(card.config)
    if entry.get("config_sha256") != found_config:
        raise drift("config sha256", entry.get("config_sha256"), found_config)
    locked, current = entry.get("weights"), card.weights
    if (locked is None) != (not current):
        raise drift("weights", "none" if locked is None else f"{locked['repo']}@{locked['revision']}",
                    "none" if not current else f"{current.get('repo')}@{current.get('revision')}")
    if locked is None:
        return entry
    for key in ("repo", "revision"):
        if locked.get(key) != current.get(key):
            raise drift(key, locked.get(key), current.get(key))
    files, now = locked.get("files") or {}, current.get("files") or {}
    for name in sorted(set(files) | set(now)):
        if files.get(name) != now.get(name):
            raise drift(f"file {name} sha256", files.get(name, "absent"), now.get(name, "absent"))
    return entry


def locked_spec(preset: str, entry: dict[str, Any], origin: str) -> WeightsSpec:
    """The weights to load under a lock: its resolved commit and its hashes."""
    w = entry["weights"]
    return WeightsSpec.parse({"repo": w["repo"], "revision": w.get("commit") or w["revision"], "files": w["files"]},
                             origin=f"{origin} (preset '{preset}')")
