"""Lazy re-exports for package roots: names are imported on first use (keeps torch out of
`import t2izoo` and `t2izoo list`)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable
from typing import Any


def lazy_exports(package: str, table: dict[str, str], names: Iterable[str]) -> tuple[
        Callable[[str], Any], Callable[[], list[str]]]:
    """Return ``(__getattr__, __dir__)`` for ``package`` resolving ``table[name]`` (a relative
    module) on first access and caching the value in the package namespace.

    Example:
        >>> __getattr__, __dir__ = lazy_exports(__name__, {"Path": "pathlib"}, ["Path"])  # doctest: +SKIP
    """
    exported = sorted(names)

    def __getattr__(name: str) -> Any:  # noqa: N807 - module protocol
        if name in table:
            value = getattr(importlib.import_module(table[name], package), name)
            setattr(sys.modules[package], name, value)
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:  # noqa: N807 - module protocol
        return exported

    return __getattr__, __dir__
