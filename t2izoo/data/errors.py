"""Bad input: one error type that names the file and the problem, and a skip-and-count policy.

Loaders take ``on_error="raise"`` (default: stop at the first problem with a `DataError`) or
``on_error="skip"`` (drop the item, count it, and warn once with the counts per problem).

Example:
    >>> problems = Problems("cub", on_error="skip")
    >>> problems.add("text/001/a.txt", "caption file is missing")
    >>> problems.count
    1
"""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path
from typing import Literal

__all__ = ["DataError", "Problems", "OnError", "check_on_error", "clean_caption"]

OnError = Literal["raise", "skip"]


class DataError(ValueError):
    """A data file is missing, unreadable, or not in the expected layout.

    Attributes:
        path: the file (or folder) at fault.
        problem: what is wrong with it, in words.
    """

    def __init__(self, path: str | Path, problem: str, hint: str = "", kind: str | None = None) -> None:
        self.path = str(path)
        self.problem = problem
        self.kind = kind or problem  # what skip-and-count groups by ("image file is missing")
        message = f"{self.path}: {problem}"
        if hint:
            message += f" ({hint})"
        super().__init__(message)


def check_on_error(on_error: str) -> OnError:
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    return on_error  # type: ignore[return-value]


class Problems:
    """Collects problems found while indexing a data set; raises or counts them."""

    def __init__(self, dataset: str, on_error: str = "raise") -> None:
        self.dataset = dataset
        self.on_error = check_on_error(on_error)
        self.kinds: Counter[str] = Counter()
        self.first: dict[str, str] = {}

    @property
    def count(self) -> int:
        return sum(self.kinds.values())

    def add(self, path: str | Path, problem: str, kind: str | None = None) -> None:
        """Raise a `DataError` (``on_error="raise"``) or record it (``"skip"``)."""
        if self.on_error == "raise":
            raise DataError(path, problem, "pass on_error='skip' to skip such items and count them", kind)
        kind = kind or problem
        self.kinds[kind] += 1
        self.first.setdefault(kind, f"{path}: {problem}")

    def add_error(self, err: DataError) -> None:
        """Re-raise ``err`` (``on_error="raise"``) or count it under its kind."""
        if self.on_error == "raise":
            raise err
        self.kinds[err.kind] += 1
        self.first.setdefault(err.kind, f"{err.path}: {err.problem}")

    def report(self, total: int) -> None:
        """Warn once with the counts (called when indexing is done)."""
        if not self.count:
            return
        lines = [f"{n} x {kind} (first: {self.first[kind]})" for kind, n in self.kinds.most_common()]
        warnings.warn(
            f"{self.dataset}: skipped {self.count} problem item(s) while indexing {total}: "
            + "; ".join(lines),
            stacklevel=3,
        )

    def summary(self) -> dict[str, int]:
        return dict(self.kinds)


def clean_caption(text: str, where: str | Path, non_ascii: str = "error") -> str:
    """Validate one caption: strip whitespace; refuse empty ones; handle non-ASCII characters.

    ``non_ascii``: ``"error"`` (raise), ``"strip"`` (drop those characters, AttnGAN's rule) or
    ``"keep"``. Raises `DataError` naming ``where``.

    Example:
        >>> clean_caption("  a red bird ", "a.txt")
        'a red bird'
    """
    text = text.strip()
    if not text:
        raise DataError(where, "empty caption", kind="empty caption")
    if not text.isascii():
        if non_ascii == "error":
            bad = sorted({c for c in text if not c.isascii()})
            raise DataError(
                where,
                f"non-ASCII caption {text[:60]!r} (characters {''.join(bad)!r})",
                "pass non_ascii='strip' to drop such characters or 'keep' to keep them",
                kind="non-ASCII caption",
            )
        if non_ascii == "strip":
            text = text.encode("ascii", "ignore").decode("ascii").strip()
            if not text:
                raise DataError(where, "caption is empty once non-ASCII characters are removed")
        elif non_ascii != "keep":
            raise ValueError(f"non_ascii must be 'error', 'strip' or 'keep', got {non_ascii!r}")
    return text
