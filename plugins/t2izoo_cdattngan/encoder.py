"""The ``lstm+clip`` encoder: AttnGAN's LSTM and a CLIP text tower joined by one FC layer.

Tokenising for two towers: one `TokenBatch` carries both tokenisations side by side,
``ids = [CLIP BPE ids (context_length columns) | LSTM word ids]``, with ``lengths`` = the
LSTM word counts (the words this encoder emits, which DAMSM and the padding mask count). The
encoder splits the columns again, so the batch moves between devices and through data loaders
like any other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

import t2izoo
from t2izoo.types import TextFeatures, TokenBatch

from .configs import LSTMCLIPEncoderConfig

__all__ = ["DualTokenizer", "LSTMCLIPEncoder", "DualTextFeatures"]


class DualTokenizer(t2izoo.Tokenizer):
    """Captions -> ``ids [B, ctx + L]``: CLIP BPE ids first (fixed width), then LSTM word ids.

    Example:
        >>> tok = DualTokenizer(lstm_tokenizer, clip_tokenizer, clip_width=16, lstm_max_length=18)  # doctest: +SKIP
        >>> tok(["a red circle"]).ids.shape                                                         # doctest: +SKIP
        torch.Size([1, 19])
    """

    pad_id = 0

    def __init__(self, lstm: Any, clip: Any, clip_width: int, lstm_max_length: int | None) -> None:
        self.lstm, self.clip = lstm, clip
        self.clip_width = clip_width
        self.lstm_max_length = lstm_max_length

    def __call__(self, texts: Sequence[str], max_length: int | None = None) -> TokenBatch:
        texts = [str(t) for t in texts]
        # max_length caps the LSTM's words (the training cap); CLIP always gets its full context
        words = self.lstm(texts, max_length=max_length if max_length is not None else self.lstm_max_length)
        bpe = self.clip(texts)
        ids = bpe.ids.long()
        if ids.shape[1] < self.clip_width:
            ids = torch.nn.functional.pad(ids, (0, self.clip_width - ids.shape[1]), value=0)
        return TokenBatch(ids=torch.cat([ids[:, : self.clip_width], words.ids.long()], 1), lengths=words.lengths, texts=texts)

    def split(self, tokens: TokenBatch) -> tuple[TokenBatch, TokenBatch]:
        """(LSTM tokens, CLIP tokens) of a batch made by this tokenizer."""
        ids = tokens.ids
        if ids.shape[1] < self.clip_width:
            raise ValueError(
                f"lstm+clip: token ids have {ids.shape[1]} columns, fewer than CLIP's context "
                f"{self.clip_width}: were they made by this encoder's tokenizer?"
            )
        bpe = ids[:, : self.clip_width]
        clip_len = (bpe != 0).sum(1)  # CLIP's own mask is found from its EOT; this is informative only
        return (
            TokenBatch(ids[:, self.clip_width :], tokens.lengths, tokens.texts),
            TokenBatch(bpe, clip_len, tokens.texts),
        )


@dataclass
class DualTextFeatures:
    """Both towers' features and their join (what the CD-AttnGAN recipe needs for L_clip and DAMSM)."""

    lstm: TextFeatures
    clip: TextFeatures
    joined: TextFeatures


class LSTMCLIPEncoder(t2izoo.Encoder):
    """Captions -> ``FC([T_clip ; T_lstm])`` words ``[B, L, dim]`` (LSTM words) and sentence ``[B, dim]``.

    The returned `TextFeatures` carry ``image_encoder`` = this CLIP's image embedding, so a
    ``clip-attention`` fusion can compare the text with the image being generated.

    Example:
        >>> import t2izoo
        >>> from t2izoo_cdattngan.configs import LSTMCLIPEncoderConfig
        >>> enc = t2izoo.create_component("encoder", {"name": "lstm+clip", **LSTMCLIPEncoderConfig.tiny()}).eval()
        >>> feats = enc.encode(["a red circle", "a large blue striped square on the left"])
        >>> feats.words.shape[2], feats.sentence.shape, feats.image_encoder is not None
        (8, torch.Size([2, 8]), True)
    """

    def __init__(self, config: LSTMCLIPEncoderConfig, **_context: Any) -> None:
        super().__init__(config)
        self.lstm = t2izoo.create_component("encoder", config.lstm)
        self.clip = t2izoo.create_component("encoder", config.clip)
        lstm_dim = int(config.lstm.ports().outputs["word_dim"])
        # one FC for words and sentence: both are [T_clip ; an LSTM vector of width lstm_dim]
        self.proj = nn.Linear(config.clip_dim + lstm_dim, config.dim)
        if config.freeze_lstm:
            self.lstm.requires_grad_(False)
        self.tokenizer = self._make_tokenizer()

    def external_weights(self) -> tuple[str, ...]:
        """A frozen CLIP loaded from its own pinned weights (e.g. tag ``shapes``) is not saved again."""
        clip = self.config.clip
        return ("clip.",) if clip.frozen and clip.pretrained else ()

    def _make_tokenizer(self) -> DualTokenizer:
        return DualTokenizer(
            self.lstm.tokenizer, self.clip.tokenizer, int(self.clip.context_length),
            getattr(self.lstm.config, "max_length", None),
        )

    def train(self, mode: bool = True) -> LSTMCLIPEncoder:
        super().train(mode)
        if self.config.freeze_lstm:  # a fixed LSTM runs without dropout
            self.lstm.eval()
        return self

    def tokenize(self, prompts: Sequence[str]) -> TokenBatch:
        return self.tokenizer(list(prompts))

    # -- text ----------------------------------------------------------------------------------
    def forward_parts(self, tokens: TokenBatch) -> DualTextFeatures:
        """Both towers' features and the joined `TextFeatures` (``forward`` returns the join)."""
        lstm_tokens, clip_tokens = self.tokenizer.split(tokens)
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.config.freeze_lstm):
            lstm = self.lstm(lstm_tokens)
        clip = self.clip(clip_tokens)
        t_clip = clip.sentence.to(lstm.sentence.dtype)
        words = self.proj(torch.cat([t_clip[:, None, :].expand(-1, lstm.words.shape[1], -1), lstm.words], -1))
        if lstm.mask is not None:
            words = words.masked_fill(lstm.mask[..., None], 0.0)  # padding stays zero, as from the LSTM
        sentence = self.proj(torch.cat([t_clip, lstm.sentence], -1))
        joined = TextFeatures(words=words, mask=lstm.mask, sentence=sentence, image_encoder=self.image_features)
        return DualTextFeatures(lstm=lstm, clip=clip, joined=joined)

    def forward(self, tokens: TokenBatch) -> TextFeatures:
        return self.forward_parts(tokens).joined

    # -- CLIP's image side ---------------------------------------------------------------------
    def image_features(self, images: torch.Tensor, normalize: bool = False) -> torch.Tensor:
        """CLIP image embeddings ``[B, D_clip]`` of ``[-1, 1]`` images (gradients reach the images)."""
        return self.clip.image_features(images, normalize=normalize)

    # -- assets: the LSTM's vocabulary ---------------------------------------------------------
    def save_assets(self, directory: Path) -> None:
        sub = Path(directory) / "lstm"
        sub.mkdir(parents=True, exist_ok=True)
        self.lstm.save_assets(sub)
        self.clip.save_assets(Path(directory))

    def load_assets(self, directory: Path) -> None:
        self.lstm.load_assets(Path(directory) / "lstm")
        self.clip.load_assets(Path(directory))
        self.tokenizer = self._make_tokenizer()
