"""The DAMSM word-level loss for all caption-image pairs at once (no Python loop over captions).

`t2izoo.nn.damsm.words_loss` follows the paper's per-caption loop: caption ``i`` (its first
``n_i`` words) attends over the regions of every image, one caption at a time. Here every pair
``(caption i, image j)`` is scored in one batched pass: padding words are masked out of the
softmax over words and out of the sum over words, so the scores are the same as the loop's up to
float rounding (checked in tests/bench/test_damsm_batched.py). Memory grows as
``B^2 * regions * words`` (16 x 16 x 289 x 18 floats for the bird config: about 5 MB).

Example:
    >>> import torch
    >>> regions, words = torch.randn(3, 8, 4, 4), torch.randn(3, 5, 8)
    >>> l0, l1, maps = words_loss_batched(regions, words, [5, 3, 2])
    >>> maps[1].shape
    torch.Size([1, 3, 4, 4])
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .damsm import matching_losses

__all__ = ["word_similarity", "words_loss_batched"]


def word_similarity(
    regions: torch.Tensor,
    words: torch.Tensor,
    lengths: torch.Tensor | Sequence[int],
    gamma1: float = 4.0,
    gamma2: float = 5.0,
    eps: float = 1e-8,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The paper's word-level match ``R(Q_j, D_i)`` (eq. 10, before ``gamma3``) of every caption with every image.

    Returns ``(scores [caption i, image j], attention [Bi, Bj, L, h*w])``. The images need not
    be the captions' own (``regions`` may hold another batch of the same or another size).

    Example:
        >>> scores, attn = word_similarity(torch.randn(6, 8, 4, 4), torch.randn(3, 5, 8), [5, 3, 2])
        >>> scores.shape, attn.shape
        (torch.Size([3, 6]), torch.Size([3, 6, 5, 16]))
    """
    batch, dim, h, w = regions.shape
    length = words.shape[1]
    n = torch.as_tensor(lengths, device=words.device).reshape(-1).clamp(min=1, max=length)
    valid = torch.arange(length, device=words.device)[None, :] < n[:, None]  # [Bi, L]
    context = regions.reshape(batch, dim, h * w)  # [Bj, D, S]
    queries = words.transpose(1, 2)  # [Bi, D, L]
    scores = torch.einsum("jds,idl->ijsl", context, queries)  # [Bi, Bj, S, L]
    scores = scores.masked_fill(~valid[:, None, None, :], float("-inf"))
    scores = torch.softmax(scores, dim=-1)  # over caption i's words, per region (eq. 8)
    attn = torch.softmax(scores.transpose(2, 3) * gamma1, dim=-1)  # over regions (eq. 9): [Bi, Bj, L, S]
    weighted = torch.einsum("jds,ijls->ijdl", context, attn)  # [Bi, Bj, D, L]
    dot = (queries[:, None] * weighted).sum(2)  # [Bi, Bj, L]
    norms = queries.norm(2, dim=1)[:, None] * weighted.norm(2, dim=2)
    cos = dot / norms.clamp(min=eps)
    # eq. 10: log sum_t exp(gamma2 * cos) over the real words only
    expo = torch.exp(cos * gamma2) * valid[:, None, :]
    return torch.log(expo.sum(-1)), attn


def words_loss_batched(
    regions: torch.Tensor,
    words: torch.Tensor,
    lengths: torch.Tensor | Sequence[int],
    class_ids: Sequence[int] | torch.Tensor | None = None,
    gamma1: float = 4.0,
    gamma2: float = 5.0,
    gamma3: float = 10.0,
    eps: float = 1e-8,
) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    """Same contract as `t2izoo.nn.damsm.words_loss`, computed for all pairs at once.

    Returns ``(image->text loss, text->image loss, attention maps [1, n_i, h, w] per caption)``.
    """
    batch, _, h, w = regions.shape
    rows, attn = word_similarity(regions, words, lengths, gamma1, gamma2, eps)
    n = torch.as_tensor(lengths).reshape(-1).clamp(min=1, max=words.shape[1])
    idx = torch.arange(batch, device=attn.device)
    own = attn[idx, idx]  # [B, L, S]: each caption with its own image
    maps = [own[i, : int(n[i])].reshape(1, -1, h, w) for i in range(batch)]
    return *matching_losses(rows.t() * gamma3, class_ids), maps  # scores: [image j, caption i]
