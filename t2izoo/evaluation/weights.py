"""Finding and fingerprinting the weight files that metric backbones need.

No weights can be downloaded by the evaluators: a backbone reads a local file or a pre-filled
Hugging Face cache. When a file is missing, `WeightsNotFoundError` says which file, where to get
it, and where to put it, so a user can fix it in one step.

Example:
    >>> from t2izoo.evaluation.weights import weights_dir
    >>> weights_dir().name                                   # doctest: +SKIP
    'weights'
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["WeightsNotFoundError", "weights_dir", "find_weights", "sha256_file"]


class WeightsNotFoundError(FileNotFoundError):
    """A metric backbone's weights are not on this machine (the message says how to fix it)."""


def weights_dir() -> Path:
    """Where t2izoo looks for metric weights: ``$T2IZOO_WEIGHTS`` or ``~/.cache/t2izoo/weights``."""
    env = os.environ.get("T2IZOO_WEIGHTS")
    if env:
        return Path(env).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "t2izoo" / "weights"


def find_weights(
    path: str | os.PathLike[str] | None,
    filename: str,
    *,
    what: str,
    url: str,
    env_var: str | None = None,
) -> Path:
    """Resolve a weights file: explicit ``path``, then ``$env_var``, then `weights_dir()`/filename.

    Raises `WeightsNotFoundError` naming the file, ``url`` and the places searched.

    Example:
        >>> find_weights("/nope.pth", "x.pth", what="demo", url="https://example.org/x.pth")
        Traceback (most recent call last):
        ...
        t2izoo.evaluation.weights.WeightsNotFoundError: demo weights not found: ...
    """
    candidates: list[Path] = []
    if path is not None:
        candidates.append(Path(path).expanduser())
    elif env_var and os.environ.get(env_var):
        candidates.append(Path(os.environ[env_var]).expanduser())
    else:
        candidates.append(weights_dir() / filename)
    for cand in candidates:
        if cand.is_dir():
            cand = cand / filename
        if cand.is_file():
            return cand
    searched = ", ".join(str(c) for c in candidates)
    hint_env = f" or set ${env_var} to its path" if env_var else ""
    raise WeightsNotFoundError(
        f"{what} weights not found: looked for '{filename}' at {searched}. Download it from {url} "
        f"(this machine may have no internet: fetch it elsewhere and copy it), then put it at "
        f"{weights_dir() / filename}{hint_env}, or pass its path as the evaluator's 'weights' field."
    )


_SHA_CACHE: dict[tuple[str, int, int], str] = {}


def sha256_file(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file (hex), cached by path, size and mtime so repeated builds are cheap."""
    p = Path(path)
    st = p.stat()
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _SHA_CACHE:
        h = hashlib.sha256()
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        _SHA_CACHE[key] = h.hexdigest()
    return _SHA_CACHE[key]
