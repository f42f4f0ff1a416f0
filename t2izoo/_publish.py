"""Publish a trained pipeline: copy it into ``hub/<repo>/`` and pin it in the preset's card.

``t2izoo publish runs/shapes-tiny/final --preset shapes-tiny`` copies the folder written by
``save_pretrained`` into the bundled hub folder in Hub repository layout, computes each file's
sha256 and a content revision, and writes ``weights: {repo, revision, files}`` into the card,
so ``build("shapes-tiny", pretrained=True)`` then works on a fresh clone with no network.
With ``push=True`` the same folder is committed to the Hub and the card pins that commit.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from ._fs import replace_directory
from ._hub import PICKLE_SUFFIXES, WeightsError, content_revision, push_folder, sha256_file

__all__ = ["PublishError", "publish", "default_hub_dir", "config_differences"]


class PublishError(WeightsError):
    """A run folder cannot be published for this preset."""


def default_hub_dir() -> Path:
    """The checkout's ``hub/`` folder (beside ``model_cards/``)."""
    from ._cards import builtin_card_dir

    return builtin_card_dir().parent / "hub"


def config_differences(a: Any, b: Any, prefix: str = "") -> list[str]:
    """Dotted paths where two config dicts differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for key in sorted(set(a) | set(b)):
            out += config_differences(a.get(key), b.get(key), f"{prefix}{key}.")
        return out
    return [] if a == b else [f"{prefix.rstrip('.')}: card {b!r}, run {a!r}"]


def _component_configs(folder: Path, card: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the folder's component config, the card's), defaults filled in, for a component card.

    A folder without ``config.json`` holds a backbone's own files (the shapes classifier); it is
    published as it is and the card's config stays.
    """
    import json

    from ._build import component_card_config, resolve_component_config

    expected = component_card_config(card).model_dump(mode="json")
    config_path = folder / "config.json"
    if not config_path.is_file():
        if not any(folder.glob("*.safetensors")):
            raise PublishError(f"{folder} has neither config.json nor a .safetensors file to publish")
        return expected, expected
    trained = resolve_component_config(card.kind, json.loads(config_path.read_text(encoding="utf-8")))
    return trained.model_dump(mode="json"), expected


def _publishable(folder: Path) -> list[Path]:
    files = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if not path.is_file() or any(part.startswith(".") for part in rel.parts) or rel.as_posix() == "README.md":
            continue
        if path.name.endswith(PICKLE_SUFFIXES):
            raise PublishError(f"{path} is a pickle checkpoint; publish safetensors only (convert it first)")
        files.append(path)
    return files


def publish(
    run_dir: str | Path,
    preset: str,
    *,
    hub_dir: str | Path | None = None,
    repo: str | None = None,
    update_config: bool = False,
    push: bool = False,
    api: Any = None,
) -> dict[str, Any]:
    """Copy ``run_dir`` into ``hub_dir/<repo>/`` and write the weights block into ``preset``'s card.

    Args:
        run_dir: a folder written by ``save_pretrained`` (``t2izoo train`` writes ``RUN/final``);
            for a component card (``kind: encoder`` ...), a saved component or a backbone's files.
        preset: the card to update; the run's config must equal the card's config unless
            ``update_config`` (then the card takes the run's config).
        hub_dir: the bundled folder (default: the checkout's ``hub/``).
        repo: Hub repo id and folder name (default: the card's, else ``t2izoo/<preset>``).
        push: also commit the folder to the Hub; the card then pins that commit.

    Returns:
        The new weights block ``{repo, revision, files}``.

    Example:
        >>> publish("runs/shapes-tiny/final", "shapes-tiny")  # doctest: +SKIP
        {'repo': 't2izoo/shapes-tiny', 'revision': '3f1c…', 'files': {...}}
    """
    from ._build import build_config
    from ._cards import load_card

    run_dir = Path(run_dir)
    card = load_card(preset)
    if card.kind == "pipeline":
        if not (run_dir / "pipeline.json").is_file():
            raise PublishError(f"{run_dir} has no pipeline.json: give a folder written by save_pretrained "
                               "(e.g. runs/NAME/final)")
        trained = build_config(run_dir).to_dict()
        trained.pop("preset", None)
        expected = build_config(card.config).to_dict()  # the card's config with defaults filled in
        expected.pop("preset", None)
    else:
        trained, expected = _component_configs(run_dir, card)
    diffs = config_differences(trained, expected)
    if diffs and not update_config:
        raise PublishError(
            f"{run_dir} was trained with a config that differs from {card.path}: " + "; ".join(diffs[:8])
            + ". Pass --update-config to write the run's config into the card."
        )
    repo = repo or (card.weights or {}).get("repo") or f"t2izoo/{preset}"
    target = Path(hub_dir) if hub_dir is not None else default_hub_dir()
    target = target / repo
    files = _publishable(run_dir)
    if not files:
        raise PublishError(f"{run_dir} holds no files to publish")

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        hashes: dict[str, str] = {}
        for path in files:
            rel = path.relative_to(run_dir).as_posix()
            dest = tmp / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)
            hashes[rel] = sha256_file(dest)
        replace_directory(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

    revision = content_revision(hashes)
    if diffs:
        card.config = trained
    card.weights = {"repo": repo, "revision": revision, "files": hashes}
    (target / "README.md").write_text(card.render(), encoding="utf-8")
    if push:
        info = push_folder(target, repo, commit_message=f"t2izoo publish {preset}", api=api)
        card.weights["revision"] = info.oid  # pin the Hub's commit, not the local content hash
        (target / "README.md").write_text(card.render(), encoding="utf-8")
    card.path.write_text(card.render(), encoding="utf-8")
    return card.weights
