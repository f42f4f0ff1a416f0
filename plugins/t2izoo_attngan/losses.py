"""AttnGAN's GAN losses (the original ``miscc/losses.py``), as plain functions.

* `discriminator_loss`: real/fake with the conditional head, the mismatched pair
  (real image ``i`` with caption ``i+1``, the original; or ``mismatch="partner"``: with
  caption ``i xor 1``, the other half of a minimal pair) as a fake, plus the unconditional
  head; ``(real_u + real_c) / 2 + (fake_u + fake_c + wrong_c) / 3``.
* `generator_adversarial_loss`: both heads should call every stage's fakes real.
* `kl_loss`: KL of the conditioning augmentation against N(0, I), averaged over elements.
* `damsm_generator_loss`: ``lambda`` * (word + sentence DAMSM losses) on the last stage.
* `damsm_refresh_loss`: the image encoder's own loss when ``refresh_image_encoder`` keeps it
  learning during GAN training, with the fakes as extra negatives (not in the original).

Example:
    >>> import torch
    >>> from t2izoo_attngan.discriminator import AttnGANDiscriminator
    >>> d = AttnGANDiscriminator(64, ndf=4, sentence_dim=8)
    >>> real, fake, sent = torch.rand(3, 3, 64, 64), torch.rand(3, 3, 64, 64), torch.randn(3, 8)
    >>> loss = discriminator_loss(d, real, fake, sent)
    >>> loss.dim(), bool(loss > 0)
    (0, True)
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from t2izoo.nn import class_mask, matching_losses, sentence_loss, word_similarity, words_loss_batched

__all__ = ["MISMATCHES", "check_mismatch", "discriminator_loss", "generator_adversarial_loss", "kl_loss", "damsm_generator_loss",
           "damsm_refresh_loss"]


#: the wrong-caption choices of `discriminator_loss`
MISMATCHES = ("next", "partner")


def check_mismatch(mismatch: str) -> str:
    """``mismatch`` itself, or a ValueError naming the allowed values."""
    if mismatch not in MISMATCHES:
        raise ValueError(f"mismatch must be 'next' or 'partner', got {mismatch!r}")
    return mismatch


def _bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def discriminator_loss(
    netD: torch.nn.Module,  # noqa: N803 - the original's name
    real: torch.Tensor,
    fake: torch.Tensor,
    sentence: torch.Tensor,
    mismatch: str = "next",
    real_features: torch.Tensor | None = None,
) -> torch.Tensor:
    """One discriminator's loss. ``fake`` is detached here (D's step must not reach G).

    ``real_features``: ``netD(real)`` when the caller has already computed it (to share it with
    another head), so the real images are not encoded twice.

    ``mismatch`` picks the wrong caption of each real image: ``"next"`` (the original: image
    ``i`` with caption ``i+1``) or ``"partner"`` (caption ``i xor 1``). With minimal-pair
    batches (``ShapesDataset(minimal_pairs=...)``, items ``2k`` and ``2k+1`` differ in one
    attribute only) every wrong pair then differs from the right one in that attribute alone,
    so the conditional head must read it; with ``"next"`` only half of them do.
    """
    if real_features is None:
        real_features = netD(real)
    fake_features = netD(fake.detach())
    cond_real = _bce(netD.COND_DNET(real_features, sentence), 1.0)
    cond_fake = _bce(netD.COND_DNET(fake_features, sentence), 0.0)
    batch = real_features.size(0)
    if batch > 1 and check_mismatch(mismatch) == "next":
        # mismatched pairs: image i with caption i+1 must be judged fake
        cond_wrong = _bce(netD.COND_DNET(real_features[: batch - 1], sentence[1:batch]), 0.0)
    elif batch > 1:
        # image i with caption i xor 1 (an odd batch's last item has no partner and is left out)
        even = batch - batch % 2
        partner = torch.arange(even, device=sentence.device) ^ 1
        cond_wrong = _bce(netD.COND_DNET(real_features[:even], sentence[partner]), 0.0)
    else:
        cond_wrong = cond_fake.new_zeros(())
    if netD.UNCOND_DNET is not None:
        real_u = _bce(netD.UNCOND_DNET(real_features), 1.0)
        fake_u = _bce(netD.UNCOND_DNET(fake_features), 0.0)
        return (real_u + cond_real) / 2.0 + (fake_u + cond_fake + cond_wrong) / 3.0
    return cond_real + (cond_fake + cond_wrong) / 2.0


def generator_adversarial_loss(
    netsD: Sequence[torch.nn.Module],  # noqa: N803
    fakes: Sequence[torch.Tensor],
    sentence: torch.Tensor,
    features: Sequence[torch.Tensor] | None = None,
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Sum over stages of the conditional (+ unconditional) "call it real" loss; also per stage.

    ``features``: each stage's ``netD(fake)`` when the caller has already computed them."""
    per_stage = []
    codes = features if features is not None else [netD(fake) for netD, fake in zip(netsD, fakes)]  # noqa: N806
    for netD, code in zip(netsD, codes):  # noqa: N806
        loss = _bce(netD.COND_DNET(code, sentence), 1.0)
        if netD.UNCOND_DNET is not None:
            loss = loss + _bce(netD.UNCOND_DNET(code), 1.0)
        per_stage.append(loss)
    return torch.stack(per_stage).sum(), per_stage


def kl_loss(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``-0.5 * mean(1 + logvar - mu^2 - exp(logvar))`` (mean over all elements, as released)."""
    return -0.5 * torch.mean(1 + logvar - mu.pow(2) - logvar.exp())


def damsm_generator_loss(
    image_encoder: torch.nn.Module,
    fake: torch.Tensor,
    words: torch.Tensor,
    sentence: torch.Tensor,
    lengths: torch.Tensor,
    class_ids: Sequence[int] | torch.Tensor | None = None,
    lam: float = 5.0,
    gamma1: float = 4.0,
    gamma2: float = 5.0,
    gamma3: float = 10.0,
) -> tuple[torch.Tensor, dict[str, float]]:
    """``lam * (w0 + w1) + lam * (s0 + s1)`` of the final fakes against the captions."""
    regions, code = image_encoder(fake)
    w0, w1, _ = words_loss_batched(regions, words, lengths, class_ids, gamma1, gamma2, gamma3)
    s0, s1 = sentence_loss(code, sentence, class_ids, gamma3)
    w_loss, s_loss = (w0 + w1) * lam, (s0 + s1) * lam
    return w_loss + s_loss, {"w_loss": float(w_loss.detach()), "s_loss": float(s_loss.detach())}


def damsm_refresh_loss(
    image_encoder: torch.nn.Module,
    real: torch.Tensor,
    fake: torch.Tensor,
    words: torch.Tensor,
    sentence: torch.Tensor,
    lengths: torch.Tensor,
    class_ids: Sequence[int] | torch.Tensor | None = None,
    fake_weight: float = 1.0,
    gamma1: float = 4.0,
    gamma2: float = 5.0,
    gamma3: float = 10.0,
) -> tuple[torch.Tensor, dict[str, float]]:
    """The image encoder's loss when it keeps learning during GAN training (not in the original).

    The DAMSM loss of the real images (all four terms, the text side fixed), plus ``fake_weight``
    x a term with the fakes as extra negatives: caption ``i`` must match real image ``i`` better
    than every other real image *and* than the fake drawn from caption ``i`` itself, at the word
    and at the sentence level. A generator that satisfies a frozen image encoder with a cue other
    than the named object (a background, a layout) meets an encoder that learns to reject that
    cue, as a discriminator would.
    """
    # one forward for both (a DDP-wrapped encoder is called once per backward); the encoder is
    # kept in eval mode, so batch norm does not mix real and fake statistics
    regions, code = image_encoder(torch.cat([real, fake.detach().to(real.dtype)]))
    batch = real.shape[0]
    idx = torch.arange(batch, device=real.device)
    # every caption against the reals (columns :B) and the fakes (B:), at both levels, once each
    word, _ = word_similarity(regions, words, lengths, gamma1, gamma2)
    sent = F.normalize(sentence, dim=1) @ F.normalize(code, dim=1).t()
    real_loss = torch.zeros((), device=real.device)
    fake_loss = torch.zeros((), device=real.device)
    mask = class_mask(class_ids, real.device)
    for scores in (word, sent):
        to_real, to_fake = scores[:, :batch], scores[idx, batch + idx]
        real_loss = real_loss + sum(matching_losses(to_real.t() * gamma3, class_ids))
        if fake_weight > 0:
            if mask is not None:  # same-class real images are not negatives (as in the DAMSM loss)
                to_real = to_real.masked_fill(mask, float("-inf"))
            logits = torch.cat([to_real, to_fake[:, None]], 1) * gamma3  # column B: the caption's own fake
            fake_loss = fake_loss + F.cross_entropy(logits, idx)
    logs = {"refresh_real": float(real_loss.detach())}
    if fake_weight <= 0:
        return real_loss, logs
    logs["refresh_fake"] = float(fake_loss.detach())
    return real_loss + fake_weight * fake_loss, logs
