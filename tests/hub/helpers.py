"""Build tiny pipelines and turn them into Hub repository contents."""

from __future__ import annotations

from pathlib import Path

import torch

import t2izoo
from t2izoo._hub import sha256_file

from .conftest import tiny_config


def saved_pipeline(folder: Path, seed: int) -> Path:
    """A tiny random pipeline (weights drawn from ``seed``) written by save_pretrained."""
    torch.manual_seed(seed)
    return t2izoo.build(tiny_config()).save_pretrained(folder)


def repo_files(folder: Path) -> dict[str, bytes]:
    """Every file save_pretrained wrote, as a Hub commit would hold them."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def weights_block(folder: Path, repo: str, revision: str) -> dict:
    files = {p.relative_to(folder).as_posix(): sha256_file(p) for p in sorted(folder.rglob("*"))
             if p.is_file() and p.name != "README.md"}
    return {"repo": repo, "revision": revision, "files": files}


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
