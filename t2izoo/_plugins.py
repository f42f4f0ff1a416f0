"""Plugin discovery with pluggy and the ``t2izoo`` entry-point group.

First-party plugins (in ``plugins/``) and third-party packages register the same way::

    # pyproject.toml of a plugin package
    [project.entry-points.t2izoo]
    my-plugin = "my_plugin"          # a module with @t2izoo.hookimpl functions

A plugin that raises on import or during registration is skipped with a warning and listed by
`t2izoo plugins` with its version and error. ``T2IZOO_STRICT_PLUGINS=1`` makes that fatal;
``T2IZOO_DISABLE_PLUGINS=a,b`` skips plugins by entry-point name.
"""

from __future__ import annotations

import os
import threading
import traceback
import warnings
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pluggy

from ._registry import Registry, registry

__all__ = [
    "ENTRY_POINT_GROUP",
    "hookimpl",
    "hookspec",
    "PluginInfo",
    "PluginLoadError",
    "load_plugins",
    "plugin_report",
    "register_plugin",
    "card_dirs",
]

ENTRY_POINT_GROUP = "t2izoo"
hookspec = pluggy.HookspecMarker("t2izoo")
hookimpl = pluggy.HookimplMarker("t2izoo")


class T2IZooHookSpecs:
    """The hooks a plugin may implement (all optional)."""

    @hookspec
    def t2izoo_register_components(self, registry: Registry) -> None:
        """Register components with ``registry.register(kind, name, config=..., factory=...)``.

        Keep this import-light: give factories as ``"module:Class"`` strings so that listing the
        zoo does not import torch.
        """

    @hookspec
    def t2izoo_model_card_dirs(self) -> list[str]:
        """Return directories holding extra model cards (``<preset>.md``) this plugin ships."""

    @hookspec
    def t2izoo_converters(self) -> dict[str, str]:
        """Return ``{name: "module:object"}`` checkpoint converters for `t2izoo convert NAME`.

        The object has ``add_arguments(parser)`` and ``run(args) -> int``; it is imported only
        when that converter is invoked.
        """


    @hookspec
    def t2izoo_recipes(self) -> dict[str, str]:
        """Return ``{name: "module:RecipeClass"}`` training recipes for `t2izoo train --recipe NAME`."""


class PluginLoadError(RuntimeError):
    """A plugin failed and ``T2IZOO_STRICT_PLUGINS=1`` is set."""


@dataclass
class PluginInfo:
    """One discovered plugin, for `t2izoo plugins`."""

    name: str
    module: str
    distribution: str | None
    version: str | None
    status: str  # "loaded", "failed", "disabled"
    error: str | None = None
    components: tuple[str, ...] = ()


_lock = threading.RLock()
_state: dict[str, Any] = {"loaded": False, "pm": None, "infos": []}


def _strict() -> bool:
    return os.environ.get("T2IZOO_STRICT_PLUGINS", "").lower() in ("1", "true", "yes")


def _disabled() -> set[str]:
    raw = os.environ.get("T2IZOO_DISABLE_PLUGINS", "")
    return {p.strip() for p in raw.split(",") if p.strip()}


def _plugin_manager() -> pluggy.PluginManager:
    if _state["pm"] is None:
        pm = pluggy.PluginManager("t2izoo")
        pm.add_hookspecs(T2IZooHookSpecs)
        _state["pm"] = pm
    return _state["pm"]


def _components_of(plugin: str) -> tuple[str, ...]:
    return tuple(f"{e.kind}/{e.name}" for e in registry.entries() if e.plugin == plugin)


def _fail(info: PluginInfo, err: BaseException) -> PluginInfo:
    info.status = "failed"
    info.error = f"{type(err).__name__}: {err}"
    registry.unregister_plugin(info.name)
    if _strict():
        raise PluginLoadError(
            f"plugin '{info.name}' ({info.distribution or '?'} {info.version or ''}) failed: "
            f"{info.error}\n{''.join(traceback.format_exception(err))}"
        ) from err
    warnings.warn(
        f"t2izoo plugin '{info.name}' was skipped: {info.error} "
        "(`t2izoo plugins` lists it; set T2IZOO_STRICT_PLUGINS=1 to make this fatal)",
        RuntimeWarning,
        stacklevel=3,
    )
    return info


def register_plugin(plugin: Any, name: str, *, distribution: str | None = None, version: str | None = None) -> PluginInfo:
    """Register a plugin object or module directly (tests, notebooks, local experiments).

    Example:
        >>> import types, t2izoo
        >>> mod = types.ModuleType("my_plugin")
        >>> t2izoo.register_plugin(mod, "my-plugin").status
        'loaded'
    """
    load_plugins()
    with _lock:
        _state["infos"] = [i for i in _state["infos"] if i.name != name]
        info = PluginInfo(name, getattr(plugin, "__name__", repr(plugin)), distribution, version, "loaded")
        return _register_loaded(plugin, info)


def load_plugins(*, reload: bool = False) -> list[PluginInfo]:
    """Discover and register every plugin in the ``t2izoo`` entry-point group (once).

    Duplicate component names across plugins raise `DuplicateComponentError` naming both.
    """
    with _lock:
        if _state["loaded"] and not reload:
            return list(_state["infos"])
        if reload:
            for info in _state["infos"]:
                registry.unregister_plugin(info.name)
            _state["pm"] = None
            _state["infos"] = []
        _state["loaded"] = True  # set first: plugins may call the public API while loading
        disabled = _disabled()
        seen: set[str] = set()
        for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if ep.name in seen:  # the same distribution visible twice on sys.path
                continue
            seen.add(ep.name)
            dist = getattr(ep, "dist", None)
            info = PluginInfo(
                name=ep.name,
                module=ep.value,
                distribution=dist.metadata["Name"] if dist is not None else None,
                version=dist.version if dist is not None else None,
                status="loaded",
            )
            if ep.name in disabled:
                info.status = "disabled"
                _state["infos"].append(info)
                continue
            try:
                plugin = ep.load()
            except Exception as err:  # noqa: BLE001
                _state["infos"].append(_fail(info, err))
                continue
            _register_loaded(plugin, info)
        return list(_state["infos"])


def _register_loaded(plugin: Any, info: PluginInfo) -> PluginInfo:
    from ._registry import DuplicateComponentError

    pm = _plugin_manager()
    try:
        pm.register(plugin, name=info.name)
        impls = [i for i in pm.hook.t2izoo_register_components.get_hookimpls() if i.plugin is plugin]
        with registry.plugin_scope(info.name):
            for impl in impls:
                impl.function(registry=registry)
    except DuplicateComponentError:
        registry.unregister_plugin(info.name)
        if pm.is_registered(plugin):
            pm.unregister(plugin)
        info.status, info.error = "failed", "duplicate component name"
        _state["infos"].append(info)
        raise
    except Exception as err:  # noqa: BLE001
        if pm.is_registered(plugin):
            pm.unregister(plugin)
        info = _fail(info, err)
    info.components = _components_of(info.name)
    _state["infos"].append(info)
    return info


def plugin_report() -> list[PluginInfo]:
    """Every discovered plugin with its status, version, error and components."""
    return load_plugins()


def converters() -> dict[str, str]:
    """Every converter that loaded plugins offer, by name."""
    load_plugins()
    out: dict[str, str] = {}
    for result in _plugin_manager().hook.t2izoo_converters():
        out.update(result or {})
    return out


def card_dirs() -> list[Path]:
    """Directories of model cards contributed by plugins (besides the built-in ones)."""
    load_plugins()
    dirs: list[Path] = []
    for result in _plugin_manager().hook.t2izoo_model_card_dirs():
        dirs.extend(Path(d) for d in (result or []))
    return dirs
