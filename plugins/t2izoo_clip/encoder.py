"""The ``clip`` encoder: an open_clip model's text tower, with its image side exposed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

import t2izoo
from t2izoo.types import TextFeatures, TokenBatch

from .configs import CLIPEncoderConfig
from .tokenizer import make_tokenizer
from .weights import create_open_clip

__all__ = ["CLIPEncoder"]

# OpenAI CLIP's normalisation, used when a model carries no preprocess config of its own
_OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
_OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)


def _project(x: torch.Tensor, projection: Any) -> torch.Tensor:
    if projection is None:
        return x
    if isinstance(projection, nn.Module):
        return projection(x)
    return x @ projection


class CLIPEncoder(t2izoo.Encoder):
    """Captions -> `TextFeatures` with any open_clip model.

    * ``words``: per-token features after ``ln_final`` ``[B, ctx, width]`` (projected to
      ``embed_dim`` when ``project_words``), zero after the EOT token, and ``mask`` True there.
    * ``sentence``: the pooled, projected text embedding ``[B, embed_dim]`` (CLIP's text feature).

    The image side is available for CLIP-guided fusion, CLIP losses and CLIP scores:
    `image_features` ``[B, embed_dim]`` and `image_tokens` ``[B, N, width]``.

    Example:
        >>> import t2izoo
        >>> enc = t2izoo.create_component("encoder", {"name": "clip", "model": "shapes-clip-tiny", "pretrained": None})
        >>> feats = enc.encode(["a red circle", "two small blue squares"])
        >>> feats.words.shape, feats.sentence.shape
        (torch.Size([2, 32, 64]), torch.Size([2, 64]))
    """

    def __init__(self, config: CLIPEncoderConfig, **_: Any) -> None:
        super().__init__(config)
        self.clip = create_open_clip(config)
        self.context_length = int(self.clip.context_length if hasattr(self.clip, "context_length") else self.clip.text.context_length)
        self.tokenizer = make_tokenizer(self.context_length, config.model if ":" in config.model else None)
        visual = getattr(self.clip, "visual", None)
        pre = getattr(visual, "preprocess_cfg", None) or {}
        self.register_buffer("image_mean", torch.tensor(pre.get("mean", _OPENAI_MEAN)).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("image_std", torch.tensor(pre.get("std", _OPENAI_STD)).view(1, -1, 1, 1), persistent=False)
        size = getattr(visual, "image_size", 224)
        self.image_size = tuple(size) if isinstance(size, (tuple, list)) else (int(size), int(size))
        if config.frozen:
            self.clip.requires_grad_(False)
            self.clip.eval()

    def train(self, mode: bool = True) -> CLIPEncoder:
        super().train(mode)
        if self.config.frozen:  # a frozen CLIP stays in eval mode (dropout, patch dropout off)
            self.clip.eval()
        return self

    # -- text ----------------------------------------------------------------------------------
    def _fit_context(self, ids: torch.Tensor) -> torch.Tensor:
        L, ctx = ids.shape[1], self.context_length
        if L == ctx:
            return ids
        if L < ctx:
            return F.pad(ids, (0, ctx - L), value=0)
        raise ValueError(f"clip: token ids have length {L} but the model's context_length is {ctx}")

    def _text_tokens(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(pooled projected [B,E], per-token features after ln_final [B,L,W])."""
        m = self.clip
        if hasattr(m, "text"):  # CustomTextCLIP / CoCa: the text tower returns its tokens itself
            tower = m.text
            previous = getattr(tower, "output_tokens", False)
            tower.output_tokens = True
            try:
                pooled, tokens = tower(ids)
            finally:
                tower.output_tokens = previous
            return pooled, tokens
        cast = m.transformer.get_cast_dtype()
        x = m.token_embedding(ids).to(cast) + m.positional_embedding.to(cast)
        x = m.transformer(x, attn_mask=m.attn_mask)
        tokens = m.ln_final(x)
        from open_clip.transformer import text_global_pool

        pooled = text_global_pool(tokens, ids, m.text_pool_type, eos_token_id=getattr(m, "text_eos_id", None))
        return _project(pooled, m.text_projection), tokens

    def _padding_mask(self, tokens: TokenBatch, ids: torch.Tensor) -> torch.Tensor:
        pool = getattr(self.clip, "text_pool_type", "argmax")
        L = ids.shape[1]
        if pool == "argmax":  # EOT has the largest id in CLIP's BPE vocabulary
            last = ids.argmax(-1)
        else:
            last = tokens.lengths.to(ids.device).clamp(1, L) - 1
        return torch.arange(L, device=ids.device)[None] > last[:, None]

    def forward(self, tokens: TokenBatch) -> TextFeatures:
        ids = self._fit_context(tokens.ids.to(self.device))
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.config.frozen):
            sentence, words = self._text_tokens(ids)
            if self.config.project_words:
                words = _project(words, getattr(self.clip, "text_projection", None))
        mask = self._padding_mask(tokens, ids)
        words = words.masked_fill(mask[..., None], 0.0)
        if self.config.normalize_sentence:
            sentence = F.normalize(sentence, dim=-1)
        return TextFeatures(words=words, mask=mask, sentence=sentence)

    def text_features(self, prompts: Sequence[str], normalize: bool = True) -> torch.Tensor:
        """CLIP text embeddings ``[B, E]`` of captions (normalised by default, as CLIP compares them)."""
        ids = self._fit_context(self.tokenize(prompts).ids.to(self.device))
        return self.clip.encode_text(ids, normalize=normalize)

    # -- image ---------------------------------------------------------------------------------
    def preprocess_images(self, images: torch.Tensor) -> torch.Tensor:
        """``[-1, 1]`` images -> CLIP input: resized (bicubic, antialiased) and mean/std normalised."""
        x = (images.to(self.image_mean.device, torch.float32) + 1) / 2
        if tuple(x.shape[-2:]) != self.image_size:
            x = F.interpolate(x, size=self.image_size, mode="bicubic", align_corners=False, antialias=True)
        return (x.clamp(0, 1) - self.image_mean) / self.image_std

    def image_features(self, images: torch.Tensor, normalize: bool = False) -> torch.Tensor:
        """CLIP image embeddings ``[B, E]`` of ``[-1, 1]`` images (gradients flow to the images).

        Example:
            >>> enc.image_features(torch.zeros(2, 3, 64, 64)).shape  # doctest: +SKIP
            torch.Size([2, 64])
        """
        return self.clip.encode_image(self.preprocess_images(images), normalize=normalize)

    def image_tokens(self, images: torch.Tensor) -> torch.Tensor:
        """Spatial image features ``[B, N, width]`` (ViT patch tokens after ln_post; ResNet grid).

        Raises:
            NotImplementedError: the visual tower exposes no tokens (e.g. some timm towers).
        """
        x = self.preprocess_images(images)
        visual = self.clip.visual
        if hasattr(visual, "output_tokens"):
            previous = visual.output_tokens
            visual.output_tokens = True
            try:
                _, tokens = visual(x)
            finally:
                visual.output_tokens = previous
            return tokens
        if all(hasattr(visual, n) for n in ("stem", "layer4", "attnpool")):  # open_clip ModifiedResNet
            feats = visual.layer4(visual.layer3(visual.layer2(visual.layer1(visual.stem(x)))))
            return feats.flatten(2).transpose(1, 2)
        raise NotImplementedError(f"clip.model={self.config.model!r}: its visual tower {type(visual).__name__} gives no tokens")

    # -- training ------------------------------------------------------------------------------
    def export_open_clip(self, path: str | Path) -> Path:
        """Write the CLIP weights as an open_clip checkpoint (usable as ``clip.pretrained=path``).

        Example:
            >>> enc.export_open_clip("shapes-clip-tiny.pt")  # doctest: +SKIP
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({k: v.detach().cpu() for k, v in self.clip.state_dict().items()}, path)
        return path

    def contrastive_loss(self, images: torch.Tensor, tokens: TokenBatch) -> torch.Tensor:
        """Symmetric InfoNCE (open_clip's ClipLoss) over a batch of matching image/caption pairs."""
        from open_clip import ClipLoss

        ids = self._fit_context(tokens.ids.to(self.device))
        img = self.clip.encode_image(self.preprocess_images(images), normalize=True)
        txt = self.clip.encode_text(ids, normalize=True)
        return ClipLoss()(img, txt, self.clip.logit_scale.exp())
