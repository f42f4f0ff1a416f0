"""The ``t5`` encoder: a transformers ``T5EncoderModel`` with T5's sentencepiece tokenizer.

Weights come from a Hub id (through the Hugging Face cache, so a pre-filled cache works offline),
from a local folder written by ``save_pretrained``, or from nowhere (``pretrained: false``: random
init from ``architecture``). Whatever is missing is named in the error, with how to get it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import torch

import t2izoo
from t2izoo.types import TextFeatures, TokenBatch

from .configs import T5EncoderConfig

__all__ = ["T5Encoder", "T5WeightsError", "load_t5"]

_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")
_SPIECE = "spiece.model"


class T5WeightsError(t2izoo.WeightsError):
    """T5 weights or tokenizer named in a config cannot be found or fetched."""


def _is_path(model: str) -> bool:
    return model.startswith(("/", ".", "~")) or model.count("/") > 1 or Path(model).expanduser().exists()


def _cache_hint(cache_dir: str | None) -> str:
    where = cache_dir or os.environ.get("HF_HUB_CACHE") or str(
        Path(os.environ.get("HF_HOME", "~/.cache/huggingface")) / "hub"
    )
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
    return f"looked in the Hugging Face cache {where}" + (" with HF_HUB_OFFLINE=1 (no download tried)" if offline else "")


def _how_to_get(model: str) -> str:
    return (
        f"To get it: on a machine with internet run `hf download {model}` (or "
        f"`python -c \"from transformers import T5EncoderModel; T5EncoderModel.from_pretrained('{model}')\"`) "
        "and copy the Hugging Face cache into this machine's HF_HOME, or save the model and its spiece.model "
        "into a folder and set t5.model=/path/to/folder."
    )


def _check_local_folder(folder: Path, need_weights: bool) -> None:
    if not folder.is_dir():
        raise FileNotFoundError(
            f"t5.model={str(folder)!r}: no such folder. Give a Hub id (t5-small) or a folder written by "
            "T5EncoderModel.save_pretrained (config.json + model.safetensors) with its spiece.model."
        )
    missing = [] if (folder / "config.json").is_file() else ["config.json"]
    if need_weights and not any((folder / f).is_file() for f in _WEIGHT_FILES):
        missing.append(" or ".join(_WEIGHT_FILES[::2]))
    if missing:
        raise FileNotFoundError(
            f"t5.model={str(folder)!r} is missing {', '.join(missing)} (write it with "
            "T5EncoderModel.save_pretrained(folder)); or set t5.pretrained=false for a random init"
        )


def _tokenizer_file(config: T5EncoderConfig) -> Path:
    """The spiece.model to use: explicit, the model folder's, the Hub repo's, or the bundled shapes one."""
    from t2izoo.data import SHAPES_SPIECE_MODEL

    if config.tokenizer is not None:
        path = Path(config.tokenizer).expanduser()
        path = path / _SPIECE if path.is_dir() else path
        if not path.is_file():
            raise FileNotFoundError(f"t5.tokenizer={config.tokenizer!r}: no spiece.model there")
        return path
    if _is_path(config.model):
        if config.pretrained or not config.architecture:  # the folder must exist before its tokenizer is looked for
            _check_local_folder(Path(config.model).expanduser(), need_weights=config.pretrained)
        path = Path(config.model).expanduser() / _SPIECE
        if path.is_file():
            return path
        if config.pretrained:
            raise FileNotFoundError(
                f"t5.model={config.model!r} has no {_SPIECE}: copy the checkpoint's tokenizer file there "
                "or name one with t5.tokenizer=/path/to/spiece.model"
            )
        return SHAPES_SPIECE_MODEL
    if not config.pretrained:
        return SHAPES_SPIECE_MODEL
    try:
        from huggingface_hub import hf_hub_download

        return Path(hf_hub_download(config.model, _SPIECE, revision=config.revision, cache_dir=config.cache_dir))
    except Exception as err:  # noqa: BLE001 - any hub failure becomes one clear message
        raise T5WeightsError(
            f"t5.model={config.model!r}: its tokenizer file {_SPIECE} is not available ({_cache_hint(config.cache_dir)}; "
            f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}). {_how_to_get(config.model)}"
        ) from err


def load_t5(config: T5EncoderConfig, vocab_size: int) -> Any:
    """The ``T5EncoderModel`` a config names (weights loaded, or random from ``architecture``).

    Raises:
        FileNotFoundError: a local folder without config.json / weights.
        T5WeightsError: a Hub id whose files are neither cached nor downloadable.
    """
    from transformers import T5Config, T5EncoderModel

    local = _is_path(config.model)
    if not config.pretrained:
        if config.architecture:
            cfg = T5Config(**{"vocab_size": vocab_size, "dropout_rate": 0.0, **config.architecture})
        else:
            folder = Path(config.model).expanduser()
            _check_local_folder(folder, need_weights=False)
            cfg = T5Config.from_pretrained(str(folder))
        return T5EncoderModel(cfg)
    if local:
        folder = Path(config.model).expanduser()
        _check_local_folder(folder, need_weights=True)
        return T5EncoderModel.from_pretrained(str(folder))
    try:
        return T5EncoderModel.from_pretrained(config.model, revision=config.revision, cache_dir=config.cache_dir)
    except Exception as err:  # noqa: BLE001
        raise T5WeightsError(
            f"t5.model={config.model!r}: the weights are not available ({_cache_hint(config.cache_dir)}; "
            f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}). {_how_to_get(config.model)}"
        ) from err


class T5Encoder(t2izoo.Encoder):
    """Captions -> `TextFeatures` with a T5 encoder.

    * ``words``: the last hidden states ``[B, L, d_model]``, zero at padding, ``mask`` True there.
    * ``sentence``: the mean of the last hidden states over the real tokens (the seed paper's
      512-d caption feature with t5-small).

    Example:
        >>> import t2izoo
        >>> enc = t2izoo.create_component("encoder", {"name": "t5", "pretrained": False,
        ...     "architecture": {"d_model": 16, "d_ff": 32, "num_layers": 1, "num_heads": 2, "d_kv": 8}})
        >>> enc.encode(["a red circle", "a big blue square"]).sentence.shape
        torch.Size([2, 16])
    """

    def __init__(self, config: T5EncoderConfig, **_: Any) -> None:
        super().__init__(config)
        from t2izoo.data import T5Tokenizer

        self.spiece_file = _tokenizer_file(config)
        extra = config.extra_ids if config.extra_ids is not None else (100 if config.pretrained else 0)
        self.tokenizer = T5Tokenizer(self.spiece_file, max_length=config.max_length, extra_ids=extra)
        self.t5 = load_t5(config, vocab_size=self.tokenizer.vocab_size)
        rows = self.t5.get_input_embeddings().weight.shape[0]
        if rows < self.tokenizer.vocab_size - extra:
            raise ValueError(
                f"t5: the tokenizer {self.spiece_file} has {self.tokenizer.vocab_size - extra} pieces but the "
                f"model embeds only {rows} ids; use the checkpoint's own spiece.model"
            )
        declared = config.width()
        if declared is not None and declared != self.t5.config.d_model:
            raise ValueError(f"t5.d_model={declared} but the loaded model has d_model={self.t5.config.d_model}")
        if config.frozen:
            self.t5.requires_grad_(False)
            self.t5.eval()

    def train(self, mode: bool = True) -> T5Encoder:
        super().train(mode)
        if self.config.frozen:  # a frozen T5 stays in eval mode (no dropout)
            self.t5.eval()
        return self

    def forward(self, tokens: TokenBatch) -> TextFeatures:
        device = self.t5.get_input_embeddings().weight.device
        ids = tokens.ids.to(device)
        keep = torch.arange(ids.shape[1], device=device)[None, :] < tokens.lengths.to(device)[:, None]
        hidden = self.t5(input_ids=ids, attention_mask=keep.long()).last_hidden_state
        weights = keep.unsqueeze(-1).to(hidden.dtype)
        words = hidden * weights
        sentence = words.sum(1) / weights.sum(1).clamp(min=1)
        return TextFeatures(words=words, mask=~keep, sentence=sentence)

    def save_assets(self, directory: Path) -> None:
        """Keep the tokenizer beside the weights, so a saved pipeline carries it."""
        shutil.copyfile(self.spiece_file, Path(directory) / _SPIECE)
