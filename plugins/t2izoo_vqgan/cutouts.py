"""Augmented cutouts: many random crops of each image, resized to CLIP's input side.

CLIP sees a fixed-size input; scoring many random crops (different sizes, positions, flips and
noise) instead of one resized image keeps the optimisation from fooling CLIP with one adversarial
pattern and makes every region of the image answer to the prompt.

Every random number comes from the ``generator`` argument and is drawn in float32 before any
cast, so a run is reproducible and a float64 run sees the same crops.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

__all__ = ["CutoutSpec", "make_cutouts"]


@dataclass(frozen=True)
class CutoutSpec:
    """How cutouts are drawn (fields as in `VQGANClipConfig`)."""

    cutn: int = 32
    cut_pow: float = 1.0
    min_cut: float = 0.25
    flip: bool = True
    noise_fac: float = 0.1


def _uniform(n: int, generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
    g_device = generator.device if generator is not None else device
    return torch.rand(n, generator=generator, device=g_device).to(device)


def make_cutouts(
    images: torch.Tensor, size: tuple[int, int], spec: CutoutSpec, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``[B, C, H, W]`` -> ``[B * cutn, C, size]`` cutouts (sample-major: image 0's cutouts first).

    A cutout's side is ``min_cut + (1 - min_cut) * U ** cut_pow`` of the image's shorter side;
    its offset is uniform; with ``flip`` half are mirrored; Gaussian noise with a per-cutout std
    ``U(0, noise_fac)`` is added (images are in ``[-1, 1]``). Gradients flow to ``images``.

    Example:
        >>> x = torch.zeros(2, 3, 32, 32)
        >>> make_cutouts(x, (16, 16), CutoutSpec(cutn=4), torch.Generator().manual_seed(0)).shape
        torch.Size([8, 3, 16, 16])
    """
    b, c, h, w = images.shape
    side = min(h, w)
    n = spec.cutn
    u = _uniform(4 * n, generator, images.device)
    frac = spec.min_cut + (1 - spec.min_cut) * u[:n].pow(spec.cut_pow)
    sizes = (frac * side).round().clamp(1, side).long().tolist()
    crops = []
    for i, s in enumerate(sizes):
        y = int(u[n + i].item() * (h - s + 1)) if h > s else 0
        x = int(u[2 * n + i].item() * (w - s + 1)) if w > s else 0
        crop = images[:, :, y:y + s, x:x + s]
        # antialias when shrinking (CLIP should not see aliasing the image does not have)
        crops.append(F.interpolate(crop, size=size, mode="bilinear", align_corners=False, antialias=s > size[0]))
    out = torch.stack(crops, 1)  # [B, n, C, S, S]
    if spec.flip:
        flips = u[3 * n:] < 0.5
        out = torch.where(flips.view(1, n, 1, 1, 1), out.flip(-1), out)
    if spec.noise_fac > 0:
        g_device = generator.device if generator is not None else images.device
        std = torch.rand(n, generator=generator, device=g_device).to(images.device) * spec.noise_fac
        noise = torch.randn(out.shape, generator=generator, device=g_device).to(images.device, images.dtype)
        out = out + noise * std.to(images.dtype).view(1, n, 1, 1, 1)
    return out.reshape(b * n, c, *size)
