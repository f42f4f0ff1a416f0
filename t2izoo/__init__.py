"""t2izoo: a pluggable text-to-image model zoo.

Example:
    >>> import t2izoo
    >>> pipe = t2izoo.build("shapes-tiny")                       # a preset from its model card
    >>> pipe = t2izoo.build("shapes-tiny", refiner=None)         # swap or drop a component
    >>> out = pipe(["a small red circle left of a blue square"], seed=0)
    >>> out.images[0].size
    (128, 128)

The package root is light: names that need torch are imported on first use, so
``t2izoo list`` and ``import t2izoo`` stay fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._config import ComponentConfig, ComponentRef, OptionalComponentRef, PipelineConfig, parse_cli_overrides
from ._lazy import lazy_exports
from ._plugins import hookimpl, load_plugins, plugin_report, register_plugin
from ._ports import PortMismatchError, Ports
from ._registry import (
    KINDS,
    DuplicateComponentError,
    Registry,
    UnknownComponentError,
    get_component,
    list_components,
    register_component,
    registry,
)

__version__ = "0.1.0"

# name -> module that defines it; imported lazily because these import torch
_LAZY = {
    "build": "._build",
    "create_component": "._build",
    "build_config": "._build",
    "list_models": "._cards",
    "load_card": "._cards",
    "ModelCard": "._cards",
    "Text2ImagePipeline": ".pipeline",
    "Component": ".interfaces",
    "Encoder": ".interfaces",
    "Fusion": ".interfaces",
    "Generator": ".interfaces",
    "Refiner": ".interfaces",
    "Evaluator": ".interfaces",
    "Tokenizer": ".interfaces",
    "TokenBatch": ".types",
    "TextFeatures": ".types",
    "FusionOutput": ".types",
    "GeneratorOutput": ".types",
    "PipelineOutput": ".types",
    "MetricResult": ".types",
    "WeightsError": "._hub",
    "download_preset_weights": "._hub",
}

__all__ = [
    "KINDS",
    "ComponentConfig",
    "ComponentRef",
    "OptionalComponentRef",
    "PipelineConfig",
    "parse_cli_overrides",
    "Ports",
    "PortMismatchError",
    "DuplicateComponentError",
    "UnknownComponentError",
    "hookimpl",
    "load_plugins",
    "plugin_report",
    "register_plugin",
    "registry",
    "Registry",
    "list_components",
    "get_component",
    "register_component",
    "__version__",
    *_LAZY,
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)


if TYPE_CHECKING:  # pragma: no cover
    from ._build import build, build_config, create_component
    from ._cards import ModelCard, list_models, load_card
    from ._hub import WeightsError, download_preset_weights
    from .interfaces import Component, Encoder, Evaluator, Fusion, Generator, Refiner, Tokenizer
    from .pipeline import Text2ImagePipeline
    from .types import (
        FusionOutput,
        GeneratorOutput,
        MetricResult,
        PipelineOutput,
        TextFeatures,
        TokenBatch,
    )
