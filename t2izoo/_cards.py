"""Model cards: one Markdown file per preset, YAML front matter + prose.

The front matter is the single source of truth for `build(NAME)`::

    ---
    preset: shapes-tiny
    summary: one line for `t2izoo list`
    paper: null
    license: apache-2.0
    config: {encoder: ..., generator: ..., refiner: ...}   # a PipelineConfig
    weights: null        # or {repo, revision, files: {filename: sha256}}
    metrics: {}          # written by `t2izoo evaluate --update-card`
    ---

A card describes a whole pipeline unless it says ``kind: encoder`` (or generator, fusion,
refiner, evaluator): then ``config`` is that one component's config and `build(NAME)` returns
the component (``shapes-clip``, ``shapes-fid``: weights other presets and metrics load by name).

Cards ship inside the wheel as package data of ``t2izoo.model_cards``; in a source checkout
they are read from ``model_cards/`` at the repository root. Plugins may add card folders with
the ``t2izoo_model_card_dirs`` hook. Importing this module does not import torch.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["ModelCard", "CardError", "load_card", "list_models", "card_paths", "builtin_card_dir", "CARD_KINDS"]

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)(.*)\Z", re.DOTALL)
_REQUIRED = ("preset", "summary", "config")
#: what a card may describe: a whole pipeline, or one component of these kinds
CARD_KINDS = ("pipeline", "encoder", "generator", "fusion", "refiner", "evaluator")


class CardError(ValueError):
    """A model card is missing, malformed or ambiguous."""


@dataclass
class ModelCard:
    """A parsed model card.

    Example:
        >>> import t2izoo
        >>> card = t2izoo.load_card("shapes-tiny")
        >>> card.config["generator"]["name"]
        'tiny-conv'
    """

    preset: str
    summary: str
    config: dict[str, Any]
    path: Path
    paper: str | None = None
    license: str | None = None
    weights: dict[str, Any] | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    body: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    kind: str = "pipeline"

    @classmethod
    def parse(cls, text: str, path: Path) -> ModelCard:
        import yaml

        match = _FRONT_MATTER.match(text)
        if not match:
            raise CardError(f"{path}: a model card must start with YAML front matter between '---' lines")
        try:
            meta = yaml.safe_load(match.group(1)) or {}
        except yaml.YAMLError as err:
            raise CardError(f"{path}: invalid YAML front matter: {err}") from err
        if not isinstance(meta, dict):
            raise CardError(f"{path}: front matter must be a mapping")
        missing = [k for k in _REQUIRED if k not in meta]
        if missing:
            raise CardError(f"{path}: front matter lacks {', '.join(missing)}")
        if meta["preset"] != path.stem:
            raise CardError(f"{path}: preset {meta['preset']!r} must equal the file name {path.stem!r}")
        kind = meta.get("kind", "pipeline")
        if kind not in CARD_KINDS:
            raise CardError(f"{path}: kind {kind!r} is not one of {', '.join(CARD_KINDS)}")
        if not isinstance(meta["config"], dict):
            raise CardError(f"{path}: config must be a mapping (a {kind} config)")
        known = {"preset", "summary", "config", "paper", "license", "weights", "metrics", "kind"}
        return cls(
            preset=meta["preset"],
            summary=str(meta["summary"]),
            config=dict(meta["config"]),
            path=path,
            paper=meta.get("paper"),
            license=meta.get("license"),
            weights=meta.get("weights"),
            metrics=dict(meta.get("metrics") or {}),
            body=match.group(2).strip(),
            extra={k: v for k, v in meta.items() if k not in known},
            kind=kind,
        )

    def front_matter(self) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "preset": self.preset,
            "summary": self.summary,
            "paper": self.paper,
            "license": self.license,
        }
        if self.kind != "pipeline":  # pipeline cards stay as they were written
            meta["kind"] = self.kind
        meta.update(self.extra)
        meta.update({"config": self.config, "weights": self.weights, "metrics": self.metrics})
        return meta

    def render(self) -> str:
        """The card as Markdown (front matter + prose), e.g. to write back after evaluation."""
        import yaml

        return f"---\n{yaml.safe_dump(self.front_matter(), sort_keys=False)}---\n\n{self.body}\n"


def builtin_card_dir() -> Path:
    """Where the built-in cards live: inside the installed package, else the source checkout."""
    package = Path(__file__).resolve().parent
    packaged = package / "model_cards"  # wheel installs: t2izoo/model_cards/*.md
    if packaged.is_dir() and any(packaged.glob("*.md")):
        return packaged
    return package.parent / "model_cards"  # source checkout / editable install


@lru_cache(maxsize=1)
def _index() -> dict[str, Path]:
    from ._plugins import card_dirs

    found: dict[str, Path] = {}
    for directory in [builtin_card_dir(), *card_dirs()]:
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.md")):
            if path.stem.upper() == "README":
                continue
            if path.stem in found and found[path.stem].resolve() != path.resolve():
                raise CardError(f"preset {path.stem!r} is defined twice: {found[path.stem]} and {path}")
            found[path.stem] = path
    return found


def card_paths() -> dict[str, Path]:
    """Preset name -> card file, over the built-in and plugin card folders."""
    return dict(_index())


def list_models(pattern: str = "*") -> list[str]:
    """Names of the zoo's presets (model cards) matching a wildcard.

    Example:
        >>> import t2izoo
        >>> "shapes-tiny" in t2izoo.list_models("shapes-*")
        True
    """
    return [name for name in sorted(_index()) if fnmatch.fnmatchcase(name, pattern)]


def load_card(name: str) -> ModelCard:
    """Read one preset's model card; an unknown name lists the nearest presets.

    Example:
        >>> import t2izoo
        >>> t2izoo.load_card("shapes-tiny").preset
        'shapes-tiny'
    """
    index = _index()
    if name not in index:
        close = difflib.get_close_matches(name, list(index), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise CardError(f"no preset named {name!r}.{hint} `t2izoo list` shows the zoo's presets.")
    path = index[name]
    return ModelCard.parse(path.read_text(encoding="utf-8"), path)


def refresh() -> None:
    """Forget the card index (after installing a plugin or editing cards)."""
    _index.cache_clear()
