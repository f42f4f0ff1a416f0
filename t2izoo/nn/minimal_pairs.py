"""Minimal pairs: two images whose scenes differ in one attribute of one object.

Rows ``2k`` and ``2k+1`` of a batch hold pair ``k`` (``--data-opt minimal_pairs=...`` on the
shapes data). `coarse_pair_difference` measures how far the two images of each pair are apart at
a coarse scale: a real pair is almost the same picture there (same background, same place), so a
generator that tells the two captions apart by changing the background or the layout shows up
as a large value. The AttnGAN recipe's ``pair_consistency`` term trains on it, and
``probe_word_pairs`` reports it for a model's fakes and for the real pairs.

Example:
    >>> import torch
    >>> pair = torch.zeros(2, 3, 64, 64)
    >>> pair[1, :, :32] = 1.0  # the second image's top half is light
    >>> float(coarse_pair_difference(pair, grid=2))
    0.5
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["coarse_pair_difference"]


def coarse_pair_difference(images: torch.Tensor, grid: int = 8) -> torch.Tensor:
    """Mean squared difference of the images ``2k`` and ``2k+1``, each average-pooled to ``grid`` x ``grid``.

    An odd batch's last image has no partner and is left out; fewer than two images give 0.
    On the shapes test pairs at 64 px and ``grid=8`` real pairs give about 0.004.

    Example:
        >>> float(coarse_pair_difference(torch.ones(3, 3, 8, 8)))
        0.0
    """
    if grid < 1:
        raise ValueError(f"coarse_pair_difference: grid must be >= 1, got {grid}")
    even = images.shape[0] - images.shape[0] % 2
    if even == 0:
        return images.new_zeros(())
    pooled = F.adaptive_avg_pool2d(images[:even].float(), grid)
    return (pooled[0::2] - pooled[1::2]).pow(2).mean()
