"""The data that flows between components, with shapes.

``B`` batch, ``L`` words, ``D`` feature width, ``C`` channels, ``H``/``W`` pixels.
Images are float tensors in ``[-1, 1]``, channels first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

__all__ = [
    "TokenBatch",
    "TextFeatures",
    "FusionOutput",
    "GeneratorOutput",
    "PipelineOutput",
    "MetricResult",
]


@dataclass
class TokenBatch:
    """Tokenised captions.

    Attributes:
        ids: ``[B, L]`` int64 token ids, padded with the tokenizer's pad id.
        lengths: ``[B]`` int64 number of real tokens per caption.
        texts: the captions as given.
    """

    ids: torch.Tensor
    lengths: torch.Tensor
    texts: list[str] = field(default_factory=list)

    def to(self, *args: Any, **kwargs: Any) -> TokenBatch:
        return TokenBatch(self.ids.to(*args, **kwargs), self.lengths.to(*args, **kwargs), self.texts)


@dataclass
class TextFeatures:
    """What every encoder produces.

    Attributes:
        words: ``[B, L, Dw]`` per-token features (zero where padded), or ``None`` for encoders
            without word features (``label``).
        mask: ``[B, L]`` bool, ``True`` where a token is padding; ``None`` means no padding.
        sentence: ``[B, Ds]`` one vector per caption.
        image_encoder: optional callable ``images [B,C,H,W] in [-1,1] -> [B, E]`` giving image
            embeddings in the space the encoder shares with images (CLIP's). Set by encoders with an
            image side (``lstm+clip``) so that a fusion can compare the text with the image being
            generated (CD-AttnGAN eq. 3); ``None`` for text-only encoders.

    Example:
        >>> tf = TextFeatures(words=torch.zeros(2, 5, 8), mask=None, sentence=torch.zeros(2, 8))
        >>> tf.batch_size
        2
    """

    words: torch.Tensor | None
    mask: torch.Tensor | None
    sentence: torch.Tensor
    image_encoder: Callable[[torch.Tensor], torch.Tensor] | None = None

    @property
    def batch_size(self) -> int:
        return int(self.sentence.shape[0])

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> TextFeatures:
        """Move to a device; ``dtype`` applies to the float features only, never to the mask."""
        return TextFeatures(
            words=None if self.words is None else self.words.to(device=device, dtype=dtype),
            mask=None if self.mask is None else self.mask.to(device=device),
            sentence=self.sentence.to(device=device, dtype=dtype),
            image_encoder=self.image_encoder,
        )

    def index(self, idx: torch.Tensor | slice) -> TextFeatures:
        """Select samples (used for mismatched-caption pairs and batching)."""
        return TextFeatures(
            words=None if self.words is None else self.words[idx],
            mask=None if self.mask is None else self.mask[idx],
            sentence=self.sentence[idx],
            image_encoder=self.image_encoder,
        )


@dataclass
class FusionOutput:
    """What a fusion block returns.

    Attributes:
        features: ``[B, C', H, W]`` fused visual features.
        attention: ``[B, L, H, W]`` word-to-region attention, or ``None``.
    """

    features: torch.Tensor
    attention: torch.Tensor | None = None


@dataclass
class GeneratorOutput:
    """What a generator returns.

    Attributes:
        images: one ``[B, C, H, W]`` tensor in ``[-1, 1]`` per stage, smallest first; the last is
            the final image.
        attention: per stage, ``[B, L, H, W]`` attention maps or ``None``.
        extras: model-specific values a training recipe needs (``mu``, ``logvar``, ...).
    """

    images: list[torch.Tensor]
    attention: list[torch.Tensor | None] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def image(self) -> torch.Tensor:
        return self.images[-1]


@dataclass
class PipelineOutput:
    """What calling a pipeline returns.

    Attributes:
        images: final images as PIL images.
        tensors: final images ``[B, C, H, W]`` in ``[-1, 1]``.
        stages: every stage's images (generator stages, then the refiner's output if any).
        attention: per generator stage, attention maps or ``None``.
        prompts: the prompts, in order.
    """

    images: list[Any]
    tensors: torch.Tensor
    stages: list[torch.Tensor]
    attention: list[torch.Tensor | None]
    prompts: list[str]


@dataclass
class MetricResult:
    """One measured metric and the protocol that produced it.

    Attributes:
        name: metric name (``fid``, ``clip-score``, ...).
        value: the number.
        std: spread where the protocol defines one (IS splits, R-precision folds), else ``None``.
        protocol: everything needed to reproduce or compare it (backbone, weights hash, resize
            policy, sample count, splits, seed).
    """

    name: str
    value: float
    std: float | None = None
    protocol: dict[str, Any] = field(default_factory=dict)
