"""Helpers that checkpoint converters (``t2izoo convert <name>``) share.

Generic: `ConversionError`, `read_checkpoint` (a legacy ``.pth`` read with
``torch.load(weights_only=True)``, so no code from the file runs), `tensor_shape` and
`match_state_dict` (a strict key-for-key match whose errors name the file and the missing and
unexpected keys). AttnGAN-family specific: `infer_damsm_text_encoder_config` (the DAMSM
``RNN_ENCODER`` -> ``lstm`` encoder config) and `convert_damsm_image_encoder` (the DAMSM
``CNN_ENCODER`` -> a saved `t2izoo.nn.DAMSMImageEncoder`), used by every converter whose release
ships AttnGAN's DAMSM files.

Importing this module does not import torch; the functions do when called.

Example:
    >>> import torch, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "net.pth"
    >>> torch.save({"module.fc.weight": torch.zeros(2, 3)}, path)
    >>> state = read_checkpoint(path)
    >>> list(state), tensor_shape(state, "fc.weight", str(path))
    (['fc.weight'], (2, 3))
    >>> sorted(match_state_dict(torch.nn.Linear(3, 2, bias=False), {"weight": torch.ones(2, 3)}, "x.pth"))
    ['weight']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "ConversionError",
    "read_checkpoint",
    "tensor_shape",
    "match_state_dict",
    "infer_damsm_text_encoder_config",
    "convert_damsm_image_encoder",
    "damsm_tokenizer",
    "StackGANConverter",
    "save_stackgan_model",
    "DAMSM_DIR",
]

#: where a converted DAMSM image encoder goes inside a model directory (the AttnGAN recipes read it there)
DAMSM_DIR = "damsm_image_encoder"


class ConversionError(ValueError):
    """A checkpoint does not fit the architecture it is converted to."""


def read_checkpoint(
    path: str | Path,
    *,
    wrappers: Sequence[str] = ("state_dict", "model", "netG"),
    strip_prefix: str = "module.",
    load_hint: str = "",
) -> dict[str, Any]:
    """Tensors of a ``.pth`` state dict, read with ``torch.load(weights_only=True)``.

    Args:
        path: the checkpoint file.
        wrappers: keys of a dict wrapping the state dict (a Lightning ``"state_dict"``, a
            ``{"netG": ...}`` bundle), unwrapped in this order when present.
        strip_prefix: removed from the start of every key (``module.``: files saved from
            ``DataParallel``); ``""`` keeps keys as they are.
        load_hint: appended to the error when ``torch.load`` refuses the file (how to recover).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ConversionError: the file is not a weights-only state dict of tensors (names the file).

    Example:
        >>> state = read_checkpoint("netG_epoch_600.pth")   # doctest: +SKIP
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - name the file, keep the cause
        hint = f" {load_hint}" if load_hint else ""
        raise ConversionError(
            f"{path}: cannot read it as a weights-only PyTorch state dict: {err}{hint}"
        ) from err
    for wrapper in wrappers:
        if isinstance(state, Mapping) and wrapper in state and isinstance(state[wrapper], Mapping):
            state = state[wrapper]
    if not isinstance(state, Mapping) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ConversionError(f"{path}: expected a state dict of tensors, got {type(state).__name__}")
    if not strip_prefix:
        return dict(state)
    return {(k[len(strip_prefix):] if k.startswith(strip_prefix) else k): v for k, v in state.items()}


def tensor_shape(state: Mapping[str, Any], key: str, source: str) -> tuple[int, ...]:
    """The shape of ``state[key]``; a missing key is a `ConversionError` naming ``source``.

    Example:
        >>> import torch
        >>> tensor_shape({"fc.weight": torch.zeros(4, 2)}, "fc.weight", "g.pth")
        (4, 2)
    """
    if key not in state:
        raise ConversionError(f"{source}: key {key!r} is missing; is this the right kind of checkpoint?")
    return tuple(state[key].shape)


def match_state_dict(module: Any, state: Mapping[str, Any], source: str) -> dict[str, Any]:
    """``state`` on ``module``'s keys, cast to its dtypes, ready for ``load_state_dict(strict=True)``.

    Batch-norm ``num_batches_tracked`` counters absent from the file (PyTorch < 0.4 did not store
    them) are filled with zeros. Any other missing or unexpected key, or a shape mismatch, is a
    `ConversionError` naming ``source`` and the keys.

    Example:
        >>> import torch
        >>> bn = torch.nn.BatchNorm1d(2)
        >>> old = {k: v for k, v in bn.state_dict().items() if k != "num_batches_tracked"}
        >>> sorted(match_state_dict(bn, old, "old.pth")) == sorted(bn.state_dict())
        True
    """
    import torch

    own = module.state_dict()
    out: dict[str, Any] = {}
    missing = []
    for key, ref in own.items():
        if key in state:
            value = state[key]
            if tuple(value.shape) != tuple(ref.shape):
                raise ConversionError(
                    f"{source}: {key} has shape {tuple(value.shape)}, the model expects {tuple(ref.shape)}"
                )
            out[key] = value.to(ref.dtype)
        elif key.endswith("num_batches_tracked"):
            out[key] = torch.zeros_like(ref)  # PyTorch < 0.4 did not store the counter
        else:
            missing.append(key)
    unexpected = sorted(set(state) - set(own))
    if missing or unexpected:
        raise ConversionError(
            f"{source}: keys do not match the model. missing: {missing[:8]}{' ...' if len(missing) > 8 else ''}; "
            f"unexpected: {unexpected[:8]}{' ...' if len(unexpected) > 8 else ''}"
        )
    return out


def infer_damsm_text_encoder_config(state: Mapping[str, Any], source: str = "text encoder") -> dict[str, Any]:
    """``lstm`` encoder config fields from AttnGAN's DAMSM ``RNN_ENCODER`` state dict.

    The vocabulary comes separately (``captions.pickle``), so ``vocab`` is ``None``.

    Raises:
        ConversionError: a multi-layer or GRU RNN, or a key of the encoder missing (names ``source``).

    Example:
        >>> import torch
        >>> state = {"encoder.weight": torch.zeros(50, 8), "rnn.weight_ih_l0": torch.zeros(32, 8),
        ...          "rnn.weight_hh_l0": torch.zeros(32, 8), "rnn.weight_hh_l0_reverse": torch.zeros(32, 8)}
        >>> cfg = infer_damsm_text_encoder_config(state)
        >>> cfg["vocab_size"], cfg["hidden"], cfg["bidirectional"]
        (50, 16, True)
    """
    vocab_size, embed_dim = tensor_shape(state, "encoder.weight", source)
    hidden_per_dir = tensor_shape(state, "rnn.weight_hh_l0", source)[1]
    bidirectional = "rnn.weight_hh_l0_reverse" in state
    if any(k.startswith("rnn.") and "_l1" in k for k in state):
        raise ConversionError(f"{source}: a multi-layer RNN is not the DAMSM encoder (found *_l1 keys)")
    if tensor_shape(state, "rnn.weight_ih_l0", source)[0] != 4 * hidden_per_dir:
        raise ConversionError(f"{source}: rnn.weight_ih_l0 is not an LSTM's (a GRU checkpoint?)")
    return {
        "name": "lstm", "vocab": None, "vocab_size": vocab_size, "embed_dim": embed_dim,
        "hidden": hidden_per_dir * (2 if bidirectional else 1), "bidirectional": bidirectional,
    }


def convert_damsm_image_encoder(path: str | Path, out_dir: str | Path) -> Path:
    """AttnGAN's DAMSM ``CNN_ENCODER`` ``.pth`` -> a saved `t2izoo.nn.DAMSMImageEncoder` in ``out_dir``.

    The width is read from ``emb_cnn_code``; the trunk is Inception-v3 with the
    ``align_corners=True`` resize the release's PyTorch < 0.4 weights were trained with. The
    match is strict (`match_state_dict`).

    Example:
        >>> convert_damsm_image_encoder("image_encoder200.pth", "models/attngan-bird/damsm_image_encoder")  # doctest: +SKIP
    """
    from t2izoo.nn import DAMSMImageEncoder

    state = read_checkpoint(path)
    embed_dim = tensor_shape(state, "emb_cnn_code.weight", str(path))[0]
    damsm = DAMSMImageEncoder(embed_dim=embed_dim, backbone="inception_v3", align_corners=True)
    damsm.load_state_dict(match_state_dict(damsm, state, str(path)), strict=True)
    return damsm.save_pretrained(out_dir)


def damsm_tokenizer(
    captions: str | Path, text_encoder_cfg: Mapping[str, Any], generator_cfg: Mapping[str, Any], text_encoder: str | Path
) -> Any:
    """The ``AttnGANTokenizer`` of a data set's ``captions.pickle``, checked against the converted models.

    The DAMSM text encoder's width must equal the generator's ``word_dim`` and ``sentence_dim``,
    and the pickle's vocabulary must have as many words as the encoder embeds
    (``text_encoder`` names the file in that error).

    Example:
        >>> tok = damsm_tokenizer("captions.pickle", e_cfg, g_cfg, "text_encoder200.pth")  # doctest: +SKIP
    """
    from t2izoo.data import AttnGANTokenizer

    e_cfg, g_cfg = text_encoder_cfg, generator_cfg
    if e_cfg["hidden"] != g_cfg["word_dim"] or e_cfg["hidden"] != g_cfg["sentence_dim"]:
        raise ConversionError(
            f"text encoder width {e_cfg['hidden']} does not match the generator's "
            f"word_dim={g_cfg['word_dim']} / sentence_dim={g_cfg['sentence_dim']}"
        )
    tokenizer = AttnGANTokenizer.from_captions_pickle(Path(captions))
    if tokenizer.vocab_size != e_cfg["vocab_size"]:
        raise ConversionError(
            f"{captions} has {tokenizer.vocab_size} words but {text_encoder} embeds "
            f"{e_cfg['vocab_size']}: they come from different data sets or versions"
        )
    return tokenizer


class StackGANConverter:
    """A ``t2izoo convert NAME`` converter for a StackGAN-family release (AttnGAN, FF-GAN, ...):
    G_NET + DAMSM text (and image) encoder + captions.pickle -> a model directory.

    ``convert(generator, text_encoder, captions, out, *, image_encoder, preset, mask_mode,
    max_length) -> Path`` does the family-specific work; this object gives it the command line.

    Example:
        >>> import argparse
        >>> conv = StackGANConverter("x", "help", lambda *a, **k: a[3], family="X", presets="x-bird",
        ...                          mask_choices=("correct", "legacy"), mask_help="...")
        >>> p = argparse.ArgumentParser(); conv.add_arguments(p)
        >>> sorted(vars(p.parse_args(["--generator", "g", "--text-encoder", "t", "--captions", "c",
        ...                           "--out", "o"])))[:3]
        ['captions', 'generator', 'image_encoder']
    """

    def __init__(self, name: str, help: str, convert: Any, *, family: str, presets: str,
                 mask_choices: Sequence[str], mask_help: str) -> None:
        self.name, self.help, self.convert = name, help, convert
        self.family, self.presets = family, presets
        self.mask_choices, self.mask_help = tuple(mask_choices), mask_help

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--generator", required=True,
                            help=f"the {self.family} release's G_NET state dict (netG_*.pth)")
        parser.add_argument("--text-encoder", required=True, help="DAMSM RNN_ENCODER state dict (text_encoder*.pth)")
        parser.add_argument("--image-encoder", default=None, help="DAMSM CNN_ENCODER state dict (image_encoder*.pth)")
        parser.add_argument("--captions", required=True, help="the data set's captions.pickle (vocabulary)")
        parser.add_argument("--out", required=True, help="model directory to write")
        parser.add_argument("--preset", default=None, help=f"check sizes against this preset ({self.presets})")
        parser.add_argument("--mask-mode", choices=self.mask_choices, default=self.mask_choices[0],
                            help=self.mask_help)
        parser.add_argument("--max-length", type=int, default=None, help="words kept per caption")

    def run(self, args: Any) -> int:
        out = self.convert(
            args.generator, args.text_encoder, args.captions, args.out,
            image_encoder=args.image_encoder, preset=args.preset, mask_mode=args.mask_mode,
            max_length=args.max_length,
        )
        print(f"wrote {out}; load it with t2izoo.build({str(args.preset or out)!r}, pretrained={str(out)!r})")
        return 0


def save_stackgan_model(pipe: Any, text_state: Mapping[str, Any], text_source: str | Path,
                        generator_state: Mapping[str, Any], generator_source: str | Path,
                        out: str | Path, image_encoder: str | Path | None = None) -> Path:
    """Load converted text-encoder and generator weights strictly into ``pipe``, write it to ``out``
    (``save_pretrained``) and convert the DAMSM image encoder beside it when one is given."""
    pipe.encoder.load_state_dict(match_state_dict(pipe.encoder, text_state, str(text_source)), strict=True)
    pipe.generator.load_state_dict(match_state_dict(pipe.generator, generator_state, str(generator_source)),
                                   strict=True)
    out = Path(out)
    pipe.save_pretrained(out)
    if image_encoder is not None:
        convert_damsm_image_encoder(image_encoder, out / DAMSM_DIR)
    return out
