"""The per-cell attribute head of the 64 px discriminator (`-O cell_attribute=...`)."""

import pytest
import torch
from t2izoo_attngan.cell_head import CellAttributeHead

import t2izoo

from .test_recipes import TINY, a_batch


@pytest.fixture(scope="module")
def shapes():
    from t2izoo.data.shapes import ShapesDataset

    return ShapesDataset("train", size=8, resolutions=(64, 128))


def test_targets_put_each_object_in_its_cell(shapes):
    head = CellAttributeHead("shape", code_channels=4)
    scenes = [shapes[i].attributes for i in range(4)]
    targets = head.targets(scenes)
    for scene, t in zip(scenes, targets):
        expected = torch.zeros(9, dtype=torch.long)
        for obj in scene["objects"]:
            expected[obj["cell"]] = obj["shape_id"] + 1
        assert torch.equal(t.flatten(), expected)
        assert int((t > 0).sum()) == len(scene["objects"])  # one object per cell, the rest empty


def test_clear_errors():
    with pytest.raises(ValueError, match="cell_attribute must be one of"):
        CellAttributeHead("weight", code_channels=4)
    head = CellAttributeHead("colour", code_channels=4, grid=2)
    with pytest.raises(ValueError, match="needs data with scene attributes"):
        head.targets(None)
    with pytest.raises(ValueError, match="outside the 2 x 2 board"):
        head.targets([{"objects": [{"cell": 7, "colour_id": 0}]}])


def test_head_learns_real_cells(shapes):
    # the head on a fixed random code can fit the cell labels: the loss can fall, so it can fail
    torch.manual_seed(0)
    head = CellAttributeHead("shape", code_channels=16)
    scenes = [shapes[i].attributes for i in range(8)]
    code = torch.randn(8, 16, 4, 4)
    opt = torch.optim.Adam(head.parameters(), lr=0.05)
    first = float(head.loss(code, scenes).detach())
    for _ in range(100):
        opt.zero_grad()
        head.loss(code, scenes).backward()
        opt.step()
    assert float(head.loss(code, scenes).detach()) < 0.3 * first


def test_recipe_trains_the_head_on_reals_and_the_generator_on_fakes(shapes):
    from t2izoo.training import make_recipe

    logs = {}
    for weight in (0.0, 1000.0):  # large, so the term stands out of float32 rounding of loss/g
        torch.manual_seed(0)
        pipe = t2izoo.build("shapes-attngan", dict(TINY))
        recipe = make_recipe(pipe, ndf=4, lam=0, cell_attribute="shape", cell_weight=weight)
        head = recipe.discriminators.cell_head
        assert head is not None and head.classify.in_channels == 32
        assert "cell_head.classify.weight" in recipe.discriminators.state_dict()  # checkpointed with D
        before = head.classify.weight.detach().clone()
        recipe.train(True)
        torch.manual_seed(5)
        logs[weight] = recipe.training_step(a_batch(pipe, shapes), 0)
        assert not torch.equal(head.classify.weight, before)  # D's optimizer trains the head
    a, b = logs[0.0], logs[1000.0]
    assert a["loss/cell_real"] > 0 and a["loss/cell_fake"] > 0
    assert a["loss/d"] == pytest.approx(b["loss/d"])  # D's step does not depend on the G weight
    assert b["loss/g"] - a["loss/g"] == pytest.approx(1000.0 * b["loss/cell_fake"], rel=1e-3)

    torch.manual_seed(0)
    plain = make_recipe(t2izoo.build("shapes-attngan", dict(TINY)), ndf=4, lam=0)
    assert plain.discriminators.cell_head is None
