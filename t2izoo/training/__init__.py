"""The training engine: recipes (what to optimise) driven by one Accelerate trainer (how).

* `Recipe` / `SequentialRecipe` (`t2izoo.training.recipe`): the training logic of a pipeline.
* `register_recipe` / `make_recipe` (`t2izoo.training.registry`): named recipes and lookup.
* `Trainer` / `TrainConfig` (`t2izoo.training.trainer`): the loop, checkpoints, resume, logging.
* `load_grown_state` (`t2izoo.training.grow`): a smaller model's weights into one grown by a stage.

Importing this package does not import torch (plugins call `register_recipe` while loading);
the torch-heavy names load on first use.

Example:
    >>> import t2izoo
    >>> from t2izoo.training import Trainer, TrainConfig, make_recipe   # doctest: +SKIP
    >>> pipe = t2izoo.build("shapes-tiny")                              # doctest: +SKIP
    >>> Trainer(pipe, make_recipe(pipe), dataset, TrainConfig(steps=10, out="run")).fit()  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from t2izoo._lazy import lazy_exports

from .registry import RecipeEntry, get_recipe, list_recipes, make_recipe, register_recipe

_LAZY = {
    "Recipe": ".recipe",
    "SequentialRecipe": ".recipe",
    "frozen": ".recipe",
    "has_trainable_parameters": ".recipe",
    "Trainer": ".trainer",
    "TrainConfig": ".trainer",
    "TrainResult": ".trainer",
    "find_checkpoints": ".checkpoint",
    "latest_checkpoint": ".checkpoint",
    "GrowError": ".grow",
    "load_grown_state": ".grow",
    "save_sample_grid": ".visualize",
    "save_attention_maps": ".visualize",
}

__all__ = ["RecipeEntry", "get_recipe", "list_recipes", "make_recipe", "register_recipe", *_LAZY]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)


if TYPE_CHECKING:  # pragma: no cover
    from .checkpoint import find_checkpoints, latest_checkpoint
    from .grow import GrowError, load_grown_state
    from .recipe import Recipe, SequentialRecipe, frozen, has_trainable_parameters
    from .trainer import TrainConfig, Trainer, TrainResult
    from .visualize import save_attention_maps, save_sample_grid
