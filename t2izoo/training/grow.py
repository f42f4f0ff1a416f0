"""Load a smaller model's weights into a grown one (a model given one more stage).

Growing a trained 64 px model into a 64/128 px one keeps every tensor the two share and leaves
the new stage as built. What must still fail is a tensor the smaller model holds that the grown
one lacks or holds in another shape: that is another architecture, not a smaller one.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn


class GrowError(ValueError):
    """``state`` is not a subset of the module's own tensors (names and shapes)."""


def load_grown_state(
    module: nn.Module, state: Mapping[str, torch.Tensor], *, source: str, target: str | None = None,
) -> list[str]:
    """Load ``state`` into ``module`` where ``module`` may hold more tensors than ``state``.

    Returns the names of the module's tensors that ``state`` lacks (they stay as built; buffers
    that fill themselves, like batch norm's ``num_batches_tracked``, are not counted). Raises
    `GrowError` before anything is loaded if ``state`` holds a tensor the module lacks or one of
    another shape; the message names ``source`` and ``target`` (default: the module's class).

    Example:
        >>> small, grown = nn.Sequential(nn.Linear(2, 2)), nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
        >>> load_grown_state(grown, small.state_dict(), source="small")
        ['1.bias', '1.weight']
    """
    own = module.state_dict()
    target = target or f"this {type(module).__name__}"
    extra = sorted(k for k in state if k not in own)
    if extra:
        raise GrowError(f"{source} holds {len(extra)} tensors {target} lacks, e.g. {extra[:3]}")
    wrong = [f"{k} {tuple(v.shape)} vs {tuple(own[k].shape)}" for k, v in state.items() if v.shape != own[k].shape]
    if wrong:
        raise GrowError(f"{source} has tensors of other shapes than {target}: {wrong[:3]}")
    return sorted(module.load_state_dict(state, strict=False).missing_keys)
