"""Parsing of --vary / --rows and the cartesian product of cells."""

from __future__ import annotations

import pytest

from t2izoo.ablation import expand_cells, parse_rows, parse_vary
from t2izoo.cli.cmd_ablate import parse_seeds


def test_product_of_two_axes_in_row_major_order():
    axes = parse_vary(["encoder=lstm,clip,lstm+clip", "refiner=none,diffusion-sr"])
    cells = expand_cells(None, axes)
    assert len(cells) == 6
    assert [c.name for c in cells[:2]] == ["encoder=lstm/refiner=none", "encoder=lstm/refiner=diffusion-sr"]
    assert cells[-1].overrides == ["encoder=lstm+clip", "refiner=diffusion-sr"]
    assert cells[-1].point == {"encoder": "lstm+clip", "refiner": "diffusion-sr"}
    assert len({c.slug for c in cells}) == 6 and all("/" not in c.slug for c in cells)


def test_rows_with_presets_options_and_axes():
    rows = parse_rows("cd-attngan=;no-clip=encoder=lstm,generator.fusion=concat-attention;"
                      "attngan=@shapes-attngan,option.lr=1e-4")
    assert [r.name for r in rows] == ["cd-attngan", "no-clip", "attngan"]
    assert rows[0].overrides == [] and rows[0].base is None
    assert rows[1].overrides == ["encoder=lstm", "generator.fusion=concat-attention"]
    assert rows[2].base == "shapes-attngan" and rows[2].options == ["lr=1e-4"] and rows[2].overrides == []
    cells = expand_cells(rows, parse_vary(["option.ndf=8,16"]))
    assert [c.name for c in cells][:2] == ["cd-attngan/option.ndf=8", "cd-attngan/option.ndf=16"]
    assert cells[5].options == ["lr=1e-4", "ndf=16"] and cells[5].base == "shapes-attngan"


def test_no_rows_no_axes_is_the_base_alone():
    (cell,) = expand_cells(None, [])
    assert cell.name == "base" and cell.overrides == [] and cell.slug == "base"


def test_brackets_keep_list_values_together():
    (axis,) = parse_vary(["generator.sizes=[1,2],[3,4]"])
    assert axis.values == ("[1,2]", "[3,4]")


@pytest.mark.parametrize("bad, match", [
    (["encoder"], "KEY=V1,V2"),
    (["encoder="], "no values"),
    (["encoder=a,a"], "repeats"),
    (["encoder=a", "encoder=b"], "twice"),
])
def test_bad_vary(bad, match):
    with pytest.raises(ValueError, match=match):
        parse_vary(bad)


@pytest.mark.parametrize("bad, match", [
    ("noequals", "NAME="),
    ("a=;a=refiner=null", "used twice"),
    ("a=refiner", "key=value"),
    ("a=@", "preset name"),
    ("a/b=", "may not contain"),
])
def test_bad_rows(bad, match):
    with pytest.raises(ValueError, match=match):
        parse_rows(bad)


def test_seeds():
    assert parse_seeds("3") == [0, 1, 2]
    assert parse_seeds("7,1") == [7, 1]
    for bad in ("0", "x", "1,1"):
        with pytest.raises(ValueError, match="--seeds"):
            parse_seeds(bad)
