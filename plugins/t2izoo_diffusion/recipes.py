"""Training recipes of the diffusion components (the `t2izoo.training.Recipe` interface).

* `ClipDiffusionRecipe` (``clip-diffusion``): the text-to-image diffusion generator on
  (image, caption) pairs; the text encoder stays frozen (CLIP's usual role).
* `DiffusionSRRecipe` (``diffusion-sr``): CD-AttnGAN stage 2. Only the refiner learns; encoder
  and generator are frozen. Pairs are (real high-res, low-res) where low-res is the real image
  downsampled (``lr_source="downsample"``, the paper's simulation of I_low) or the frozen
  generator's output for the caption (``lr_source="generator"``).

Both minimise eq. 7, ``||eps_theta(x_t, t, cond) - eps||^2``, with AdamW (stage 2 of the paper:
lr 1e-4) and draw t and eps from a private, checkpointed `torch.Generator`.

Example:
    $ t2izoo train shapes-clip-diffusion --steps 2000 --out runs/scd
    $ t2izoo train cd-attngan --recipe diffusion-sr --steps 2000 --out runs/sr -O lr_source=generator
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from t2izoo.training import Recipe, has_trainable_parameters

__all__ = ["LossForward", "ClipDiffusionRecipe", "DiffusionSRRecipe"]


class LossForward(nn.Module):
    """Routes ``forward`` to ``component.loss`` so DDP (which hooks ``forward``) syncs its gradients."""

    def __init__(self, component: nn.Module) -> None:
        super().__init__()
        self.component = component

    def forward(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        return self.component.loss(*args, **kwargs)


def _images_at(batch: Any, size: int) -> torch.Tensor:
    if size in batch.images:
        return batch.images[size]
    src = batch.images[max(batch.images)]
    mode = "area" if src.shape[-1] > size else "bicubic"
    kwargs = {} if mode == "area" else {"align_corners": False}
    return F.interpolate(src, size=(size, size), mode=mode, **kwargs).clamp(-1, 1)


class _DiffusionRecipe(Recipe):
    slot = ""

    def __init__(self, pipeline: Any, **options: Any) -> None:
        super().__init__(pipeline, **options)
        self.target = getattr(pipeline, self.slot, None)
        if self.target is None or not hasattr(self.target, "loss"):
            raise TypeError(f"recipe {type(self).__name__} needs a pipeline whose {self.slot} has a loss() (a diffusion component)")
        self.rng = torch.Generator().manual_seed(int(options.get("seed", 0)))
        self.opt = torch.optim.AdamW(
            self.target.parameters(),
            lr=float(options.get("lr", 1e-4)),
            weight_decay=float(options.get("weight_decay", 0.0)),
        )
        self._loss: nn.Module | None = None

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {self.slot: self.opt}

    def state_dict(self) -> dict[str, Any]:
        return {"rng": self.rng.get_state()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if "rng" in state:
            self.rng.set_state(state["rng"])

    def setup(self, accelerator: Any) -> None:
        self.accelerator = accelerator
        for name, module in self.modules().items():
            if name == self.slot:
                continue
            self._prepared[name] = (
                accelerator.prepare_model(module) if has_trainable_parameters(module) else module.to(accelerator.device)
            )
        self._loss = accelerator.prepare_model(LossForward(self.target))
        self._prepared[self.slot] = self.target  # moved with the wrapper; plain, for sampling
        self._prepared[f"{self.slot}.loss"] = self._loss  # for accumulate(): the DDP-wrapped one
        for name, opt in self.optimizers().items():
            self._prepared_optimizers[name] = accelerator.prepare_optimizer(opt)

    def _compute_loss(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        if self._loss is not None:
            return self._loss(*args, generator=self.rng, **kwargs)
        return self.target.loss(*args, generator=self.rng, **kwargs)  # inside SequentialRecipe: one process

    def _text(self, batch: Any) -> Any:
        with torch.no_grad():
            return self.unwrap("encoder")(self.tokens(batch))


class ClipDiffusionRecipe(_DiffusionRecipe):
    """Train ``clip-diffusion`` with the denoising loss; the encoder is frozen.

    Options: ``lr`` (1e-4), ``weight_decay`` (0), ``seed`` (0, the t/eps stream), ``max_grad_norm``.
    """

    slot = "generator"

    def __init__(self, pipeline: Any, **options: Any) -> None:
        super().__init__(pipeline, **options)
        pipeline.encoder.requires_grad_(False)

    def modules(self) -> dict[str, nn.Module]:
        return {"encoder": self.pipeline.encoder, "generator": self.pipeline.generator}

    def data_resolutions(self) -> list[int]:
        return [self.target.config.image_size]

    def training_step(self, batch: Any, step: int) -> dict[str, float]:
        images = _images_at(batch, self.target.config.image_size)
        loss = self._compute_loss(images, self._text(batch))
        self.optimize(self.slot, loss)
        return {"loss/diffusion": float(loss.detach())}


class DiffusionSRRecipe(_DiffusionRecipe):
    """CD-AttnGAN stage 2: train ``diffusion-sr`` with encoder and generator frozen.

    Options: ``lr`` (1e-4, the paper's AdamW), ``lr_source`` (``"downsample"`` | ``"generator"``),
    ``weight_decay``, ``seed``, ``max_grad_norm``, ``crop`` (0: whole images; N: train on random
    N x N crops of the high-res image and the matching low-res crops, as super-resolution models
    usually are: the cost of a step falls with the pixel count, and the convolutional U-Net then
    runs on the whole image at inference), ``max_timestep`` (train on ``t`` below it only: for a
    refiner always sampled with ``strength`` s, ``s * num_train_timesteps``; SDXL's refiner is
    trained this way).
    """

    slot = "refiner"

    def __init__(self, pipeline: Any, **options: Any) -> None:
        super().__init__(pipeline, **options)
        self.lr_source = str(options.get("lr_source", "downsample"))
        if self.lr_source not in ("downsample", "generator"):
            raise ValueError(f"diffusion-sr recipe: lr_source must be 'downsample' or 'generator', got {self.lr_source!r}")
        self.crop = int(options.get("crop", 0) or 0)
        self.max_timestep = int(options.get("max_timestep") or 0) or None  # 0 / absent: the whole schedule
        if self.crop:
            self.target.check_crop(self.crop)
        pipeline.encoder.requires_grad_(False)
        pipeline.generator.requires_grad_(False)

    def modules(self) -> dict[str, nn.Module]:
        return {"encoder": self.pipeline.encoder, "generator": self.pipeline.generator, "refiner": self.pipeline.refiner}

    def _crop(self, hr: torch.Tensor, lr: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """One random aligned crop per batch (from the recipe's generator, so a resume repeats it)."""
        full = hr.shape[-1]
        if not self.crop or self.crop == full:
            return hr, lr
        scale = self.target.scale
        cells = (full - self.crop) // scale + 1
        y, x = (int(v) * scale for v in torch.randint(cells, (2,), generator=self.rng))
        hr = hr[..., y : y + self.crop, x : x + self.crop]
        if lr is not None:
            if lr.shape[-1] != full // scale:
                lr = F.interpolate(lr, size=(full // scale,) * 2, mode="bicubic", antialias=True, align_corners=False)
            c = self.crop // scale
            lr = lr[..., y // scale : y // scale + c, x // scale : x // scale + c]
        return hr, lr

    def train(self, mode: bool = True) -> None:
        super().train(mode)
        self.pipeline.generator.eval()  # frozen stage 1 (no dropout / BN updates)

    def data_resolutions(self) -> list[int]:
        return [self.target.config.image_size]

    def training_step(self, batch: Any, step: int) -> dict[str, float]:
        hr = _images_at(batch, self.target.config.image_size)
        text = self._text(batch)
        lr = None
        if self.lr_source == "generator":
            with torch.no_grad():
                gen = self.unwrap("generator")
                lr = gen(text, noise=gen.sample_noise(hr.shape[0], self.rng), generator=self.rng).image
        hr, lr = self._crop(hr, lr)
        loss = self._compute_loss(hr, lr, text, max_timestep=self.max_timestep)
        self.optimize(self.slot, loss)
        return {"loss/diffusion_sr": float(loss.detach())}

    @torch.no_grad()
    def sample(self, batch: Any, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """Low-res input (as trained) and its refinement, for the sample grids."""
        hr = _images_at(batch, self.target.config.image_size)
        text = self._text(batch)
        lr = self.target.degrade(hr)
        if self.lr_source == "generator":
            gen = self.unwrap("generator")
            lr = gen(text, noise=gen.sample_noise(hr.shape[0], generator), generator=generator).image
        out = self.target(lr, text, generator=generator)
        return {f"low_res_{lr.shape[-1]}": lr.float(), "real": hr.float(), "final": out.float()}
