"""CD-AttnGAN's CLIP contrastive loss (eq. 4) and its total generator objective (eq. 5)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["clip_contrastive_loss"]


def clip_contrastive_loss(
    image_embeddings: torch.Tensor, text_embeddings: torch.Tensor, temperature: float = 0.07
) -> torch.Tensor:
    """Eq. 4, averaged over the batch: for caption ``i``,
    ``-log exp(sim(I_i, T_i)/tau) / sum_j exp(sim(I_j, T_i)/tau)``, ``sim`` = cosine similarity
    and ``I_j`` the CLIP features of the other images generated in the same batch.

    Args:
        image_embeddings: ``[B, D]`` CLIP image features of the generated images.
        text_embeddings: ``[B, D]`` CLIP text features ``T_clip`` of their captions.
        temperature: ``tau`` (0.07, CLIP's initial temperature; the paper gives no value).

    Example:
        >>> img = torch.eye(3); txt = torch.eye(3)
        >>> round(float(clip_contrastive_loss(img, txt, temperature=1.0)), 4)  # -log(e / (e + 2))
        0.5514
    """
    if image_embeddings.shape != text_embeddings.shape:
        raise ValueError(
            f"clip_contrastive_loss: image features {tuple(image_embeddings.shape)} and text features "
            f"{tuple(text_embeddings.shape)} must both be [B, D]"
        )
    if temperature <= 0:
        raise ValueError(f"clip_contrastive_loss: temperature must be > 0, got {temperature}")
    img = F.normalize(image_embeddings.float(), dim=-1)
    txt = F.normalize(text_embeddings.float(), dim=-1)
    logits = txt @ img.t() / temperature  # row i: caption i against every generated image j
    target = torch.arange(logits.shape[0], device=logits.device)
    return F.cross_entropy(logits, target)
