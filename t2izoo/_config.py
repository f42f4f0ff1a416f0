"""Configuration: pydantic v2 models that compose components by name.

A pipeline config names one component per slot (``encoder``, ``generator``, ``refiner``)
and carries each component's own validated config. Component configs may themselves name
components (a generator names its ``fusion``): those fields are typed with `ComponentRef`, which
resolves the name through the registry and validates the rest with that component's config class,
so errors carry the full field path (``generator.fusion.heads``).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SerializeAsAny
from pydantic_core import PydanticCustomError

from ._ports import Ports

__all__ = [
    "ComponentConfig",
    "ComponentRef",
    "OptionalComponentRef",
    "PipelineConfig",
    "apply_overrides",
    "parse_cli_overrides",
]


class ComponentConfig(BaseModel):
    """Base of every component's config: ``name`` plus the component's own fields.

    Subclasses declare their fields with defaults and override `ports()` to say what they
    consume and produce. Unknown fields are errors (a typo must not be silently ignored).

    Example:
        >>> class TinyConfig(ComponentConfig):
        ...     name: str = "tiny"
        ...     width: int = 8
        ...     def ports(self):
        ...         return Ports(outputs={"word_dim": self.width})
        >>> TinyConfig(width=16).ports().outputs["word_dim"]
        16
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, protected_namespaces=())

    name: str
    kind: ClassVar[str] = ""

    def ports(self) -> Ports:
        """Declared ports, computed from this config (no modules built)."""
        return Ports()

    @classmethod
    def tiny(cls) -> dict[str, Any]:
        """Field overrides that make a small, fast instance (used by tests and the conformance kit)."""
        return {}

    def children(self) -> dict[str, ComponentConfig]:
        """Nested component configs (fields typed with `ComponentRef`), by field name."""
        return {k: v for k, v in self if isinstance(v, ComponentConfig)}


def _resolve(kind: str, value: Any) -> Any:
    from ._registry import UnknownComponentError, _loaded_registry

    if value is None or isinstance(value, ComponentConfig):
        if isinstance(value, ComponentConfig):
            # re-validate through the registered class so a bare base instance is not accepted
            value = value.model_dump()
        else:
            return None
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, Mapping):
        raise PydanticCustomError(
            "component_ref",
            "expected a {kind} name or a mapping with a 'name' field, got {got}",
            {"kind": kind, "got": type(value).__name__},
        )
    if "name" not in value:
        raise PydanticCustomError("component_ref", "a {kind} needs a 'name' field", {"kind": kind})
    reg = _loaded_registry()
    try:
        entry = reg.get(kind, str(value["name"]))
    except UnknownComponentError as err:
        raise PydanticCustomError("unknown_component", "{msg}", {"msg": str(err)}) from None
    data = dict(value)
    data["name"] = entry.name  # aliases resolve to the canonical name
    return entry.config_class.model_validate(data)


def _resolver(kind: str):
    def resolve(value: Any) -> Any:
        return _resolve(kind, value)

    return resolve


def component_type(kind: str) -> Any:
    """The validating type of a component reference, for `pydantic.TypeAdapter`."""
    return Annotated[SerializeAsAny[ComponentConfig], BeforeValidator(_resolver(kind))]


def ComponentRef(kind: str) -> Any:  # noqa: N802 - used as a type
    """Type for a config field that names a component of ``kind``.

    Example:
        >>> class MyGeneratorConfig(ComponentConfig):
        ...     name: str = "my-gen"
        ...     fusion: ComponentRef("fusion") = "sentence-concat"
    """
    # validate_default: a default given as a name ("sentence-concat") is resolved like any value
    return Annotated[
        SerializeAsAny[ComponentConfig], BeforeValidator(_resolver(kind)), Field(validate_default=True)
    ]


def OptionalComponentRef(kind: str) -> Any:  # noqa: N802 - used as a type
    """Like `ComponentRef`, but ``None`` (YAML ``null``, CLI ``none``) disables the slot."""

    def resolve(value: Any) -> Any:
        if isinstance(value, str) and value.lower() in ("none", "null", ""):
            return None
        return _resolve(kind, value)

    return Annotated[
        SerializeAsAny[ComponentConfig] | None, BeforeValidator(resolve), Field(validate_default=True)
    ]


class PipelineConfig(BaseModel):
    """A whole text-to-image pipeline: encoder -> generator (with its fusion) -> refiner.

    Round-trips exactly through JSON and YAML.

    Example:
        >>> cfg = PipelineConfig(encoder="hashed-embedding", generator="tiny-conv")
        >>> PipelineConfig.from_json(cfg.to_json()) == cfg
        True
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    encoder: ComponentRef("encoder")
    generator: ComponentRef("generator")
    refiner: OptionalComponentRef("refiner") = None
    preset: str | None = Field(default=None, description="the model card this config came from")

    # -- serialisation -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    @classmethod
    def from_json(cls, text: str) -> PipelineConfig:
        return cls.model_validate(json.loads(text))

    @classmethod
    def from_yaml(cls, text: str) -> PipelineConfig:
        import yaml

        return cls.model_validate(yaml.safe_load(text))

    @classmethod
    def from_file(cls, path: str | Path) -> PipelineConfig:
        """Read a ``.json``, ``.yaml``/``.yml`` config file."""
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        if path.suffix in (".yaml", ".yml"):
            return cls.from_yaml(text)
        return cls.from_json(text)

    def components(self) -> dict[str, ComponentConfig]:
        """Every component config in the pipeline keyed by its dotted path."""
        out: dict[str, ComponentConfig] = {}

        def walk(prefix: str, cfg: ComponentConfig) -> None:
            out[prefix] = cfg
            for field, child in cfg.children().items():
                walk(f"{prefix}.{field}", child)

        for slot in ("encoder", "generator", "refiner"):
            cfg = getattr(self, slot)
            if cfg is not None:
                walk(slot, cfg)
        return out


# -- overrides --------------------------------------------------------------------------------
_BARE_EXPONENT = re.compile(r"[+-]?\d+[eE][+-]?\d+")


def _parse_scalar(text: str) -> Any:
    """CLI value -> Python value: YAML scalars/lists (``64``, ``true``, ``[1,2]``, ``none``)."""
    import yaml

    if text.lower() in ("none", "null"):
        return None
    try:
        # YAML 1.1 reads `5e-4` (no dot) as a string; users mean the number
        return float(text) if _BARE_EXPONENT.fullmatch(text) else yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def parse_cli_overrides(items: list[str]) -> dict[str, Any]:
    """Turn ``["generator.ngf=64", "refiner=none"]`` into ``{"generator.ngf": 64, "refiner": None}``.

    Example:
        >>> parse_cli_overrides(["generator.ngf=64", "refiner=none", "lr=5e-4"])
        {'generator.ngf': 64, 'refiner': None, 'lr': 0.0005}
    """
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"override {item!r} is not of the form key=value (e.g. generator.ngf=64)")
        out[key.strip()] = _parse_scalar(value.strip())
    return out


_SLOTS = ("encoder", "generator", "refiner")


def apply_overrides(data: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Apply keyword and dotted-path overrides to a plain config dict (returns a new dict).

    * ``encoder="clip"`` swaps the component: its fields reset to the new component's defaults.
    * ``{"generator.ngf": 64}`` sets one field; ``{"generator.fusion": "affine"}`` swaps a nested
      component.
    * ``refiner=None`` removes an optional slot.

    Example:
        >>> apply_overrides({"generator": {"name": "g", "ngf": 32}}, {"generator.ngf": 64})
        {'generator': {'name': 'g', 'ngf': 64}}
    """
    out = copy.deepcopy(dict(data))
    for path, value in overrides.items():
        keys = path.split(".")
        node: Any = out
        for i, key in enumerate(keys[:-1]):
            child = node.get(key) if isinstance(node, dict) else None
            if isinstance(child, str):  # "generator": "tiny-conv" -> expand to a dict
                child = {"name": child}
                node[key] = child
            if not isinstance(child, dict):
                where = ".".join(keys[: i + 1])
                raise KeyError(
                    f"override {path!r}: {where!r} is not a component or mapping in this config"
                )
            node = child
        last = keys[-1]
        if isinstance(node.get(last), dict) and isinstance(value, str) and _is_component_field(node, last):
            # swapping a component by name: start from the new component's defaults
            node[last] = {"name": value}
        else:
            node[last] = value
    return out


def _is_component_field(node: dict[str, Any], key: str) -> bool:
    return isinstance(node.get(key), dict) and "name" in node[key]
