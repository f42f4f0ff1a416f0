"""One component on disk: ``config.json`` + ``model.safetensors`` (+ assets, + ``README.md``).

Shared by `Component.save_pretrained` / `from_pretrained` / `push_to_hub` and by the pipeline,
which writes one such folder per slot. The safetensors metadata records the component's kind, so
``Component.from_pretrained(dir)`` can rebuild it without being told.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ._fs import replace_directory
from ._hub import PICKLE_SUFFIXES, WeightsError, push_folder, snapshot_repo

if TYPE_CHECKING:
    from .interfaces import Component

__all__ = ["WEIGHTS_NAME", "CONFIG_NAME", "LEGACY_WEIGHTS_NAMES", "write_component", "save_component",
           "load_state", "fill_component", "load_component", "push_component", "resolve_model_dir"]

WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.json"
# state dicts a folder may hold instead of safetensors; read only when pickle is allowed
LEGACY_WEIGHTS_NAMES = ("pytorch_model.bin", "model.pth", "model.pt")


def untie(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """safetensors refuses shared storage: give tied tensors their own copy."""
    seen: dict[tuple[int, int], str] = {}
    out = {}
    for key, value in state.items():
        ident = (value.untyped_storage().data_ptr(), value.storage_offset())
        out[key] = value.clone() if ident in seen and value.numel() > 0 else value
        seen.setdefault(ident, key)
    return out


def write_component(module: Component, directory: Path, kind: str) -> None:
    """Write config, weights and assets of ``module`` into an existing ``directory``."""
    from safetensors.torch import save_file

    (directory / CONFIG_NAME).write_text(json.dumps(module.config.model_dump(mode="json"), indent=2))
    external = tuple(module.external_weights())
    state = {k: v.detach().contiguous().cpu() for k, v in module.state_dict().items() if not k.startswith(external)}
    save_file(untie(state), str(directory / WEIGHTS_NAME), metadata={"format": "pt", "t2izoo": kind})
    module.save_assets(directory)


def _component_readme(module: Component, kind: str) -> str:
    name = module.config.name
    return (
        f"---\nlibrary_name: t2izoo\ntags: [t2izoo, text-to-image, {kind}]\n---\n\n"
        f"# {kind} `{name}`\n\nA t2izoo {kind} component: `config.json` is its config, "
        f"`model.safetensors` its weights.\n\n```python\nimport t2izoo\n"
        f"{kind} = t2izoo.{kind.capitalize()}.from_pretrained(\"THIS_REPO_OR_FOLDER\")\n```\n"
    )


def save_component(module: Component, directory: str | Path) -> Path:
    """Write one component as a self-describing folder (atomically, like the pipeline).

    Example:
        >>> enc = t2izoo.create_component("encoder", "hashed-embedding")  # doctest: +SKIP
        >>> save_component(enc, "out/encoder")  # doctest: +SKIP
    """
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        write_component(module, tmp, module.kind)
        (tmp / "README.md").write_text(_component_readme(module, module.kind), encoding="utf-8")
        replace_directory(tmp, directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return directory


def with_external_weights(module: Component, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``state`` plus the module's own tensors under `Component.external_weights` that it lacks
    (the built module already holds them, e.g. a frozen CLIP trunk)."""
    external = tuple(module.external_weights()) if hasattr(module, "external_weights") else ()
    if not external:
        return state
    own = {k: v for k, v in module.state_dict().items() if k.startswith(external) and k not in state}
    return {**own, **state}


def load_weights(module: Component, state: dict[str, torch.Tensor], *, strict: bool = True) -> Any:
    """``module.load_state_dict(state, strict)``, where keys under `Component.external_weights`
    may be absent (the built module already holds them); any other missing key still fails.
    """
    return module.load_state_dict(with_external_weights(module, state), strict=strict)


def fill_component(module: Component, directory: Path, *, device: Any = None, allow_pickle: bool = False) -> None:
    """Load ``directory``'s assets and weights into a built ``module`` (strict key matching)."""
    module.load_assets(directory)
    load_weights(module, load_state(directory, device=device or module.device, allow_pickle=allow_pickle),
                 strict=True)


def load_state(directory: Path, *, device: Any = "cpu", allow_pickle: bool = False) -> dict[str, torch.Tensor]:
    """The state dict in ``directory``: ``model.safetensors``, or a legacy file if allowed.

    Legacy files are read with ``torch.load(weights_only=True)`` only: no arbitrary unpickling.
    """
    safetensors = directory / WEIGHTS_NAME
    if safetensors.is_file():
        from safetensors.torch import load_file

        return load_file(str(safetensors), device=str(device))
    legacy = [directory / n for n in LEGACY_WEIGHTS_NAMES if (directory / n).is_file()]
    if legacy and not allow_pickle:
        raise WeightsError(
            f"{directory} holds only {legacy[0].name} (a pickle checkpoint); t2izoo loads safetensors by default. "
            "Pass allow_pickle=True to read it with torch.load(weights_only=True)."
        )
    if legacy:
        state = torch.load(legacy[0], map_location=device, weights_only=True)
        if not isinstance(state, dict):
            raise WeightsError(f"{legacy[0]} does not hold a state dict (found {type(state).__name__})")
        return state
    raise FileNotFoundError(f"{safetensors} is missing (no weights in {directory})")


def _kind_of(directory: Path) -> str | None:
    path = directory / WEIGHTS_NAME
    if not path.is_file():
        return None
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as fh:
        return (fh.metadata() or {}).get("t2izoo")


def resolve_model_dir(repo_or_dir: str | Path, *, revision: str | None = None,
                      local_files_only: bool | None = None, allow_pickle: bool = False) -> Path:
    """A local folder as is; anything else is a Hub repo id, fetched (or found in the cache)."""
    path = Path(repo_or_dir)
    if path.is_dir():
        return path
    text = str(repo_or_dir)
    if path.is_absolute() or text.startswith((".", "~")) or text.count("/") > 1:
        raise FileNotFoundError(f"model directory {text} does not exist")
    return snapshot_repo(text, revision=revision, local_files_only=local_files_only, allow_pickle=allow_pickle)


def load_component(
    repo_or_dir: str | Path,
    *,
    kind: str | None = None,
    revision: str | None = None,
    local_files_only: bool | None = None,
    allow_pickle: bool = False,
    device: Any = None,
    **context: Any,
) -> Component:
    """Rebuild a component saved by `save_component` (strict key matching).

    ``context`` is what the component's owner normally passes (a fusion's ``channels``).

    Example:
        >>> enc = load_component("out/encoder")  # doctest: +SKIP
    """
    from ._build import create_component

    directory = resolve_model_dir(repo_or_dir, revision=revision, local_files_only=local_files_only,
                                  allow_pickle=allow_pickle)
    config_path = directory / CONFIG_NAME
    if not config_path.is_file():
        raise FileNotFoundError(f"{config_path} is missing: {repo_or_dir} is not a saved t2izoo component")
    stored = _kind_of(directory)
    if kind and stored and kind != stored:
        raise TypeError(f"{repo_or_dir} holds a component of kind {stored!r}, not {kind!r} (per its weights metadata)")
    kind = kind or stored
    if not kind:
        raise ValueError(f"{directory}: cannot tell the component kind; pass kind='encoder' (or call "
                         "Encoder.from_pretrained / Generator.from_pretrained ...)")
    module = create_component(kind, json.loads(config_path.read_text(encoding="utf-8")), **context)
    fill_component(module, directory, device=device, allow_pickle=allow_pickle)
    if device is not None:
        module = module.to(device)
    return module.eval()


def push_component(module: Component, repo_id: str, **kwargs: Any) -> Any:
    """Save ``module`` to a temporary folder and commit it to ``repo_id`` (see `push_folder`)."""
    with tempfile.TemporaryDirectory(prefix="t2izoo-push-") as tmp:
        folder = save_component(module, Path(tmp) / "model")
        return push_folder(folder, repo_id, **kwargs)


def is_pickle(path: str | Path) -> bool:
    return str(path).endswith(PICKLE_SUFFIXES)
