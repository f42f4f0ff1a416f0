"""The ``ffgan`` training recipe: FF-GAN eq. 8-12 with spectral-norm discriminators.

FF-GAN's objective is AttnGAN's (the release's ``miscc/losses.py`` is DM-GAN's, which is
AttnGAN's): per stage, the unconditional and conditional BCE terms (eq. 8, 11, with the
mismatched-caption pair in D's conditional term, as released), ``lambda1`` x the CA KL (eq. 9)
and ``lambda2`` x the DAMSM loss of the last stage (eq. 10). So this recipe *is* the
``attngan`` recipe, reached through the recipe registry (plugins never import each other),
with two changes:

* the discriminators are FF-GAN's spectral-norm ones (`FFGANDiscriminator`, width
  ``generator.ndf``, 32 for birds), which the AttnGAN losses drive through the same two heads;
* the loss weights are named as in the paper: ``lambda1`` (KL, default 1) and ``lambda2``
  (DAMSM, default 5 birds; 50 for COCO). ``kl_weight`` / ``lam`` are accepted as aliases.

Everything else is inherited: Adam(2e-4, betas 0.5/0.999) for G and D, the frozen DAMSM text
encoder (``pretrained_encoder``), the DAMSM image encoder (``image_encoder``), EMA of G (0.999).

Example:
    $ t2izoo train shapes-ffgan --recipe damsm --steps 1000 --out runs/shapes-damsm
    $ t2izoo train shapes-ffgan --steps 3000 --out runs/shapes-ffgan \\
          -O pretrained_encoder=runs/shapes-damsm/final \\
          -O image_encoder=runs/shapes-damsm/final/damsm_image_encoder -O lambda2=5
"""

from __future__ import annotations

from typing import Any

import torch

from t2izoo.training import get_recipe

from .discriminator import build_discriminators

__all__ = ["FFGANRecipe"]

try:
    _AttnGANRecipe: Any = get_recipe("attngan")
except KeyError as err:  # pragma: no cover - only without the first-party attngan plugin
    raise ImportError(
        "the ffgan recipe extends the 'attngan' recipe, which is not registered (is the t2izoo-attngan "
        f"plugin installed and loading? see `t2izoo plugins`): {err}"
    ) from err

_ALIASES = {"lambda1": "kl_weight", "lambda2": "lam"}


def _paper_names(options: dict[str, Any]) -> dict[str, Any]:
    """Map ``lambda1`` / ``lambda2`` onto the attngan recipe's ``kl_weight`` / ``lam``."""
    out = dict(options)
    for paper, ours in _ALIASES.items():
        if paper in out:
            value = out.pop(paper)
            if ours in out and float(out[ours]) != float(value):
                raise ValueError(f"ffgan recipe: {paper}={value} and {ours}={out[ours]} disagree (they are one weight)")
            out[ours] = value
    return out


class FFGANRecipe(_AttnGANRecipe):
    """FF-GAN training for a pipeline with an ``ffgan`` generator (or an ``attngan`` one).

    Options (besides the attngan recipe's): ``lambda1`` (KL weight, 1), ``lambda2`` (DAMSM
    weight, 5), ``ndf`` (discriminator width; default the generator's ``ndf`` field, else 2 ngf).
    """

    def __init__(self, pipeline: Any, **options: Any) -> None:
        cfg = pipeline.generator.config
        options = _paper_names(options)
        options.setdefault("ndf", getattr(cfg, "ndf", 2 * getattr(cfg, "ngf", 32)))
        super().__init__(pipeline, **options)
        ndf = int(options["ndf"])
        # The parent built AttnGAN's batch-norm discriminators; FF-GAN's are spectrally
        # normalised with biases and no BN. Swap them (same heads, same losses) and give D a
        # fresh optimizer over the new parameters.
        self.discriminators.netsD = build_discriminators(  # noqa: N815
            cfg.branch_num, ndf, cfg.sentence_dim, cfg.image_channels
        )
        lr = float(options.get("lr", 2e-4))
        betas = tuple(float(b) for b in options.get("betas", (0.5, 0.999)))
        self.opt_d = torch.optim.Adam(
            self.discriminators.parameters(), lr=float(options.get("lr_d", lr)), betas=betas
        )

    @property
    def lambda1(self) -> float:
        """Weight of the CA KL term (eq. 10)."""
        return self.kl_weight

    @property
    def lambda2(self) -> float:
        """Weight of the DAMSM term (eq. 10)."""
        return self.lam
