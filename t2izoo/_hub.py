"""Weights named in a model card: found in the cache, the bundled ``hub/`` folder or the Hub.

A card's ``weights`` block pins a Hub repository, a revision and the sha256 of every file::

    weights:
      repo: t2izoo/shapes-tiny          # a Hub repo id (also the folder under hub/)
      revision: 0123abcd...              # a commit (or the content hash `t2izoo publish` wrote)
      files:                             # every file, with its sha256
        pipeline.json: 9f2c...
        generator/model.safetensors: 41aa...

`resolve_weights` looks for each file, in order, in

1. the Hugging Face cache (``HF_HOME``/``HF_HUB_CACHE``) at that revision,
2. the bundled folders (``T2IZOO_HUB_DIR``, then the shipped ``hub/``: a wheel's ``t2izoo/hub``
   package data or a source checkout's ``hub/``) as
   ``<dir>/<repo>/<file>``, so a fresh clone builds with no network,
3. the Hub, through `huggingface_hub.hf_hub_download` (``HF_ENDPOINT`` is honoured), unless
   ``HF_HUB_OFFLINE=1`` or ``local_files_only``.

Every candidate's sha256 is checked before it is returned. A cached or downloaded file that does
not match is deleted from the cache (never returned); a stale bundled copy is skipped, not
deleted. Pickle checkpoints (``.pth``, ``.bin``, ...) are refused unless the caller allows them.
This module does not import torch.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "WeightsError",
    "WeightsSpec",
    "ResolvedWeights",
    "sha256_file",
    "content_revision",
    "bundled_hub_dirs",
    "resolve_weights",
    "download_preset_weights",
    "snapshot_repo",
    "push_folder",
    "PICKLE_SUFFIXES",
]

#: Suffixes of checkpoints that `torch.load` would unpickle; refused unless explicitly allowed.
PICKLE_SUFFIXES = (".pth", ".pt", ".bin", ".ckpt", ".pkl", ".pickle")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class WeightsError(RuntimeError):
    """Weights are unavailable or do not match their pinned checksum."""


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def content_revision(files: dict[str, str]) -> str:
    """A 40-hex revision derived from file names and their sha256 (what `t2izoo publish` pins).

    It has the shape of a git commit id, so the Hugging Face cache treats it as immutable.

    Example:
        >>> content_revision({"a.json": "0" * 64}) == content_revision({"a.json": "0" * 64})
        True
    """
    lines = "".join(f"{name}\0{files[name]}\n" for name in sorted(files))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()[:40]


@dataclass(frozen=True)
class WeightsSpec:
    """A validated ``weights`` block: where the files live and what they must hash to.

    Example:
        >>> spec = WeightsSpec.parse({"repo": "t2izoo/x", "revision": "main", "files": {"a.json": "0" * 64}})
        >>> spec.repo, list(spec.files)
        ('t2izoo/x', ['a.json'])
    """

    repo: str
    revision: str
    files: dict[str, str]
    origin: str = "weights block"

    @classmethod
    def parse(cls, block: Any, origin: str = "weights block") -> WeightsSpec:
        if not isinstance(block, dict):
            raise WeightsError(f"{origin}: `weights` must be a mapping with repo, revision and files")
        missing = [k for k in ("repo", "revision", "files") if not block.get(k)]
        if missing:
            raise WeightsError(f"{origin}: the weights block lacks {', '.join(missing)}")
        files = block["files"]
        if not isinstance(files, dict):
            raise WeightsError(f"{origin}: weights.files must map file names to sha256 digests")
        for name, digest in files.items():
            if not isinstance(digest, str) or not _SHA256.match(digest):
                raise WeightsError(f"{origin}: weights.files[{name!r}] = {digest!r} is not a sha256 hex digest")
            if name.startswith("/") or ".." in Path(name).parts:
                raise WeightsError(f"{origin}: weights.files[{name!r}] must be a relative path inside the repo")
        return cls(repo=str(block["repo"]), revision=str(block["revision"]), files=dict(files), origin=origin)

    @property
    def label(self) -> str:
        return f"{self.repo}@{self.revision[:12]}"


@dataclass
class ResolvedWeights:
    """Where each verified file was found; ``folder`` is one directory holding them all."""

    spec: WeightsSpec
    paths: dict[str, Path]
    sources: dict[str, str]  # filename -> "cache" | "bundled" | "download"
    commit: str
    _folder: Path | None = field(default=None, repr=False)

    @property
    def folder(self) -> Path:
        if self._folder is None:
            self._folder = _common_root(self.paths) or _stage(self.paths)
        return self._folder


def bundled_hub_dirs() -> list[Path]:
    """Folders holding weights in Hub layout: ``T2IZOO_HUB_DIR`` entries, then the shipped ``hub/``.

    The shipped one is the package data ``t2izoo/hub`` of an installed wheel, or the ``hub/`` of a
    source checkout (editable install).
    """
    dirs = [Path(p) for p in os.environ.get("T2IZOO_HUB_DIR", "").split(os.pathsep) if p]
    package = Path(__file__).resolve().parent
    root = package.parent
    if (package / "hub").is_dir():
        dirs.append(package / "hub")
    # only a source checkout has model_cards/ beside the package; a wheel's parent is site-packages
    elif (root / "model_cards").is_dir() and (root / "hub").is_dir():
        dirs.append(root / "hub")
    return dirs


def _offline(local_files_only: bool | None) -> bool:
    from huggingface_hub import constants

    return bool(local_files_only) or bool(constants.is_offline_mode())


def _evict(path: Path) -> None:
    """Remove a cached file: the snapshot pointer and the blob it links to."""
    blob = Path(os.path.realpath(path))
    for p in {path, blob}:
        try:
            p.unlink()
        except FileNotFoundError:
            pass


def _commit_of(path: Path) -> str | None:
    """The commit a cached path belongs to (``.../snapshots/<commit>/<file>``)."""
    parts = path.parts
    if "snapshots" in parts:
        i = len(parts) - 1 - parts[::-1].index("snapshots")
        if i + 1 < len(parts):
            return parts[i + 1]
    return None


def resolve_weights(
    spec: WeightsSpec,
    *,
    preset: str | None = None,
    local_files_only: bool | None = None,
    hub_dirs: list[Path] | None = None,
    allow_pickle: bool = False,
) -> ResolvedWeights:
    """Find every file of ``spec`` (cache, then bundled folders, then the Hub) and verify it.

    Raises:
        WeightsError: a file is missing everywhere it may be looked for, a download failed,
            or its sha256 differs from the pin. The message names the preset, repo, revision
            and file, and every place that was tried.

    Example:
        >>> spec = WeightsSpec.parse(load_card("shapes-tiny").weights)  # doctest: +SKIP
        >>> resolve_weights(spec, preset="shapes-tiny").folder  # doctest: +SKIP
    """
    who = f" for preset '{preset}'" if preset else ""
    offline = _offline(local_files_only)
    dirs = bundled_hub_dirs() if hub_dirs is None else [Path(d) for d in hub_dirs]
    paths: dict[str, Path] = {}
    sources: dict[str, str] = {}
    commits: set[str] = set()
    missing: list[str] = []
    looked: list[str] = []
    items = list(spec.files.items())
    for filename, expected in _progress(items, f"weights {spec.label}"):
        if filename.endswith(PICKLE_SUFFIXES) and not allow_pickle:
            raise WeightsError(
                f"{filename} of {spec.label}{who} is a pickle checkpoint; t2izoo loads safetensors only. "
                "Convert it (`t2izoo convert`), or pass allow_pickle=True to read it with "
                "torch.load(weights_only=True)."
            )
        tried: list[str] = []
        found = _from_cache(spec, filename, expected, tried)
        source = "cache"
        if found is None:
            found, source = _from_bundled(spec, filename, expected, dirs, tried), "bundled"
        if found is None and offline:
            missing.append(filename)
            looked = tried
            continue
        if found is None:
            found, source = _download(spec, filename, expected, who), "download"
        paths[filename], sources[filename] = found, source
        commits.add(_commit_of(found) or spec.revision)
    if missing:
        why = "local_files_only=True" if local_files_only else "HF_HUB_OFFLINE=1"
        raise WeightsError(
            f"{len(missing)} file(s) of {spec.label}{who} are missing and downloads are off ({why}): "
            f"{', '.join(missing)}. Looked in: {'; '.join(looked)}. Go online once (or copy the repo "
            f"into a bundled folder as <dir>/{spec.repo}/<file>, see T2IZOO_HUB_DIR)."
        )
    commit = commits.pop() if len(commits) == 1 else spec.revision
    return ResolvedWeights(spec=spec, paths=paths, sources=sources, commit=commit)


def _from_cache(spec: WeightsSpec, filename: str, expected: str, tried: list[str]) -> Path | None:
    from huggingface_hub import try_to_load_from_cache

    hit = try_to_load_from_cache(spec.repo, filename, revision=spec.revision)
    if not isinstance(hit, str):  # None or the "known not to exist" sentinel
        tried.append("HF cache")
        return None
    path = Path(hit)
    actual = sha256_file(path)
    if actual == expected:
        return path
    _evict(path)  # a corrupted or substituted cache entry must never be used again
    tried.append(f"HF cache (sha256 {actual[:12]}, removed)")
    return None


def _from_bundled(spec: WeightsSpec, filename: str, expected: str, dirs: list[Path], tried: list[str]) -> Path | None:
    for directory in dirs:
        path = directory / spec.repo / filename
        if not path.is_file():
            tried.append(str(path))
            continue
        actual = sha256_file(path)
        if actual == expected:
            return path
        tried.append(f"{path} (sha256 {actual[:12]}, stale)")
    return None


def _download(spec: WeightsSpec, filename: str, expected: str, who: str) -> Path:
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    where = f"{filename} of {spec.repo} at revision {spec.revision}{who}"
    try:
        path = Path(hf_hub_download(spec.repo, filename, revision=spec.revision))
    except RevisionNotFoundError as err:
        raise WeightsError(f"could not get {where}: the repository has no revision {spec.revision!r}") from err
    except RepositoryNotFoundError as err:
        raise WeightsError(f"could not get {where}: repository {spec.repo!r} not found (or private)") from err
    except LocalEntryNotFoundError as err:
        raise WeightsError(f"could not get {where}: the Hub is unreachable and the file is not cached") from err
    except EntryNotFoundError as err:
        raise WeightsError(f"could not get {where}: the repository has no file {filename!r} at that revision") from err
    except Exception as err:  # network and HTTP errors come in several types; all mean "not available"
        raise WeightsError(f"could not get {where}: {type(err).__name__}: {err}") from err
    actual = sha256_file(path)
    if actual != expected:
        _evict(path)
        raise WeightsError(
            f"{where} has sha256 {actual}, but {spec.origin} pins {expected}; the download was deleted "
            "from the cache and not used."
        )
    return path


def _common_root(paths: dict[str, Path]) -> Path | None:
    roots = set()
    for filename, path in paths.items():
        root = path
        for _ in Path(filename).parts:
            root = root.parent
        roots.add(root)
    return roots.pop() if len(roots) == 1 else None


def _stage(paths: dict[str, Path]) -> Path:
    """Files found in different places: link them into one temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="t2izoo-weights-"))
    for filename, path in paths.items():
        target = folder / filename
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            target.symlink_to(path.resolve())
        except OSError:  # no symlinks (some Windows setups): copy
            import shutil

            shutil.copyfile(path, target)
    return folder


def _progress(items: list, desc: str) -> Any:
    if len(items) < 4:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, unit="file", leave=False)


def download_preset_weights(preset: str, *, local_files_only: bool | None = None) -> Path:
    """Find (cache, bundled ``hub/``) or fetch every weight file a preset's card pins; return the folder.

    Example:
        >>> import t2izoo
        >>> (t2izoo.download_preset_weights("shapes-clip") / "model.safetensors").is_file()  # doctest: +SKIP
        True
    """
    from ._cards import load_card

    card = load_card(preset)
    if not card.weights:
        raise WeightsError(
            f"preset '{preset}' publishes no weights (its card {card.path} has `weights: null`). "
            f"Train it with `t2izoo train {preset} --out DIR` and load it with "
            f"build('{preset}', pretrained='DIR/final'), or publish a run with `t2izoo publish`."
        )
    spec = WeightsSpec.parse(card.weights, origin=str(card.path))
    return resolve_weights(spec, preset=preset, local_files_only=local_files_only).folder


# -- whole repositories (from_pretrained / push_to_hub) --------------------------------------------
def snapshot_repo(repo_id: str, *, revision: str | None = None, local_files_only: bool | None = None,
                  allow_pickle: bool = False) -> Path:
    """Download (or find in the cache) a model repository; pickle files are skipped by default.

    Example:
        >>> folder = snapshot_repo("t2izoo/shapes-tiny", revision="main")  # doctest: +SKIP
    """
    from huggingface_hub import snapshot_download

    ignore = None if allow_pickle else [f"*{s}" for s in PICKLE_SUFFIXES]
    try:
        return Path(snapshot_download(
            repo_id, revision=revision, local_files_only=bool(local_files_only), ignore_patterns=ignore
        ))
    except Exception as err:
        raise WeightsError(
            f"could not get repository {repo_id!r} at revision {revision or 'main'!r}: {type(err).__name__}: {err}"
        ) from err


def push_folder(
    folder: str | Path,
    repo_id: str,
    *,
    revision: str | None = None,
    commit_message: str = "Upload with t2izoo",
    private: bool | None = None,
    token: str | bool | None = None,
    create_pr: bool = False,
    api: Any = None,
) -> Any:
    """Create ``repo_id`` if needed and commit every file of ``folder`` in one commit.

    Returns huggingface_hub's ``CommitInfo`` (``.oid`` is the new commit). ``api`` may be any
    object with ``create_repo`` and ``create_commit`` (tests pass a fake).

    Example:
        >>> push_folder("runs/shapes-tiny/final", "me/shapes-tiny")  # doctest: +SKIP
    """
    from huggingface_hub import CommitOperationAdd, HfApi

    folder = Path(folder)
    api = api or HfApi(token=token)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    if not files:
        raise WeightsError(f"{folder} has no files to push")
    api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
    operations = [CommitOperationAdd(path_in_repo=p.relative_to(folder).as_posix(), path_or_fileobj=str(p))
                  for p in files]
    return api.create_commit(repo_id, operations, commit_message=commit_message, revision=revision,
                             create_pr=create_pr, repo_type="model")
