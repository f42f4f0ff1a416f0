"""Example t2izoo plugin: registers the `film` fusion block.

Only pydantic and the public `t2izoo` API are imported here; the torch module is named by an
import string and loaded when first built.
"""

from __future__ import annotations

from pydantic import Field

import t2izoo


class FiLMConfig(t2izoo.ComponentConfig):
    """Feature-wise linear modulation: h * (1 + gamma(s)) + beta(s), per channel."""

    name: str = "film"
    hidden: int = Field(64, ge=1, description="width of the MLP that predicts gamma and beta")

    @classmethod
    def tiny(cls) -> dict:
        return {"hidden": 8}


@t2izoo.hookimpl
def t2izoo_register_components(registry: t2izoo.Registry) -> None:
    registry.register(
        "fusion", "film", config=FiLMConfig, factory="t2izoo_plugin_example.film:FiLMFusion",
        description="FiLM: per-channel scale and shift from the sentence (example plugin)",
    )
