"""The DAMSM text encoder (AttnGAN's ``RNN_ENCODER``) as the ``lstm`` encoder.

Module names equal the original (``encoder`` = the embedding, ``rnn`` = the LSTM), so a
released ``text_encoder*.pth`` loads key for key. The vocabulary is non-tensor state: it is
written beside the weights as ``vocab.json`` by `save_assets`.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import t2izoo
from t2izoo.types import TextFeatures, TokenBatch

from .config import LSTMEncoderConfig

__all__ = ["LSTMEncoder", "load_vocabulary", "VOCAB_FILE"]

VOCAB_FILE = "vocab.json"


@functools.lru_cache(maxsize=1)
def _shapes_words() -> tuple[str, ...]:
    # building it renders caption text for 2000 scenes (~3 s): once per process is enough
    from t2izoo.data import get_tokenizer

    return tuple(get_tokenizer("attngan-words", corpus="shapes").ixtoword)


def load_vocabulary(spec: str) -> Any:
    """An `AttnGANTokenizer` from ``"shapes"``, a ``captions.pickle`` or a saved ``.json`` vocabulary."""
    from t2izoo.data import AttnGANTokenizer

    if spec == "shapes":
        return AttnGANTokenizer(list(_shapes_words()))
    path = Path(spec).expanduser()
    if not path.is_file():
        raise FileNotFoundError(
            f"lstm encoder: vocab={spec!r} is neither 'shapes' nor an existing file "
            "(give AttnGAN's captions.pickle or a vocab .json written by save_pretrained)"
        )
    if path.suffix in (".pickle", ".pkl"):
        return AttnGANTokenizer.from_captions_pickle(path)
    return AttnGANTokenizer.load(path)


class LSTMEncoder(t2izoo.Encoder):
    """Captions -> words ``[B, L, hidden]`` (zero at padding), mask ``[B, L]``, sentence ``[B, hidden]``.

    The sentence is the concatenation of the last forward and last backward hidden states.

    Example:
        >>> import t2izoo
        >>> enc = t2izoo.create_component("encoder", {"name": "lstm", "embed_dim": 8, "hidden": 8}).eval()
        >>> feats = enc.encode(["a red circle", "a large blue striped square on the left"])
        >>> feats.words.shape[0], feats.words.shape[2], feats.sentence.shape
        (2, 8, torch.Size([2, 8]))
    """

    def __init__(self, config: LSTMEncoderConfig, **_context: Any) -> None:
        super().__init__(config)
        self.tokenizer = self._initial_tokenizer(config)
        size = config.vocab_size or self.tokenizer.vocab_size
        directions = 2 if config.bidirectional else 1
        self.encoder = nn.Embedding(size, config.embed_dim)
        self.drop = nn.Dropout(config.dropout)
        self.rnn = nn.LSTM(
            config.embed_dim, config.hidden // directions, num_layers=1, batch_first=True,
            bidirectional=config.bidirectional,
        )
        nn.init.uniform_(self.encoder.weight, -0.1, 0.1)  # the paper's init; the LSTM keeps torch's

    @staticmethod
    def _initial_tokenizer(config: LSTMEncoderConfig) -> Any:
        from t2izoo.data import AttnGANTokenizer

        if config.vocab is None:
            # placeholder until load_assets brings the real vocabulary (a converted checkpoint)
            return AttnGANTokenizer(["<end>"])
        tokenizer = load_vocabulary(config.vocab)
        if config.vocab_size is not None and config.vocab_size != tokenizer.vocab_size:
            raise ValueError(
                f"lstm encoder: vocab_size={config.vocab_size} but vocab={config.vocab!r} has "
                f"{tokenizer.vocab_size} words"
            )
        return tokenizer

    @property
    def vocab_size(self) -> int:
        return self.encoder.num_embeddings

    def tokenize(self, prompts: list[str] | tuple[str, ...]) -> TokenBatch:
        return self.tokenizer(list(prompts), max_length=self.config.max_length)

    def forward(self, tokens: TokenBatch) -> TextFeatures:
        ids, lengths = tokens.ids, tokens.lengths
        batch, length = ids.shape
        if ids.numel() and int(ids.max()) >= self.vocab_size:
            raise ValueError(f"lstm encoder: token id {int(ids.max())} >= vocab_size {self.vocab_size}")
        emb = self.drop(self.encoder(ids))
        # an empty caption still runs one step on the padding word; the mask hides it
        run_lengths = lengths.clamp(min=1).cpu()
        packed = pack_padded_sequence(emb, run_lengths, batch_first=True, enforce_sorted=False)
        output, (hidden, _) = self.rnn(packed)
        words = pad_packed_sequence(output, batch_first=True, total_length=length)[0]
        mask = torch.arange(length, device=ids.device)[None, :] >= lengths.to(ids.device)[:, None]
        words = words.masked_fill(mask[..., None], 0.0)
        sentence = hidden.transpose(0, 1).reshape(batch, -1)
        return TextFeatures(words=words, mask=mask, sentence=sentence)

    # -- vocabulary as an asset -----------------------------------------------------------------
    def save_assets(self, directory: Path) -> None:
        self.tokenizer.save(Path(directory) / VOCAB_FILE)

    def load_assets(self, directory: Path) -> None:
        from t2izoo.data import AttnGANTokenizer

        path = Path(directory) / VOCAB_FILE
        if not path.is_file():
            raise FileNotFoundError(f"lstm encoder: {path} is missing (the vocabulary saved with the weights)")
        tokenizer = AttnGANTokenizer.load(path)
        if tokenizer.vocab_size != self.vocab_size:
            raise ValueError(
                f"lstm encoder: {path} has {tokenizer.vocab_size} words but the embedding has "
                f"{self.vocab_size} rows (config vocab_size)"
            )
        self.tokenizer = tokenizer
