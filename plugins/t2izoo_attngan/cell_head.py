"""An auxiliary per-cell attribute classifier on the 64 px discriminator (AC-GAN style; not in AttnGAN).

Sessions 7-11 found that the DAMSM term can be met without drawing the named shape: a frozen
image encoder accepts a changed background or layout as "the other shape". This head asks the
discriminator's own image code a question such a cue cannot answer: which value of one attribute
(the shape, say) sits in each cell of the shapes world's 3 x 3 board, or "empty". It learns on
real images only, inside the discriminator step, so its features keep up with the generator the
way a frozen encoder's cannot; the generator is then asked to make its fakes read as the scene
its caption describes. Learning on reals only (not on fakes, as Odena et al.'s AC-GAN does) keeps
the generator and the head from agreeing on a code of their own.

Example:
    >>> import torch
    >>> head = CellAttributeHead("shape", code_channels=8)
    >>> scenes = [{"objects": [{"cell": 4, "shape_id": 2}]}, {"objects": []}]
    >>> head.targets(scenes)[0].tolist()
    [[0, 0, 0], [0, 3, 0], [0, 0, 0]]
    >>> head(torch.zeros(2, 8, 4, 4)).shape  # [B, values + 1, grid, grid]; class 0 is "empty"
    torch.Size([2, 9, 3, 3])
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .attribute_head import ATTRIBUTES, require_scene_attributes

__all__ = ["CellAttributeHead"]


class CellAttributeHead(nn.Module):
    """``[B, C, 4, 4]`` discriminator code -> ``[B, K + 1, grid, grid]`` logits of one attribute per cell.

    Args:
        attribute: ``shape``, ``colour``, ``size`` or ``texture``.
        code_channels: channels of the discriminator code (``8 * ndf``).
        grid: the board's side (3 for the built-in shapes world).
    """

    def __init__(self, attribute: str, code_channels: int, grid: int = 3) -> None:
        super().__init__()
        from t2izoo.data import SHAPES_VOCAB

        if attribute not in ATTRIBUTES:
            raise ValueError(f"attngan recipe: cell_attribute must be one of {sorted(ATTRIBUTES)}, got {attribute!r}")
        if grid < 1:
            raise ValueError(f"attngan recipe: cell_grid must be >= 1, got {grid}")
        self.attribute, self.grid = attribute, grid
        self.num_values = len(getattr(SHAPES_VOCAB, ATTRIBUTES[attribute]))
        self.classify = nn.Conv2d(code_channels, self.num_values + 1, 1)

    def forward(self, code: torch.Tensor) -> torch.Tensor:
        # the 4 x 4 code pooled to the board (overlapping windows for 3 x 3): each cell reads the
        # code positions that cover it; float32 so the cross-entropy is not computed in bf16
        return self.classify(F.adaptive_avg_pool2d(code.float(), self.grid))

    def targets(self, attributes: list[dict[str, Any]] | None) -> torch.Tensor:
        """``[B, grid, grid]`` class per cell: 0 empty, ``value_id + 1`` where an object sits."""
        scenes = require_scene_attributes(attributes, f"attngan recipe: cell_attribute={self.attribute}")
        out = torch.zeros(len(scenes), self.grid * self.grid, dtype=torch.long)
        key = f"{self.attribute}_id"
        for i, scene in enumerate(scenes):
            for obj in scene["objects"]:
                cell = int(obj["cell"])
                if not 0 <= cell < self.grid * self.grid:
                    raise ValueError(f"attngan recipe: object cell {cell} is outside the {self.grid} x {self.grid} "
                                     "board (set -O cell_grid to the data's board side)")
                out[i, cell] = int(obj[key]) + 1
        return out.view(-1, self.grid, self.grid)

    def loss(self, code: torch.Tensor, attributes: list[dict[str, Any]] | None) -> torch.Tensor:
        """Mean cross-entropy over the cells of ``code``'s images against ``attributes``."""
        return F.cross_entropy(self(code), self.targets(attributes).to(code.device))
