"""Training recipe of the `tiny-conv` generator: a conditional GAN with hinge loss.

One small projection discriminator per generator stage judges (image, sentence) pairs. The
discriminator sees three kinds of pair, as in AttnGAN's matching-aware loss:

* real image + its caption            -> should score high,
* generated image + its caption       -> low,
* real image + another sample's caption (mismatched) -> low,

with hinge losses (Miyato & Koyama 2018 projection discriminator; hinge as in DF-GAN):
``L_D = relu(1 - D(x, s)) + (relu(1 + D(G(z, s), s)) + relu(1 + D(x, s')))/2`` and
``L_G = -D(G(z, s), s)`` summed over stages.

Example:
    >>> import t2izoo
    >>> pipe = t2izoo.build("shapes-tiny")
    >>> recipe = pipe.generator.make_recipe(pipe, lr=2e-4)   # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from t2izoo.training import Recipe, frozen

__all__ = ["StageDiscriminator", "TinyDiscriminator", "TinyGANRecipe"]


class StageDiscriminator(nn.Module):
    """Strided convs down to 4x4, then ``uncond(h) + <proj(sentence), h>`` (projection D).

    No batch norm: real, fake and mismatched pairs go through in one batch, and batch
    statistics would let the three kinds leak into each other.
    """

    def __init__(self, resolution: int, channels: int, ndf: int, text_dim: int) -> None:
        super().__init__()
        n_down = max(resolution.bit_length() - 3, 1)  # resolution -> 4
        layers: list[nn.Module] = []
        cin = channels
        for i in range(n_down):
            cout = ndf * 2 ** min(i, 3)
            layers += [nn.Conv2d(cin, cout, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
            cin = cout
        self.features = nn.Sequential(*layers)
        self.uncond = nn.Linear(cin, 1)
        self.proj = nn.Linear(text_dim, cin, bias=False)

    def forward(self, images: torch.Tensor, sentence: torch.Tensor) -> torch.Tensor:
        h = self.features(images).sum(dim=(2, 3))  # global sum pooling, [B, C]
        return self.uncond(h).squeeze(1) + (self.proj(sentence) * h).sum(1)


class TinyDiscriminator(nn.Module):
    """One `StageDiscriminator` per image resolution; returns one logit vector per stage."""

    def __init__(self, resolutions: list[int], channels: int, ndf: int, text_dim: int) -> None:
        super().__init__()
        self.resolutions = list(resolutions)
        self.stages = nn.ModuleDict(
            {str(r): StageDiscriminator(r, channels, ndf, text_dim) for r in self.resolutions}
        )

    def forward(self, images: list[torch.Tensor], sentence: torch.Tensor) -> list[torch.Tensor]:
        return [self.stages[str(img.shape[-1])](img, sentence) for img in images]


class TinyGANRecipe(Recipe):
    """Conditional hinge GAN for `tiny-conv` (and any generator whose stages are plain images).

    Options:
        lr: learning rate of both networks (default 2e-4); ``lr_g`` / ``lr_d`` override it.
        betas: Adam betas (default (0.5, 0.999), the usual GAN choice).
        ndf: discriminator width (default 32).
        mismatch_weight: weight of the mismatched-caption term inside the fake half (0.5).
        train_encoder: also train the text encoder with the generator's loss (default False:
            the randomly initialised hashed embedding is a fixed, informative bag-of-words
            feature; training it against D lets G move the target).
        max_grad_norm: clip gradients (default off).
    """

    def __init__(self, pipeline: Any, **options: Any) -> None:
        super().__init__(pipeline, **options)
        gen = pipeline.generator
        cfg = gen.config
        lr = float(options.get("lr", 2e-4))
        betas = tuple(options.get("betas", (0.5, 0.999)))
        self.mismatch_weight = float(options.get("mismatch_weight", 0.5))
        self.train_encoder = bool(options.get("train_encoder", False))
        text_dim = int(pipeline.encoder.config.ports().outputs.get("sentence_dim") or cfg.text_dim)
        self.resolutions = [cfg.image_size >> k for k in reversed(range(cfg.num_stages))]
        self.discriminator = TinyDiscriminator(
            self.resolutions, getattr(cfg, "channels", 3), int(options.get("ndf", 32)), text_dim
        )
        if not self.train_encoder:
            pipeline.encoder.requires_grad_(False)
        g_params = list(gen.parameters()) + (list(pipeline.encoder.parameters()) if self.train_encoder else [])
        self.opt_g = torch.optim.Adam(g_params, lr=float(options.get("lr_g", lr)), betas=betas)
        self.opt_d = torch.optim.Adam(
            self.discriminator.parameters(), lr=float(options.get("lr_d", lr)), betas=betas
        )

    def modules(self) -> dict[str, nn.Module]:
        return {
            "encoder": self.pipeline.encoder,
            "generator": self.pipeline.generator,
            "discriminator": self.discriminator,
        }

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"generator": self.opt_g, "discriminator": self.opt_d}

    def data_resolutions(self) -> list[int]:
        """Resolutions the batches must carry (one per generator stage)."""
        return list(self.resolutions)

    def _real(self, batch: Any) -> list[torch.Tensor]:
        out = []
        for r in self.resolutions:
            if r in batch.images:
                out.append(batch.images[r])
            else:  # resize from the largest available (area filter: no aliasing going down)
                src = batch.images[max(batch.images)]
                out.append(F.interpolate(src, size=(r, r), mode="area" if src.shape[-1] > r else "bilinear"))
        return out

    def training_step(self, batch: Any, step: int) -> dict[str, float]:
        real = self._real(batch)
        n = real[0].shape[0]
        if self.train_encoder:
            text = self.encode(batch)
        else:
            with torch.no_grad():
                text = self.unwrap("encoder")(self.tokens(batch))
        sentence = text.sentence
        # another sample's caption; a roll needs no RNG, so it cannot disturb reproducibility
        mismatched = sentence.roll(1, dims=0)

        fake = self.model("generator")(text).images

        # -- discriminator: real+caption, fake+caption, real+other caption in one pass
        pairs = [torch.cat([r, f.detach(), r]) for r, f in zip(real, fake, strict=True)]
        cond = torch.cat([sentence, sentence, mismatched]).detach()
        d_loss = real[0].new_zeros(())
        real_score = 0.0
        for logits in self.model("discriminator")(pairs, cond):
            d_real, d_fake, d_mis = logits.float().split(n)
            d_loss = d_loss + F.relu(1 - d_real).mean() + (
                (1 - self.mismatch_weight) * F.relu(1 + d_fake).mean()
                + self.mismatch_weight * F.relu(1 + d_mis).mean()
            )
            real_score += float(d_real.mean().detach())
        self.optimize("discriminator", d_loss)

        # -- generator: D frozen and unwrapped (no DDP pass, D's accumulated grads untouched)
        with frozen(self.discriminator):
            g_logits = self.unwrap("discriminator")(fake, sentence.detach())
        g_loss = sum(-lg.float().mean() for lg in g_logits)
        self.optimize("generator", g_loss)
        return {
            "loss/d": float(d_loss.detach()),
            "loss/g": float(g_loss.detach()),
            "score/d_real": real_score / len(self.resolutions),
        }
