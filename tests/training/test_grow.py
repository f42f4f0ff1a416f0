"""`load_grown_state`: a smaller model's tensors into a model grown by a stage."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from t2izoo.training import GrowError, load_grown_state


def _small() -> nn.Module:
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))


def _grown() -> nn.Module:
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2), nn.BatchNorm1d(2))


def test_shared_tensors_load_and_the_new_stage_stays_as_built():
    torch.manual_seed(0)
    small, grown = _small(), _grown()
    with torch.no_grad():
        small[1].running_mean.fill_(0.5)
    built = {k: v.clone() for k, v in grown.state_dict().items()}
    fresh = load_grown_state(grown, small.state_dict(), source="small.pt")
    # the new batch norm's num_batches_tracked fills itself: not listed as fresh
    assert fresh == ["2.bias", "2.weight", "3.bias", "3.running_mean", "3.running_var", "3.weight"]
    for key, value in grown.state_dict().items():
        assert torch.equal(value, built[key] if key.startswith(("2.", "3.")) else small.state_dict()[key]), key


def test_extra_or_mis_shaped_tensors_fail_before_anything_is_loaded():
    grown = _grown()
    with pytest.raises(GrowError, match=r"big\.pt holds 7 tensors this Sequential lacks, e\.g\. \['2\.bias', '2\.weight', '3\.bias'\]"):
        load_grown_state(_small(), grown.state_dict(), source="big.pt")
    wide = nn.Sequential(nn.Linear(3, 5))
    target = _grown()
    kept = {k: v.clone() for k, v in target.state_dict().items()}
    with pytest.raises(GrowError, match=r"wide\.pt has tensors of other shapes than the generator: \['0\.weight \(5, 3\) vs \(4, 3\)'"):
        load_grown_state(target, wide.state_dict(), source="wide.pt", target="the generator")
    assert all(torch.equal(v, kept[k]) for k, v in target.state_dict().items())  # nothing half-loaded
