"""Training recipe of the ``cvae`` generator: minimise the negative ELBO with Adam.

``loss = reconstruction(x, p(x | fusion(z, c))) + kl_weight * KL(q(z | x, c) || N(0, I))``, with
``z = mu + sigma * eps`` and ``eps`` drawn by the generator's `sample_noise` from the trainer's
seeded (and checkpointed) RNG. The text encoder is trained too only when it has trainable
parameters and ``train_encoder`` is set (CLIP and T5 are frozen feature extractors in the paper).

Example:
    >>> import t2izoo
    >>> pipe = t2izoo.build("shapes-cvae")
    >>> recipe = pipe.generator.make_recipe(pipe, lr=1e-3)   # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from t2izoo.training import Recipe, has_trainable_parameters

__all__ = ["CVAERecipe"]


class CVAERecipe(Recipe):
    """Negative-ELBO training of a `CVAEGenerator` (any encoder).

    Options:
        lr: Adam learning rate (default 1e-3, the seed paper's gated model; its CLIP model used 5e-3).
        weight_decay: Adam weight decay (default 0; the paper's CLIP model used 1e-5).
        kl_weight: override the generator config's KL weight for this run.
        train_encoder: also train the text encoder (default False).
        max_grad_norm: clip gradients (default off).
    """

    def __init__(self, pipeline: Any, **options: Any) -> None:
        super().__init__(pipeline, **options)
        gen = pipeline.generator
        if not hasattr(gen, "loss") or not hasattr(gen, "encode"):
            raise TypeError(
                f"recipe 'cvae' trains a cvae generator; this pipeline's generator is '{gen.config.name}'"
            )
        self.kl_weight = options.get("kl_weight")
        self.train_encoder = bool(options.get("train_encoder", False))
        if not self.train_encoder:
            pipeline.encoder.requires_grad_(False)
        params = list(gen.parameters())
        if self.train_encoder:
            params += [p for p in pipeline.encoder.parameters() if p.requires_grad]
        self.opt = torch.optim.Adam(
            params, lr=float(options.get("lr", 1e-3)), weight_decay=float(options.get("weight_decay", 0.0))
        )

    def modules(self) -> dict[str, nn.Module]:
        return {"encoder": self.pipeline.encoder, "generator": self.pipeline.generator}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"cvae": self.opt}

    def data_resolutions(self) -> list[int]:
        return [self.pipeline.generator.config.image_size]

    def _real(self, batch: Any) -> torch.Tensor:
        size = self.pipeline.generator.config.image_size
        images = batch.images[size] if size in batch.images else batch.images[max(batch.images)]
        if images.shape[-1] != size:
            images = F.interpolate(images, size=(size, size), mode="area")
        want = self.pipeline.generator.config.image_channels
        if images.shape[1] != want:
            if want == 1:  # grey model on RGB data
                images = images.mean(dim=1, keepdim=True)
            elif images.shape[1] == 1:
                images = images.expand(-1, want, -1, -1)
            else:
                raise ValueError(
                    f"cvae expects {want}-channel images (generator.image_channels), the data has {images.shape[1]}"
                )
        return images.to(self.device)

    def training_step(self, batch: Any, step: int) -> dict[str, float]:
        images = self._real(batch)
        encoder = self.pipeline.encoder
        if self.train_encoder and has_trainable_parameters(encoder):
            text = self.encode(batch)
        else:
            with torch.no_grad():
                text = self.unwrap("encoder")(self.tokens(batch))
        gen = self.unwrap("generator")
        noise = gen.sample_noise(images.shape[0])
        # through the prepared module (forward with images = the ELBO), so DDP syncs gradients
        terms = self.model("generator")(text, noise=noise, images=images).extras
        rec, kl = terms["reconstruction"].float(), terms["kl"].float()
        total = terms["loss"].float() if self.kl_weight is None else rec + float(self.kl_weight) * kl
        self.optimize("cvae", total)
        return {
            "loss/total": float(total.detach()),
            "loss/reconstruction": float(rec.detach()),
            "loss/kl": float(kl.detach()),
            "loss/reconstruction_per_pixel": float(rec.detach()) / images[0].numel(),
        }

    @torch.no_grad()
    def sample(self, batch: Any, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """Prior samples for the batch's captions, plus reconstructions of its images."""
        result = super().sample(batch, generator)
        gen = self.unwrap("generator")
        text = self.unwrap("encoder")(self.tokens(batch).to(self.device))
        images = self._real(batch)
        noise = gen.sample_noise(images.shape[0], generator=generator)
        result["reconstruction"] = gen(text, noise=noise, images=images).image.float()
        return result
