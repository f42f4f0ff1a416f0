"""`build()`: preset or config + overrides -> checked config -> pipeline (-> weights)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter

from ._config import ComponentConfig, PipelineConfig, apply_overrides, component_type
from ._ports import check_connection
from ._registry import _loaded_registry

if TYPE_CHECKING:
    from .interfaces import Component
    from .pipeline import Text2ImagePipeline

__all__ = ["build", "build_config", "create_component", "check_ports", "resolve_component_config",
           "component_card", "component_card_config", "load_component_weights", "require_pipeline_preset"]

_KIND_BASES = {
    "encoder": "Encoder",
    "fusion": "Fusion",
    "generator": "Generator",
    "refiner": "Refiner",
    "evaluator": "Evaluator",
}


def resolve_component_config(kind: str, spec: str | Mapping[str, Any] | ComponentConfig) -> ComponentConfig:
    """Validate a component given by name, mapping or config into its registered config class."""
    return _adapter(kind).validate_python(spec)


@cache
def _adapter(kind: str) -> TypeAdapter:
    return TypeAdapter(component_type(kind))


def create_component(kind: str, spec: str | Mapping[str, Any] | ComponentConfig, **context: Any) -> Component:
    """Construct one registered component from a name, a mapping or a config.

    ``context`` carries values the component cannot know from its own config (a fusion block's
    ``channels`` and text widths, given by the generator that owns it).

    Example:
        >>> import t2izoo
        >>> fusion = t2izoo.create_component("fusion", "sentence-concat", channels=8, sentence_dim=16)
        >>> fusion.out_channels
        8
    """
    from . import interfaces

    config = resolve_component_config(kind, spec)
    entry = _loaded_registry().get(kind, config.name)
    module = entry.load_factory()(config, **context)
    base = getattr(interfaces, _KIND_BASES[kind])
    if not isinstance(module, base):
        raise TypeError(
            f"{kind} '{entry.name}' (plugin '{entry.plugin}') built a {type(module).__name__}, "
            f"which is not a t2izoo.{base.__name__}"
        )
    return module


def _label(slot: str, cfg: ComponentConfig) -> str:
    return f"{slot} '{cfg.name}'"


def check_ports(config: PipelineConfig) -> None:
    """Raise `PortMismatchError` when two connected components disagree on a port.

    Connections: encoder -> generator (and every component nested in the generator),
    encoder -> refiner, generator -> refiner.
    """
    enc, gen, ref = config.encoder, config.generator, config.refiner
    enc_ports = enc.ports()
    check_connection(_label("encoder", enc), enc_ports, _label("generator", gen), gen.ports())
    for path, child in config.components().items():
        if path.startswith("generator."):
            check_connection(_label("encoder", enc), enc_ports, _label(path, child), child.ports())
    if ref is not None:
        ref_ports = ref.ports()
        check_connection(_label("encoder", enc), enc_ports, _label("refiner", ref), ref_ports)
        check_connection(_label("generator", gen), gen.ports(), _label("refiner", ref), ref_ports)


def _base_dict(name_or_config: str | Path | Mapping[str, Any] | PipelineConfig) -> dict[str, Any]:
    from ._cards import CardError, load_card

    if isinstance(name_or_config, PipelineConfig):
        return name_or_config.to_dict()
    if isinstance(name_or_config, Mapping):
        return dict(name_or_config)
    text = str(name_or_config)
    path = Path(text)
    if path.is_dir() and (path / "pipeline.json").is_file():
        return PipelineConfig.from_file(path / "pipeline.json").to_dict()
    if path.suffix in (".json", ".yaml", ".yml") and path.is_file():
        return PipelineConfig.from_file(path).to_dict()
    card = load_card(text)
    if card.kind != "pipeline":
        raise CardError(_not_a_pipeline(card))
    data = dict(card.config)
    data.setdefault("preset", card.preset)
    return data


def _not_a_pipeline(card: Any) -> str:
    a = "an" if card.kind[0] in "aeiou" else "a"
    return (f"preset {card.preset!r} is {a} {card.kind} card ({card.path}), not a pipeline: "
            f"t2izoo.build({card.preset!r}) returns the {card.kind} itself; this needs a pipeline preset "
            "(`t2izoo list` marks component cards).")


def require_pipeline_preset(name: Any) -> None:
    """Raise `CardError` when ``name`` is a component card (for commands that need a pipeline).

    Example:
        >>> require_pipeline_preset("shapes-tiny")  # a pipeline preset: nothing happens
    """
    from ._cards import CardError

    card = component_card(name)
    if card is not None:
        raise CardError(_not_a_pipeline(card))


def build_config(
    name_or_config: str | Path | Mapping[str, Any] | PipelineConfig,
    overrides: Mapping[str, Any] | None = None,
    **kw_overrides: Any,
) -> PipelineConfig:
    """Resolve a preset/config and overrides into a validated, port-checked `PipelineConfig`.

    Example:
        >>> import t2izoo
        >>> cfg = t2izoo.build_config("shapes-tiny", {"generator.ngf": 16}, refiner=None)
        >>> cfg.generator.ngf, cfg.refiner
        (16, None)
    """
    data = _base_dict(name_or_config)
    merged = {**(overrides or {}), **kw_overrides}
    if merged:
        data = apply_overrides(data, merged)
    config = PipelineConfig.model_validate(data)
    check_ports(config)
    return config


def build(
    name_or_config: str | Path | Mapping[str, Any] | PipelineConfig,
    overrides: Mapping[str, Any] | None = None,
    *,
    pretrained: bool | str | Path | None = None,
    device: Any = None,
    dtype: Any = None,
    lock: str | Path | None = None,
    local_files_only: bool | None = None,
    allow_pickle: bool = False,
    **kw_overrides: Any,
) -> Text2ImagePipeline | Component:
    """Build a pipeline from a preset name, a config file, a model directory or a config.

    A component card (``kind: encoder``, ``kind: evaluator``, e.g. ``shapes-clip``,
    ``shapes-fid``) builds that one component instead, with the same ``pretrained``, ``lock``
    and offline rules; overrides then name the component's own fields (``{"frozen": False}``).

    Args:
        name_or_config: a preset (``"shapes-tiny"``), a ``.json``/``.yaml`` config, a directory
            written by ``save_pretrained`` or a `PipelineConfig`/mapping.
        overrides: dotted-path overrides, ``{"generator.ngf": 64}``.
        pretrained: ``None``/``False`` for fresh weights; a directory from ``save_pretrained``
            (loaded with strict key matching); ``True`` for the weights named in the preset's card
            (HF cache, then the bundled ``hub/`` folder, then the Hub; every file sha256-checked).
        device, dtype: where to put the pipeline.
        lock: a lock file from ``t2izoo lock``: the preset's card must match its entry (config,
            repo, revision, file hashes) and weights are loaded at the locked commit.
        local_files_only: never download (as ``HF_HUB_OFFLINE=1``); missing files are named.
        allow_pickle: let ``pretrained`` read legacy ``.pth``/``.bin`` state dicts, always with
            ``torch.load(weights_only=True)``; safetensors only otherwise.
        **kw_overrides: slot swaps such as ``encoder="clip"`` or ``refiner=None``.

    Raises:
        pydantic.ValidationError: a bad config, with the full field path.
        PortMismatchError: two components disagree (raised before any weights load).
        WeightsError: weights are missing or fail their sha256 check; ``LockError`` on drift.

    Example:
        >>> import t2izoo
        >>> pipe = t2izoo.build("shapes-tiny", refiner=None)
        >>> out = pipe(["a red circle"], seed=0)
        >>> out.tensors.shape[-1]
        64
        >>> t2izoo.build("shapes-clip").kind  # a component card
        'encoder'
    """
    from .pipeline import Text2ImagePipeline

    card = component_card(name_or_config)
    if card is not None:
        merged = {**(overrides or {}), **kw_overrides}
        module = _build_component(card, merged, pretrained, lock, local_files_only, allow_pickle)
        if device is not None or dtype is not None:
            module = module.to(device=device, dtype=dtype)
        return module.eval()
    if pretrained is not None and pretrained is not False and pretrained is not True:
        directory = Path(pretrained)
        if not overrides and not kw_overrides and isinstance(name_or_config, str):
            # the directory's own config is authoritative; the preset name only labels it
            config = build_config(directory)
        else:
            config = build_config(name_or_config, overrides, **kw_overrides)
        pipe = Text2ImagePipeline.from_config(config)
        pipe.load_pretrained_weights(directory, strict=True, allow_pickle=allow_pickle)
    else:
        config = build_config(name_or_config, overrides, **kw_overrides)
        entry = _check_lock(config.preset or str(name_or_config), lock) if lock is not None else None
        pipe = Text2ImagePipeline.from_config(config)
        if pretrained is True:
            folder = _card_weights(config.preset or str(name_or_config), lock, entry, local_files_only, allow_pickle)
            pipe.load_pretrained_weights(folder, strict=True, allow_pickle=allow_pickle)
    if device is not None or dtype is not None:
        pipe = pipe.to(device=device, dtype=dtype)
    return pipe.eval()


def component_card(name: Any) -> Any:
    """The card named by ``name`` when it describes one component (``kind`` other than pipeline), else None.

    Example:
        >>> component_card("shapes-tiny") is None  # a pipeline card
        True
    """
    from ._cards import card_paths, load_card

    if not isinstance(name, str) or name not in card_paths():
        return None
    card = load_card(name)
    return card if card.kind != "pipeline" else None


def component_card_config(card: Any, overrides: Mapping[str, Any] | None = None) -> ComponentConfig:
    """A component card's config with ``overrides`` applied, validated (defaults filled in).

    Example:
        >>> component_card_config(t2izoo.load_card("shapes-clip"), {"frozen": False}).frozen  # doctest: +SKIP
        False
    """
    data = apply_overrides(card.config, overrides) if overrides else dict(card.config)
    return resolve_component_config(card.kind, data)


def _build_component(card: Any, overrides: Mapping[str, Any], pretrained: bool | str | Path | None,
                     lock: str | Path | None, local_files_only: bool | None, allow_pickle: bool) -> Component:
    """A component card's component; ``pretrained`` as for pipelines (True: the card's pinned weights)."""
    data = component_card_config(card, overrides)
    entry = _check_lock(card.preset, lock) if lock is not None else None
    if pretrained is None or pretrained is False:
        return create_component(card.kind, data)
    folder = (_card_weights(card.preset, lock, entry, local_files_only, allow_pickle) if pretrained is True
              else Path(pretrained))
    return load_component_weights(card.kind, data, folder, allow_pickle=allow_pickle, origin=card.preset)


def load_component_weights(kind: str, config: Mapping[str, Any] | ComponentConfig, folder: Path, *,
                           allow_pickle: bool = False,
                           origin: str = "") -> Component:
    """Build a component of ``kind`` from ``config`` and fill it from ``folder``.

    A folder in t2izoo component layout (``model.safetensors``) is loaded with strict key
    matching. A folder that holds a backbone's own files (the shapes classifier) is handed to the
    component's ``weights`` field, whose loader reads and verifies it.

    Example:
        >>> clip = load_component_weights("encoder", t2izoo.load_card("shapes-clip").config,
        ...                               t2izoo.download_preset_weights("shapes-clip"))  # doctest: +SKIP
    """
    from ._hub import WeightsError
    from ._persist import LEGACY_WEIGHTS_NAMES, WEIGHTS_NAME, fill_component

    if (folder / WEIGHTS_NAME).is_file() or any((folder / n).is_file() for n in LEGACY_WEIGHTS_NAMES):
        module = create_component(kind, config)
        fill_component(module, folder, allow_pickle=allow_pickle)
        return module
    cfg = resolve_component_config(kind, config)
    if "weights" in type(cfg).model_fields:
        return create_component(kind, {**cfg.model_dump(), "weights": str(folder)})
    raise WeightsError(
        f"{origin or kind}: {folder} holds no {WEIGHTS_NAME}, and {kind} '{cfg.name}' has no `weights` field "
        "to hand the folder to"
    )


def _check_lock(preset: str, lock: str | Path) -> dict[str, Any]:
    from ._lock import check_lock

    return check_lock(preset, lock)


def _card_weights(preset: str, lock: str | Path | None, entry: dict[str, Any] | None,
                  local_files_only: bool | None, allow_pickle: bool) -> Path:
    """The folder of a preset's verified weights: pinned by the lock entry when given, else by the card."""
    from ._cards import load_card
    from ._hub import WeightsError, WeightsSpec, resolve_weights
    from ._lock import locked_spec

    if entry is not None and entry.get("weights"):
        spec = locked_spec(preset, entry, str(lock))
    else:
        card = load_card(preset)
        if not card.weights:
            raise WeightsError(
                f"preset '{preset}' publishes no weights (its card {card.path} has `weights: null`). "
                f"Train it with `t2izoo train {preset} --out DIR` and load it with "
                f"build('{preset}', pretrained='DIR/final'), or publish a run with `t2izoo publish`."
            )
        spec = WeightsSpec.parse(card.weights, origin=str(card.path))
    return resolve_weights(spec, preset=preset, local_files_only=local_files_only, allow_pickle=allow_pickle).folder
