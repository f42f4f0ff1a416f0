"""``shapes-clip``: contrastive (InfoNCE) training of a CLIP encoder on captioned images.

open_clip's recipe at small scale: both towers from scratch (``pretrained: null``), symmetric
cross-entropy over the in-batch image-caption similarity matrix with a learned temperature,
AdamW. Used to train the tiny ``shapes-clip-tiny`` CLIP on the built-in shapes world, which then
serves as the frozen text encoder, the CLIP-attention image encoder and the CLIP-score backbone.

Example:
    $ t2izoo train shapes-clip-diffusion --recipe shapes-clip encoder.frozen=false --steps 3000 --out runs/clip
    $ python -c "import t2izoo; p = t2izoo.build('runs/clip/final', pretrained='runs/clip/final'); \
          p.encoder.export_open_clip('shapes-clip-tiny.pt')"
    # then use it anywhere: encoder.pretrained=shapes-clip-tiny.pt
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from t2izoo.training import Recipe

__all__ = ["CLIPContrastiveRecipe"]


class _ContrastiveForward(nn.Module):
    """``forward`` -> ``encoder.contrastive_loss`` so DDP (which hooks ``forward``) syncs gradients."""

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, images: torch.Tensor, tokens: Any) -> torch.Tensor:
        return self.encoder.contrastive_loss(images, tokens)


class CLIPContrastiveRecipe(Recipe):
    """Train the pipeline's ``clip`` encoder contrastively; nothing else is touched.

    Options: ``lr`` (5e-4), ``weight_decay`` (0.1), ``betas`` ((0.9, 0.98)), ``max_grad_norm``.
    """

    def __init__(self, pipeline: Any, **options: Any) -> None:
        super().__init__(pipeline, **options)
        enc = pipeline.encoder
        if not hasattr(enc, "contrastive_loss"):
            raise TypeError(f"recipe 'shapes-clip' trains a 'clip' encoder; this pipeline's encoder is {enc.config.name!r}")
        if enc.config.frozen:
            raise ValueError("recipe 'shapes-clip': the clip encoder is frozen; train with the override encoder.frozen=false")
        self.opt = torch.optim.AdamW(
            enc.parameters(),
            lr=float(options.get("lr", 5e-4)),
            weight_decay=float(options.get("weight_decay", 0.1)),
            betas=tuple(options.get("betas", (0.9, 0.98))),
        )
        self.image_size = int(enc.image_size[0])
        self._loss: nn.Module | None = None

    def modules(self) -> dict[str, nn.Module]:
        return {"encoder": self.pipeline.encoder}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"encoder": self.opt}

    def data_resolutions(self) -> list[int]:
        return [self.image_size]

    def setup(self, accelerator: Any) -> None:
        self.accelerator = accelerator
        self._loss = accelerator.prepare_model(_ContrastiveForward(self.pipeline.encoder))
        self._prepared["encoder"] = self.pipeline.encoder
        self._prepared["encoder.loss"] = self._loss
        self._prepared_optimizers["encoder"] = accelerator.prepare_optimizer(self.opt)

    def training_step(self, batch: Any, step: int) -> dict[str, float]:
        images = batch.images[self.image_size] if self.image_size in batch.images else batch.images[max(batch.images)]
        tokens = self.tokens(batch)
        loss_fn = self._loss if self._loss is not None else _ContrastiveForward(self.pipeline.encoder)
        loss = loss_fn(images, tokens)
        self.optimize("encoder", loss)
        # open_clip clamps the learned temperature at 100
        with torch.no_grad():
            self.pipeline.encoder.clip.logit_scale.clamp_(0, 4.6052)
        return {"loss/contrastive": float(loss.detach()), "logit_scale": float(self.pipeline.encoder.clip.logit_scale.detach().exp())}

    @torch.no_grad()
    def sample(self, batch: Any, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        images = batch.images[max(batch.images)]
        return {"final": images.float()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        return None
