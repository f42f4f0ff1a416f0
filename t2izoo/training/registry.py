"""Named recipes: ``register_recipe("damsm", "t2izoo_attngan.damsm:DAMSMRecipe")``.

Most pipelines find their recipe through their generator or refiner (a component method
``make_recipe(pipeline, **options)``). Training targets that are not "the pipeline's generator"
(DAMSM pretraining, the shapes CLIP, an attribute classifier) are registered by name instead,
and chosen with ``t2izoo train PRESET --recipe NAME``.

A plugin registers its recipes without importing torch, either by calling `register_recipe`
from its ``t2izoo_register_components`` hook, or by implementing a ``t2izoo_recipes`` hook that
returns ``{name: "module:Class"}``. This module never imports torch.

Example:
    >>> from t2izoo.training import register_recipe, list_recipes
    >>> register_recipe("my-recipe", "my_pkg.recipes:MyRecipe", description="toy")
    >>> "my-recipe" in list_recipes()
    True
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from t2izoo._registry import import_object

__all__ = ["RecipeEntry", "register_recipe", "list_recipes", "get_recipe", "make_recipe"]


@dataclass(frozen=True)
class RecipeEntry:
    name: str
    target: Any  # a Recipe subclass, or "module:Class"
    description: str = ""

    def load(self) -> Any:
        if not isinstance(self.target, str):
            return self.target
        return import_object(self.target, what=f"recipe {self.name!r}")


_RECIPES: dict[str, RecipeEntry] = {}


def register_recipe(name: str, target: Any, *, description: str = "", overwrite: bool = False) -> None:
    """Register a recipe class (or its ``"module:Class"`` import string) under ``name``.

    Registering the same target twice is harmless; a different target under a taken name is
    an error unless ``overwrite=True``.
    """
    old = _RECIPES.get(name)
    if old is not None and old.target != target and not overwrite:
        raise ValueError(
            f"recipe {name!r} is already registered as {old.target!r}; refusing to replace it "
            f"with {target!r} (pass overwrite=True)"
        )
    _RECIPES[name] = RecipeEntry(name, target, description)


def _load_plugin_recipes() -> None:
    from .._plugins import _plugin_manager, load_plugins

    load_plugins()
    hook = getattr(_plugin_manager().hook, "t2izoo_recipes", None)
    if hook is None:
        return
    for result in hook():
        for name, target in (result or {}).items():
            register_recipe(name, target)


def list_recipes() -> dict[str, str]:
    """Registered recipe names -> description (plugins loaded)."""
    _load_plugin_recipes()
    return {name: entry.description for name, entry in sorted(_RECIPES.items())}


def get_recipe(name: str) -> Any:
    """The recipe class registered as ``name`` (imported now)."""
    _load_plugin_recipes()
    if name not in _RECIPES:
        close = difflib.get_close_matches(name, list(_RECIPES), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise KeyError(
            f"no recipe named {name!r}.{hint} Registered recipes: {', '.join(sorted(_RECIPES)) or 'none'}"
        )
    return _RECIPES[name].load()


def make_recipe(pipeline: Any, name: str | None = None, **options: Any) -> Any:
    """The `Recipe` that trains ``pipeline``.

    With ``name``: the registered recipe of that name, built as ``Class(pipeline, **options)``.
    Without: the recipe named by the ``recipe:`` field of the pipeline's preset card (a two-stage
    model such as ``cd-attngan``), else the generator's ``make_recipe(pipeline, **options)``, else the refiner's (pass
    ``stage=...`` for two-stage models; the component decides what a stage means).

    Example:
        >>> recipe = make_recipe(t2izoo.build("shapes-tiny"), lr=2e-4)   # doctest: +SKIP
    """
    if name is None:
        name = _preset_recipe(pipeline)
    if name is not None:
        return get_recipe(name)(pipeline, **options)
    tried = []
    for slot in ("generator", "refiner"):
        component = getattr(pipeline, slot, None)
        if component is None:
            continue
        factory = getattr(component, "make_recipe", None)
        if factory is not None:
            return factory(pipeline, **options)
        tried.append(f"{slot} '{component.config.name}'")
    raise LookupError(
        f"no training recipe for this pipeline: {' and '.join(tried) or 'no component'} define(s) no "
        f"make_recipe(); choose a registered recipe with --recipe NAME "
        f"(registered: {', '.join(sorted(list_recipes())) or 'none'})"
    )


def _preset_recipe(pipeline: Any) -> str | None:
    """The ``recipe:`` front-matter field of the card the pipeline was built from, if any."""
    preset = getattr(getattr(pipeline, "config", None), "preset", None)
    if not preset:
        return None
    from t2izoo._cards import load_card

    try:
        card = load_card(preset)
    except (KeyError, LookupError, FileNotFoundError, ValueError):
        return None  # a preset name that is no longer a card (an old run directory)
    recipe = card.extra.get("recipe")
    return str(recipe) if recipe else None
