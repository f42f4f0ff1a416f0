"""Resize policies for metric backbones, by name, so the policy can be recorded and compared.

Numbers made under different resize policies are not comparable (FID moves by whole points):

==========================  ======================================================================
``tf1-bilinear``            TensorFlow 1 ``resize_bilinear(align_corners=False)``: source pixel =
                            ``dst * in/out`` (no half-pixel offset, no antialias). What the
                            original TF FID/IS code fed to Inception; the reference policy.
``bilinear``                torch bilinear, half-pixel centres, no antialias (pytorch-fid).
``bilinear-antialias``      torch bilinear with antialias (torchmetrics >= 1.8 default).
``bilinear-align-corners``  torch bilinear, ``align_corners=True`` (DAMSM-era code).
``bicubic-antialias``       torch bicubic with antialias (close to PIL's bicubic; CLIP's choice).
``nearest``                 nearest neighbour.
``none``                    no resize: the input must already have the backbone's size.
==========================  ======================================================================

Example:
    >>> import torch
    >>> resize_images(torch.zeros(1, 3, 64, 64), 299, "tf1-bilinear").shape
    torch.Size([1, 3, 299, 299])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["RESIZE_POLICIES", "resize_images"]

RESIZE_POLICIES: tuple[str, ...] = (
    "tf1-bilinear",
    "bilinear",
    "bilinear-antialias",
    "bilinear-align-corners",
    "bicubic-antialias",
    "nearest",
    "none",
)


def _tf1_axis(x: torch.Tensor, out: int, dim: int) -> torch.Tensor:
    size = x.shape[dim]
    src = torch.arange(out, device=x.device, dtype=torch.float64) * (size / out)
    i0 = src.floor().long().clamp_(max=size - 1)
    i1 = (i0 + 1).clamp_(max=size - 1)
    frac = (src - i0.to(torch.float64)).to(x.dtype)
    shape = [1] * x.ndim
    shape[dim] = out
    frac = frac.view(shape)
    return x.index_select(dim, i0) * (1 - frac) + x.index_select(dim, i1) * frac


def _tf1_bilinear(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return _tf1_axis(_tf1_axis(x, size[0], x.ndim - 2), size[1], x.ndim - 1)


def resize_images(images: torch.Tensor, size: int | tuple[int, int], policy: str) -> torch.Tensor:
    """Resize ``[B, C, H, W]`` float images to ``size`` with a named policy (see module doc).

    Raises ``ValueError`` for an unknown policy, or for ``none`` when sizes differ.
    """
    hw = (size, size) if isinstance(size, int) else tuple(size)
    if policy not in RESIZE_POLICIES:
        raise ValueError(f"unknown resize policy {policy!r}; choose one of {', '.join(RESIZE_POLICIES)}")
    if tuple(images.shape[-2:]) == hw:
        return images
    if policy == "none":
        raise ValueError(
            f"resize policy 'none' but images are {tuple(images.shape[-2:])} and the backbone needs {hw}"
        )
    if policy == "tf1-bilinear":
        return _tf1_bilinear(images, hw)
    if policy == "nearest":
        return F.interpolate(images, size=hw, mode="nearest")
    if policy == "bilinear-align-corners":
        return F.interpolate(images, size=hw, mode="bilinear", align_corners=True)
    mode = "bicubic" if policy.startswith("bicubic") else "bilinear"
    antialias = policy.endswith("antialias")
    return F.interpolate(images, size=hw, mode=mode, align_corners=False, antialias=antialias)
