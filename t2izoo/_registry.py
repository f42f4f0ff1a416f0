"""The component registry: (kind, name) -> config class + factory.

Registration never imports torch: a factory may be given as an import string
(``"my_plugin.model:MyGenerator"``) that is resolved only when the component is built, so
`t2izoo list` stays fast.
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._config import ComponentConfig

__all__ = [
    "KINDS",
    "ComponentEntry",
    "Registry",
    "DuplicateComponentError",
    "UnknownComponentError",
    "registry",
    "list_components",
    "register_component",
    "get_component",
]

KINDS: tuple[str, ...] = ("encoder", "fusion", "generator", "refiner", "evaluator")


class DuplicateComponentError(ValueError):
    """Two plugins registered the same (kind, name)."""


class UnknownComponentError(KeyError):
    """No component of that kind has that name; the message lists the nearest names."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0])


@dataclass(frozen=True)
class ComponentEntry:
    """One registered component."""

    kind: str
    name: str
    config_class: type[ComponentConfig]
    factory: Callable[..., Any] | str
    plugin: str = "t2izoo"
    description: str = ""
    aliases: tuple[str, ...] = ()
    deprecated_aliases: tuple[str, ...] = ()
    tags: tuple[str, ...] = field(default_factory=tuple)

    def load_factory(self) -> Callable[..., Any]:
        """Import and return the factory (a class or function taking ``(config, **context)``)."""
        if callable(self.factory):
            return self.factory
        return import_object(self.factory, what=f"{self.kind} '{self.name}' (plugin '{self.plugin}') factory")


def import_object(path: str, *, what: str = "object") -> Any:
    """Import ``"package.module:attr.sub"`` and return the object; errors name ``what`` and the path.

    Example:
        >>> import_object("pathlib:Path").__name__
        'Path'
    """
    module_name, _, attr = path.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in filter(None, attr.split(".")):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as err:
        raise ImportError(f"{what}: cannot import {path!r}: {err}") from err
    return obj


def _split_ref(ref: str) -> tuple[str, str]:
    kind, sep, name = ref.partition("/")
    if not sep:
        raise ValueError(f"expected 'kind/name', got {ref!r}")
    return kind, name


class Registry:
    """Holds every registered component, keyed by kind then name.

    Example:
        >>> from t2izoo import registry
        >>> sorted(registry.names("generator"))[:1]  # doctest: +SKIP
        ['attngan']
    """

    def __init__(self) -> None:
        self._entries: dict[str, dict[str, ComponentEntry]] = {k: {} for k in KINDS}
        self._aliases: dict[str, dict[str, tuple[str, bool]]] = {k: {} for k in KINDS}
        self._current_plugin = "t2izoo"

    # -- registration -------------------------------------------------------------------------
    @contextmanager
    def plugin_scope(self, plugin: str) -> Iterator[None]:
        """Attribute registrations made inside this block to ``plugin``."""
        previous, self._current_plugin = self._current_plugin, plugin
        try:
            yield
        finally:
            self._current_plugin = previous

    def register(
        self,
        kind: str,
        name: str,
        *,
        config: type[ComponentConfig],
        factory: Callable[..., Any] | str,
        description: str = "",
        aliases: tuple[str, ...] | list[str] = (),
        deprecated_aliases: tuple[str, ...] | list[str] = (),
        tags: tuple[str, ...] | list[str] = (),
    ) -> ComponentEntry:
        """Register a component; raises `DuplicateComponentError` naming both plugins."""
        from ._config import ComponentConfig

        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; kinds are {', '.join(KINDS)}")
        if not (isinstance(config, type) and issubclass(config, ComponentConfig)):
            raise TypeError(f"{kind} '{name}': config must be a ComponentConfig subclass, got {config!r}")
        entry = ComponentEntry(
            kind=kind,
            name=name,
            config_class=config,
            factory=factory,
            plugin=self._current_plugin,
            description=description,
            aliases=tuple(aliases),
            deprecated_aliases=tuple(deprecated_aliases),
            tags=tuple(tags),
        )
        for label in (name, *entry.aliases, *entry.deprecated_aliases):
            existing = self._owner(kind, label)
            if existing is not None:
                raise DuplicateComponentError(
                    f"{kind} '{label}' is registered twice: by plugin '{existing.plugin}' and by "
                    f"plugin '{entry.plugin}'. Disable one with T2IZOO_DISABLE_PLUGINS."
                )
        self._entries[kind][name] = entry
        for alias in entry.aliases:
            self._aliases[kind][alias] = (name, False)
        for alias in entry.deprecated_aliases:
            self._aliases[kind][alias] = (name, True)
        return entry

    def unregister_plugin(self, plugin: str) -> None:
        """Remove everything a plugin registered (used by tests and by plugin reloads)."""
        for kind in KINDS:
            for name in [n for n, e in self._entries[kind].items() if e.plugin == plugin]:
                del self._entries[kind][name]
            self._aliases[kind] = {
                a: t for a, t in self._aliases[kind].items() if t[0] in self._entries[kind]
            }

    def _owner(self, kind: str, label: str) -> ComponentEntry | None:
        if label in self._entries[kind]:
            return self._entries[kind][label]
        if label in self._aliases[kind]:
            return self._entries[kind][self._aliases[kind][label][0]]
        return None

    # -- lookup -------------------------------------------------------------------------------
    def get(self, kind: str, name: str) -> ComponentEntry:
        """Return the entry for ``name`` (or an alias of it) of ``kind``.

        A deprecated alias works but emits a `FutureWarning`; an unknown name raises
        `UnknownComponentError` listing the nearest registered names.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; kinds are {', '.join(KINDS)}")
        if name in self._entries[kind]:
            return self._entries[kind][name]
        if name in self._aliases[kind]:
            target, deprecated = self._aliases[kind][name]
            if deprecated:
                warnings.warn(
                    f"{kind} name '{name}' is deprecated; use '{target}'", FutureWarning, stacklevel=3
                )
            return self._entries[kind][target]
        raise UnknownComponentError(self.unknown_message(kind, name))

    def unknown_message(self, kind: str, name: str) -> str:
        known = self.names(kind, include_aliases=True)
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        return (
            f"no {kind} named {name!r}.{hint} Registered {kind}s: {', '.join(sorted(self._entries[kind])) or 'none'}"
            " (`t2izoo list` shows all; `t2izoo plugins` shows plugins that failed to load)."
        )

    def names(self, kind: str, *, include_aliases: bool = False) -> list[str]:
        names = list(self._entries[kind])
        if include_aliases:
            names += list(self._aliases[kind])
        return names

    def list(self, kind: str | None = None, pattern: str = "*") -> list[str]:
        """``kind/name`` strings (or bare names when ``kind`` is given) matching a wildcard."""
        kinds = [kind] if kind else list(KINDS)
        out = []
        for k in kinds:
            if k not in KINDS:
                raise ValueError(f"unknown kind {k!r}; kinds are {', '.join(KINDS)}")
            for name in sorted(self._entries[k]):
                label = name if kind else f"{k}/{name}"
                if fnmatch.fnmatchcase(name, pattern) or fnmatch.fnmatchcase(label, pattern):
                    out.append(label)
        return out

    def entries(self, kind: str | None = None) -> list[ComponentEntry]:
        kinds = [kind] if kind else list(KINDS)
        return [self._entries[k][n] for k in kinds for n in sorted(self._entries[k])]


registry = Registry()


def _loaded_registry() -> Registry:
    from ._plugins import load_plugins

    load_plugins()
    return registry


def list_components(kind: str | None = None, pattern: str = "*") -> list[str]:
    """List registered components, optionally of one kind and matching a wildcard.

    Example:
        >>> import t2izoo
        >>> t2izoo.list_components("generator", "tiny*")
        ['tiny-conv']
    """
    return _loaded_registry().list(kind, pattern)


def get_component(kind: str, name: str) -> ComponentEntry:
    """Look up one component (aliases resolved, plugins loaded).

    Example:
        >>> import t2izoo
        >>> t2izoo.get_component("refiner", "interpolate").plugin
        'basic'
    """
    return _loaded_registry().get(kind, name)


def register_component(
    kind: str,
    name: str,
    *,
    config: type[ComponentConfig],
    factory: Callable[..., Any] | str,
    **kwargs: Any,
) -> ComponentEntry:
    """Register a component at run time (plugins normally use the ``t2izoo`` entry-point group).

    Example:
        >>> import t2izoo
        >>> class MyConfig(t2izoo.ComponentConfig):
        ...     name: str = "my-refiner"
        >>> t2izoo.register_component("refiner", "my-refiner", config=MyConfig,
        ...                           factory="my_pkg:MyRefiner")  # doctest: +SKIP
    """
    return _loaded_registry().register(kind, name, config=config, factory=factory, **kwargs)
