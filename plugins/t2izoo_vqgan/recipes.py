"""The ``vqgan`` recipe: train the VQGAN autoencoder of a ``vqgan-clip`` generator.

Loss (taming-transformers' stage 1 without its adversarial and LPIPS terms, which are skipped
here: the shapes world is flat-coloured and a CPU budget has no room for a discriminator):

    L = |x - x_hat|_1 + ||sg[E(x)] - z_q||^2 + beta ||E(x) - sg[z_q]||^2      (beta = 0.25)

Dead codes (unused for ``restart_every`` steps) are restarted on random encoder outputs of the
current batch, so a small codebook stays in use. Adam with taming's betas (0.5, 0.9). The guide
CLIP and the pipeline's encoder are frozen and untouched.

Example:
    $ t2izoo train shapes-vqgan-clip --recipe vqgan --steps 1500 --batch-size 8 --lr 1e-3 --out runs/shapes-vqgan
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from t2izoo.training import Recipe

__all__ = ["VQGANRecipe"]


class _AutoencoderLoss(nn.Module):
    """Routes ``forward`` to the generator's autoencoder loss so DDP (which hooks ``forward``)
    synchronises the VQGAN's gradients; the guide CLIP inside is frozen and unused here."""

    def __init__(self, generator: nn.Module) -> None:
        super().__init__()
        self.generator = generator

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.generator.autoencoder_loss(images)


class VQGANRecipe(Recipe):
    """Train ``generator.vq`` (encoder, codebook, decoder) on real images.

    Options: ``lr`` (1e-4), ``betas`` ((0.5, 0.9), taming's), ``restart_every`` (50 steps; 0 = off;
    off under several processes), ``seed`` (0, the restart draws), ``max_grad_norm``.
    """

    find_unused_parameters = True  # the guide CLIP inside the generator takes no part

    def __init__(self, pipeline: Any, **options: Any) -> None:
        super().__init__(pipeline, **options)
        gen = pipeline.generator
        if not hasattr(gen, "autoencoder_loss"):
            raise TypeError(f"recipe 'vqgan' needs a vqgan-clip generator, not '{gen.config.name}'")
        pipeline.encoder.requires_grad_(False)
        gen.guide.requires_grad_(False)
        betas = options.get("betas", (0.5, 0.9))
        if isinstance(betas, str):
            betas = tuple(float(b) for b in betas.strip("()[] ").split(","))
        self.opt = torch.optim.Adam(gen.vq.parameters(), lr=float(options.get("lr", 1e-4)), betas=tuple(betas))
        self.restart_every = int(options.get("restart_every", 50))
        self.usage = torch.zeros(gen.config.n_embed, dtype=torch.long)
        self.rng = torch.Generator().manual_seed(int(options.get("seed", 0)))
        self._loss: nn.Module | None = None

    def modules(self) -> dict[str, nn.Module]:
        return {"encoder": self.pipeline.encoder, "generator": self.pipeline.generator}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"vq": self.opt}

    def data_resolutions(self) -> list[int]:
        return [self.pipeline.generator.config.resolution]

    def state_dict(self) -> dict[str, Any]:
        return {"usage": self.usage.clone(), "rng": self.rng.get_state()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if "usage" in state:
            self.usage = state["usage"].clone()
        if "rng" in state:
            self.rng.set_state(state["rng"])

    def setup(self, accelerator: Any) -> None:
        self.accelerator = accelerator
        if getattr(accelerator, "num_processes", 1) > 1:
            self.restart_every = 0  # a restart draws from the local batch: codebooks would diverge
        gen = self.pipeline.generator
        self._prepared["encoder"] = self.pipeline.encoder.to(accelerator.device)
        self._loss = accelerator.prepare_model(_AutoencoderLoss(gen))
        self._prepared["generator"] = gen  # moved with the wrapper; plain, for sampling
        self._prepared["generator.loss"] = self._loss
        self._prepared_optimizers["vq"] = accelerator.prepare_optimizer(self.opt)

    def train(self, mode: bool = True) -> None:
        self.pipeline.encoder.eval()
        self.pipeline.generator.train(mode)

    def _images(self, batch: Any) -> torch.Tensor:
        size = self.pipeline.generator.config.resolution
        if size in batch.images:
            return batch.images[size].to(self.device)
        src = batch.images[max(batch.images)].to(self.device)
        return F.interpolate(src, size=(size, size), mode="area").clamp(-1, 1)

    def training_step(self, batch: Any, step: int) -> dict[str, float]:
        images = self._images(batch)
        loss_fn = self._loss if self._loss is not None else _AutoencoderLoss(self.pipeline.generator)
        out = loss_fn(images)
        self.optimize("vq", out["total"])
        gen = self.pipeline.generator
        gen.vq_ready.fill_(1)
        indices = out["indices"].flatten().cpu()
        self.usage[indices.unique()] = 0  # steps since last use
        unused = torch.ones_like(self.usage, dtype=torch.bool)
        unused[indices.unique()] = False
        self.usage[unused] += 1
        restarted = 0
        if self.restart_every and (step + 1) % self.restart_every == 0:
            restarted = self._restart_dead_codes(out["latents"], images)
        return {
            "loss/total": float(out["total"].detach()), "loss/rec_l1": float(out["rec"].detach()),
            "loss/codebook": float(out["codebook"].detach()), "loss/commit": float(out["commit"].detach()),
            "codes/used": float((self.usage == 0).sum()), "codes/restarted": float(restarted),
        }

    @torch.no_grad()
    def _restart_dead_codes(self, _latents: torch.Tensor, images: torch.Tensor) -> int:
        gen = self.pipeline.generator
        dead = (self.usage >= self.restart_every).nonzero().flatten()
        if dead.numel() == 0:
            return 0
        z = gen.encode_images(images).permute(0, 2, 3, 1).reshape(-1, gen.config.embed_dim)
        pick = torch.randint(z.shape[0], (dead.numel(),), generator=self.rng).to(z.device)
        gen.codebook.data[dead.to(z.device)] = z[pick].to(gen.codebook.dtype)
        self.usage[dead] = 0
        return int(dead.numel())

    @torch.no_grad()
    def sample(self, batch: Any, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """Inputs and their reconstructions (the CLIP optimisation is not what this recipe trains)."""
        images = self._images(batch)
        rec, _ = self.pipeline.generator.reconstruct(images)
        return {"input": images.float(), "final": rec.clamp(-1, 1).float()}
