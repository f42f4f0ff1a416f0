"""DAMSM: the image encoder and the word/sentence matching losses of AttnGAN (Xu et al. 2018, §3.3).

The image side is an Inception-v3 trunk (timm's ``inception_v3``, built without downloading
anything: weights come from a converted checkpoint). Regions are the 17x17 ``Mixed_6e`` map
projected 768 -> D by a 1x1 conv (``emb_features``); the global code is the pooled 2048-d
``Mixed_7c`` output projected by ``emb_cnn_code``. Module names equal the original
``CNN_ENCODER`` so its checkpoints load key for key. A small conv backbone (``"tiny"``) serves
the built-in shapes world, where a 299-px Inception is needlessly slow.

Losses (plain functions, any encoder pair works):

* `words_loss` — per caption, words attend over regions (softmax over words, then
  ``gamma1``-sharpened softmax over regions), word-region cosine aggregated with
  ``log(sum(exp(gamma2 * cos)))``, scaled by ``gamma3``, cross-entropy both ways (eqs. 9-11).
* `sentence_loss` — ``gamma3`` * cosine between global codes, cross-entropy both ways.

Both mask out pairs whose ``class_ids`` equal (a different caption of the same class is not a
negative).

Example:
    >>> import torch
    >>> from t2izoo.nn import DAMSMImageEncoder, sentence_loss, words_loss
    >>> enc = DAMSMImageEncoder(embed_dim=32, backbone="tiny", input_size=64)
    >>> regions, code = enc(torch.rand(4, 3, 64, 64) * 2 - 1)
    >>> regions.shape, code.shape
    (torch.Size([4, 32, 16, 16]), torch.Size([4, 32]))
    >>> words, lengths = torch.randn(4, 6, 32), torch.tensor([6, 4, 3, 2])
    >>> w0, w1, maps = words_loss(regions, words, lengths)
    >>> s0, s1 = sentence_loss(code, torch.randn(4, 32))
    >>> bool(torch.isfinite(w0 + w1 + s0 + s1))
    True
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from .blocks import conv1x1

__all__ = [
    "DAMSMImageEncoder",
    "INCEPTION_TRUNK",
    "region_attention",
    "words_loss",
    "sentence_loss",
    "damsm_loss",
    "class_mask",
    "pair_accuracy",
]

# the Inception-v3 modules CNN_ENCODER keeps, in forward order ("pool" = 3x3/2 max pool)
INCEPTION_TRUNK: tuple[str, ...] = (
    "Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "pool",
    "Conv2d_3b_1x1", "Conv2d_4a_3x3", "pool",
    "Mixed_5b", "Mixed_5c", "Mixed_5d",
    "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e",
    "Mixed_7a", "Mixed_7b", "Mixed_7c",
)
_REGION_LAYER = {"inception_v3": "Mixed_6e", "tiny": "block2"}


class DAMSMImageEncoder(nn.Module):
    """Image -> (region features ``[B, D, h, w]``, global code ``[B, D]``).

    Args:
        embed_dim: D, the joint text-image width (256 in AttnGAN).
        backbone: ``"inception_v3"`` (the paper's; 299 px, regions 17x17) or ``"tiny"`` (four
            strided convs; regions at 1/4 of ``input_size``).
        input_size: images are resized to this square side first (299 for Inception).
        align_corners: bilinear resize flag. Weights trained with PyTorch < 0.4 (AttnGAN's era)
            saw ``align_corners=True`` behaviour; keep it for them.
        freeze_trunk: the backbone gets ``requires_grad=False`` (as in the paper, where only
            the two projections learn on top of ImageNet Inception weights).

    Inputs are images in ``[-1, 1]`` (the paper fed them to Inception unnormalised).
    """

    def __init__(
        self,
        embed_dim: int = 256,
        backbone: Literal["inception_v3", "tiny"] = "inception_v3",
        input_size: int | None = None,
        align_corners: bool = True,
        freeze_trunk: bool = True,
        tiny_width: int = 32,
    ) -> None:
        super().__init__()
        if backbone not in _REGION_LAYER:
            raise ValueError(f"DAMSMImageEncoder backbone must be one of {sorted(_REGION_LAYER)}, got {backbone!r}")
        self.backbone = backbone
        self.embed_dim = embed_dim
        self.input_size = input_size or (299 if backbone == "inception_v3" else 64)
        self.align_corners = align_corners
        # constructor arguments, written beside the weights by save_pretrained
        self.init_args = {
            "embed_dim": embed_dim, "backbone": backbone, "input_size": self.input_size,
            "align_corners": align_corners, "freeze_trunk": freeze_trunk, "tiny_width": tiny_width,
        }
        if backbone == "inception_v3":
            import timm

            # pretrained=False: nothing is downloaded; weights come from a converted checkpoint
            model = timm.create_model("inception_v3", pretrained=False)
            for name in dict.fromkeys(INCEPTION_TRUNK):
                if name != "pool":
                    setattr(self, name, getattr(model, name))
            region_dim, global_dim = 768, 2048
            trunk = [getattr(self, n) for n in dict.fromkeys(INCEPTION_TRUNK) if n != "pool"]
        else:
            w = tiny_width
            self.block1 = _tiny_stage(3, w, first=True)  # 1/2
            self.block2 = _tiny_stage(w, 2 * w)  # 1/4: regions
            self.block3 = _tiny_stage(2 * w, 4 * w)  # 1/8
            self.block4 = _tiny_stage(4 * w, 8 * w)  # 1/16, pooled: global
            region_dim, global_dim = 2 * w, 8 * w
            trunk = [self.block1, self.block2, self.block3, self.block4]
        self.emb_features = conv1x1(region_dim, embed_dim)
        self.emb_cnn_code = nn.Linear(global_dim, embed_dim)
        # the paper's initialisation of the two trainable projections
        nn.init.uniform_(self.emb_features.weight, -0.1, 0.1)
        nn.init.uniform_(self.emb_cnn_code.weight, -0.1, 0.1)
        if freeze_trunk:
            for module in trunk:
                module.requires_grad_(False)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``[B, 3, H, W]`` in ``[-1, 1]`` -> (regions ``[B, D, h, w]``, code ``[B, D]``)."""
        size = self.input_size
        if images.shape[-2:] != (size, size):
            images = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=self.align_corners)
        x = images
        regions = None
        if self.backbone == "inception_v3":
            for name in INCEPTION_TRUNK:
                x = F.max_pool2d(x, kernel_size=3, stride=2) if name == "pool" else getattr(self, name)(x)
                if name == "Mixed_6e":
                    regions = x
        else:
            for name in ("block1", "block2", "block3", "block4"):
                x = getattr(self, name)(x)
                if name == "block2":
                    regions = x
        assert regions is not None
        pooled = F.avg_pool2d(x, kernel_size=tuple(x.shape[-2:])).flatten(1)
        return self.emb_features(regions), self.emb_cnn_code(pooled)

    # -- persistence ----------------------------------------------------------------------------
    def save_pretrained(self, directory: str | Path) -> Path:
        """Write ``config.json`` (constructor arguments) and ``model.safetensors``."""
        from safetensors.torch import save_file

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "config.json").write_text(json.dumps(self.init_args, indent=2), encoding="utf-8")
        state = {k: v.detach().contiguous().cpu() for k, v in self.state_dict().items()}
        save_file(state, str(directory / "model.safetensors"), metadata={"format": "pt"})
        return directory

    @classmethod
    def from_pretrained(cls, directory: str | Path, **overrides: Any) -> DAMSMImageEncoder:
        """Load what `save_pretrained` wrote (strict key matching).

        Example:
            >>> enc = DAMSMImageEncoder.from_pretrained("models/attngan-bird/damsm")  # doctest: +SKIP
        """
        from safetensors.torch import load_file

        directory = Path(directory)
        config_path, weights = directory / "config.json", directory / "model.safetensors"
        for path in (config_path, weights):
            if not path.is_file():
                raise FileNotFoundError(f"DAMSM image encoder: {path} is missing")
        args = {**json.loads(config_path.read_text(encoding="utf-8")), **overrides}
        encoder = cls(**args)
        encoder.load_state_dict(load_file(str(weights)), strict=True)
        return encoder

    def extra_repr(self) -> str:
        return f"backbone={self.backbone!r}, embed_dim={self.embed_dim}, input_size={self.input_size}"


def _tiny_stage(cin: int, cout: int, first: bool = False) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, 4, 2, 1, bias=first)]
    if not first:
        layers.append(nn.BatchNorm2d(cout))
    layers.append(nn.LeakyReLU(0.2, inplace=True))
    return nn.Sequential(*layers)


# -- losses -----------------------------------------------------------------------------------
def class_mask(class_ids: Sequence[int] | torch.Tensor | None, device: torch.device | None = None) -> torch.Tensor | None:
    """``[B, B]`` bool, ``True`` where ``j != i`` shares sample ``i``'s class (not a negative)."""
    if class_ids is None:
        return None
    ids = torch.as_tensor(class_ids, device=device).reshape(-1)
    same = ids[:, None] == ids[None, :]
    return same & ~torch.eye(len(ids), dtype=torch.bool, device=ids.device)


def _cosine(x1: torch.Tensor, x2: torch.Tensor, dim: int = 1, eps: float = 1e-8) -> torch.Tensor:
    w12 = (x1 * x2).sum(dim)
    return w12 / (x1.norm(2, dim) * x2.norm(2, dim)).clamp(min=eps)


def region_attention(words: torch.Tensor, regions: torch.Tensor, gamma1: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Words attend over regions (DAMSM eqs. 7-9).

    Args:
        words: ``[B, D, T]`` queries.
        regions: ``[B, D, h, w]`` context.
        gamma1: sharpening of the softmax over regions.

    Returns:
        ``(region context per word [B, D, T], attention [B, T, h, w])``.
    """
    batch, t = words.size(0), words.size(2)
    h, w = regions.shape[-2:]
    context = regions.reshape(batch, -1, h * w)
    scores = torch.bmm(context.transpose(1, 2), words)  # B x S x T
    scores = torch.softmax(scores, dim=2)  # over words, per region (eq. 8)
    attn = torch.softmax(scores.transpose(1, 2) * gamma1, dim=2)  # over regions (eq. 9)
    weighted = torch.bmm(context, attn.transpose(1, 2))  # B x D x T
    return weighted, attn.reshape(batch, t, h, w)


def matching_losses(
    scores: torch.Tensor, class_ids: Sequence[int] | torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The DAMSM cross-entropy both ways over a square ``[image j, caption i]`` score matrix.

    Image ``i`` and caption ``i`` are the match; other same-class pairs are masked out (they
    are not negatives). Shared by the word- and sentence-level losses.

    Returns ``(image->text loss, text->image loss)``.

    Example:
        >>> l0, l1 = matching_losses(torch.eye(3) * 10)
        >>> round(float(l0), 4) == round(float(l1), 4) < 0.001
        True
    """
    mask = class_mask(class_ids, scores.device)
    if mask is not None:
        scores = scores.masked_fill(mask, float("-inf"))
    labels = torch.arange(scores.size(0), device=scores.device)
    return F.cross_entropy(scores, labels), F.cross_entropy(scores.t(), labels)


def words_loss(
    regions: torch.Tensor,
    words: torch.Tensor,
    lengths: torch.Tensor | Sequence[int],
    class_ids: Sequence[int] | torch.Tensor | None = None,
    gamma1: float = 4.0,
    gamma2: float = 5.0,
    gamma3: float = 10.0,
) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    """DAMSM word-level matching loss, one caption at a time as the original computes it.

    This is the reference; training uses `t2izoo.nn.words_loss_batched` (all pairs at once, equal
    up to rounding, about 2.5x faster on CPU).

    Args:
        regions: image regions ``[B, D, h, w]``.
        words: word features ``[B, L, D]`` (caption ``i`` uses its first ``lengths[i]``).
        lengths: real words per caption.
        class_ids: per-sample class; same-class pairs are not negatives.
        gamma1, gamma2, gamma3: the paper's smoothing factors (4, 5, 10 in its configs).

    Returns:
        ``(image->text loss, text->image loss, attention maps [1, T_i, h, w] per caption)``.
    """
    batch = regions.size(0)
    lengths_list = [max(int(n), 1) for n in torch.as_tensor(lengths).tolist()]
    sims, maps = [], []
    for i in range(batch):
        n = lengths_list[i]
        word = words[i, :n].transpose(0, 1).unsqueeze(0).expand(batch, -1, -1)  # B x D x n
        weighted, attn = region_attention(word, regions, gamma1)
        maps.append(attn[i : i + 1])
        cos = _cosine(word.transpose(1, 2).reshape(batch * n, -1), weighted.transpose(1, 2).reshape(batch * n, -1))
        row = torch.log(torch.exp(cos.view(batch, n) * gamma2).sum(dim=1, keepdim=True))  # eq. 10
        sims.append(row)
    scores = torch.cat(sims, dim=1) * gamma3  # [image j, caption i]
    return *matching_losses(scores, class_ids), maps


def sentence_loss(
    image_code: torch.Tensor,
    sentence: torch.Tensor,
    class_ids: Sequence[int] | torch.Tensor | None = None,
    gamma3: float = 10.0,
    eps: float = 1e-8,
) -> tuple[torch.Tensor, torch.Tensor]:
    """DAMSM sentence-level loss: ``gamma3`` * cosine of global codes, cross-entropy both ways.

    Returns ``(image->text loss, text->image loss)``.
    """
    norms = image_code.norm(2, dim=1, keepdim=True) * sentence.norm(2, dim=1, keepdim=True).t()
    scores = image_code @ sentence.t() / norms.clamp(min=eps) * gamma3
    return matching_losses(scores, class_ids)


def damsm_loss(
    regions: torch.Tensor,
    image_code: torch.Tensor,
    words: torch.Tensor,
    sentence: torch.Tensor,
    lengths: torch.Tensor | Sequence[int],
    class_ids: Sequence[int] | torch.Tensor | None = None,
    gamma1: float = 4.0,
    gamma2: float = 5.0,
    gamma3: float = 10.0,
) -> dict[str, torch.Tensor]:
    """All four DAMSM terms and their sum (``loss``), as logged by the DAMSM pretraining."""
    w0, w1, _ = words_loss(regions, words, lengths, class_ids, gamma1, gamma2, gamma3)
    s0, s1 = sentence_loss(image_code, sentence, class_ids, gamma3)
    return {"w_loss0": w0, "w_loss1": w1, "s_loss0": s0, "s_loss1": s1, "loss": w0 + w1 + s0 + s1}


def pair_accuracy(image_codes: torch.Tensor, sentences: torch.Tensor) -> float:
    """Fraction of images ``2k``/``2k+1`` closer (cosine) to their own sentence than to the partner's.

    The minimal-pair test of a DAMSM: rows ``2k`` and ``2k+1`` hold the two scenes (and captions)
    of pair ``k``. Used by ``probe_damsm`` (real images) and ``probe_word_pairs`` (a GAN's fakes).

    Example:
        >>> codes = torch.eye(4)
        >>> pair_accuracy(codes, codes), pair_accuracy(codes, codes[[1, 0, 3, 2]])
        (1.0, 0.0)
    """
    if image_codes.shape[0] != sentences.shape[0] or image_codes.shape[0] % 2:
        raise ValueError(f"pair_accuracy: need an even, equal number of images and sentences, got "
                         f"{image_codes.shape[0]} and {sentences.shape[0]}")
    codes, sent = F.normalize(image_codes.float(), dim=1), F.normalize(sentences.float(), dim=1)
    own = (codes * sent).sum(1)
    partner = (codes * sent.view(-1, 2, sent.shape[1]).flip(1).reshape_as(sent)).sum(1)
    return float((own > partner).float().mean())
