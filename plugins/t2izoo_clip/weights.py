"""Build an open_clip model from a `CLIPEncoderConfig`, with errors that say what is missing.

open_clip downloads weights on demand; on an offline machine that fails deep inside
huggingface_hub. Here every way of naming weights (tag, ``hf-hub:`` id, file) is checked first,
and a failure names the model, the weights, where they were looked for and how to get them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import t2izoo

from .configs import MODEL_CONFIG_DIR, CLIPEncoderConfig

__all__ = ["CLIPWeightsError", "create_open_clip", "register_model_configs"]

_WEIGHT_SUFFIXES = (".pt", ".pth", ".bin", ".safetensors", ".ckpt")


#: tags this plugin adds (model -> tag -> the preset whose pinned weights they are), trained by the
#: project; the card's weights live in Hub layout under hub/ (bundle_shapes_clip.py says how they
#: were made and measured) and resolve like any preset's: HF cache, bundled hub/, then the Hub
PRESET_TAGS: dict[str, dict[str, str]] = {"shapes-clip-tiny": {"shapes": "shapes-clip"}}


class CLIPWeightsError(t2izoo.WeightsError):
    """CLIP weights named in a config cannot be found or fetched."""


def register_model_configs() -> None:
    """Make this plugin's architectures (``shapes-clip-tiny``) known to open_clip (idempotent)."""
    import open_clip

    from .configs import architecture

    names = [p.stem for p in MODEL_CONFIG_DIR.glob("*.json")]
    if any(n not in open_clip.list_models() for n in names):
        open_clip.add_model_config(MODEL_CONFIG_DIR)
    for n in names:
        architecture(n)  # warm the pydantic-side cache too


@contextmanager
def _quiet_root_warnings() -> Iterator[None]:
    root = logging.getLogger()
    previous = root.level
    root.setLevel(max(previous, logging.ERROR))
    try:
        yield
    finally:
        root.setLevel(previous)


def _hf_cache_hint(cache_dir: str | None) -> str:
    where = cache_dir or os.environ.get("HF_HUB_CACHE") or (
        str(Path(os.environ.get("HF_HOME", "~/.cache/huggingface")) / "hub")
    )
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
    return f"looked in the Hugging Face cache {where}" + (" (HF_HUB_OFFLINE=1: no download tried)" if offline else "")


def _looks_like_path(value: str) -> bool:
    return os.sep in value or "/" in value or value.endswith(_WEIGHT_SUFFIXES) or value.startswith((".", "~"))


def _tag_source(cfg: dict[str, Any]) -> str:
    parts = []
    if cfg.get("hf_hub"):
        parts.append(f"https://huggingface.co/{cfg['hf_hub'].rstrip('/')}")
    if cfg.get("url"):
        parts.append(cfg["url"])
    return " or ".join(parts) or "(no download source recorded by open_clip)"


def create_open_clip(config: CLIPEncoderConfig) -> Any:
    """The open_clip model ``config`` names, with its weights loaded (or randomly initialised).

    Raises:
        FileNotFoundError: ``pretrained`` is a path that does not exist.
        ValueError: ``pretrained`` is neither a file nor a tag open_clip knows for ``model``.
        CLIPWeightsError: a tag or ``hf-hub:`` id whose weights cannot be fetched (offline).
    """
    import open_clip

    register_model_configs()
    import torch

    # honour `with torch.device(...)` (e.g. "meta" to size a model without allocating it)
    kwargs: dict[str, Any] = {
        "force_context_length": config.context_length,
        "cache_dir": config.cache_dir,
        "device": torch.get_default_device(),
    }
    pretrained = config.pretrained
    if config.architecture is not None:
        return _from_inline_architecture(config, open_clip)

    if config.model.startswith("hf-hub:"):
        repo = config.model[len("hf-hub:"):]
        try:
            open_clip.pretrained.download_pretrained_from_hf(repo, cache_dir=config.cache_dir)
            return open_clip.create_model(config.model, **kwargs)
        except Exception as err:  # noqa: BLE001 - any hub failure becomes one clear message
            raise CLIPWeightsError(
                f"clip.model={config.model!r}: cannot load the open_clip config/weights of Hugging Face repo "
                f"{repo!r} ({_hf_cache_hint(config.cache_dir)}; {type(err).__name__}: {err}). To get them: on a "
                f"machine with internet run `huggingface-cli download {repo}` and copy the cache to this "
                "machine's HF_HOME, or download the repo folder and use clip.model='local-dir:/path/to/folder'."
            ) from err

    if pretrained is None:
        # truly random: also skip the HF text-tower weights open_clip would otherwise fetch, and
        # silence open_clip's "initialized randomly" warning, which is what was asked for
        with _quiet_root_warnings():
            return open_clip.create_model(config.model, pretrained=None, pretrained_text=False, **kwargs)

    preset = PRESET_TAGS.get(config.model, {}).get(pretrained)
    if preset is not None:
        return _from_preset(config, open_clip, preset, kwargs)

    tag_cfg = open_clip.get_pretrained_cfg(config.model, pretrained)
    if not tag_cfg:
        if Path(pretrained).expanduser().is_file():
            return open_clip.create_model(config.model, pretrained=str(Path(pretrained).expanduser()), **kwargs)
        if _looks_like_path(pretrained):
            raise FileNotFoundError(
                f"clip.pretrained={pretrained!r}: no such checkpoint file for clip.model={config.model!r}. "
                "Give the path of an open_clip checkpoint (.pt/.bin/.safetensors state dict), an open_clip "
                f"tag ({', '.join(open_clip.list_pretrained_tags_by_model(config.model)[:6]) or 'none known'}), "
                "or null for random initialisation."
            )
        tags = [*PRESET_TAGS.get(config.model, {}), *open_clip.list_pretrained_tags_by_model(config.model)]
        raise ValueError(
            f"clip.pretrained={pretrained!r} is not an open_clip tag for {config.model!r} nor an existing file. "
            f"Tags for {config.model}: {', '.join(tags) or 'none (use a checkpoint file or null)'}"
        )
    if tag_cfg.get("quick_gelu") and not config.model.endswith("quickgelu"):
        kwargs["force_quick_gelu"] = True  # OpenAI-era weights were trained with QuickGELU
    try:
        return open_clip.create_model(config.model, pretrained=pretrained, **kwargs)
    except Exception as err:  # noqa: BLE001
        raise CLIPWeightsError(
            f"clip.pretrained={pretrained!r} for clip.model={config.model!r}: the weights are not available "
            f"({_hf_cache_hint(config.cache_dir)}; {type(err).__name__}: {err}). They come from "
            f"{_tag_source(tag_cfg)}. To use them offline: on a machine with internet run "
            f"`python -c \"import open_clip; open_clip.create_model('{config.model}', pretrained='{pretrained}')\"` "
            "and copy its Hugging Face cache into this machine's HF_HOME, or download the checkpoint file and "
            "set clip.pretrained=/path/to/file."
        ) from err


def _from_preset(config: CLIPEncoderConfig, open_clip: Any, preset: str, kwargs: dict[str, Any]) -> Any:
    """The open_clip model with the weights pinned by ``preset``'s card (an encoder card, component layout)."""
    from safetensors.torch import load_file

    try:
        folder = t2izoo.download_preset_weights(preset)
    except t2izoo.WeightsError as err:
        raise CLIPWeightsError(
            f"clip.pretrained={config.pretrained!r} for clip.model={config.model!r} is the weights of preset "
            f"{preset!r}, which cannot be found: {err}"
        ) from err
    with _quiet_root_warnings():
        model = open_clip.create_model(config.model, pretrained=None, pretrained_text=False, **kwargs)
    reference = model.state_dict()
    # the card's repo is a saved `clip` encoder: its keys are open_clip's under "clip."
    prefix = "clip."
    state = {k[len(prefix):]: v for k, v in load_file(str(folder / "model.safetensors")).items()
             if k.startswith(prefix)}
    state = {k: v.to(reference[k].dtype) if k in reference else v for k, v in state.items()}
    model.load_state_dict(state, strict=True)
    return model


def _from_inline_architecture(config: CLIPEncoderConfig, open_clip: Any) -> Any:
    arch = dict(config.architecture or {})
    text_cfg = dict(arch.get("text_cfg", {}))
    if config.context_length is not None:
        text_cfg["context_length"] = config.context_length
    arch["text_cfg"] = text_cfg
    custom = arch.pop("custom_text", False) or "hf_model_name" in text_cfg
    cls = open_clip.CustomTextCLIP if custom else open_clip.CLIP
    model = cls(**arch)
    pretrained = config.pretrained
    if pretrained is not None:
        path = Path(pretrained).expanduser()
        if not path.is_file():
            raise FileNotFoundError(
                f"clip.pretrained={pretrained!r}: no such checkpoint file (with clip.architecture given inline, "
                "pretrained must be a file path or null)"
            )
        open_clip.load_checkpoint(model, str(path))
    return model
