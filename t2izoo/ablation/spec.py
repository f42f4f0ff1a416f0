"""What an ablation varies: rows (named variants), ``--vary`` axes, and their cartesian product.

A *cell* is one point of the product: a base preset (the ablation's, or a row's own ``@preset``),
a list of ``key=value`` config overrides and a list of recipe options. This module only parses
and expands; it never imports torch.

Syntax (as the CLI takes it):

* ``--vary encoder=lstm,clip,lstm+clip``: one axis, key ``encoder``, three values (``none`` /
  ``null`` remove an optional slot). A key ``option.K`` varies the recipe option ``K`` instead
  of the pipeline config.
* ``--rows "full=;no-clip=encoder=lstm;no-sr=refiner=null;attngan=@shapes-attngan"``: named rows
  separated by ``;``; each is ``NAME=`` followed by comma-separated ``key=value`` overrides and
  optionally ``@PRESET`` (the row starts from that preset instead of the base).

Example:
    >>> from t2izoo.ablation.spec import expand_cells, parse_rows, parse_vary
    >>> rows = parse_rows("full=;no-sr=refiner=null")
    >>> axes = parse_vary(["generator.ngf=8,16"])
    >>> [c.name for c in expand_cells(rows, axes)]
    ['full/generator.ngf=8', 'full/generator.ngf=16', 'no-sr/generator.ngf=8', 'no-sr/generator.ngf=16']
    >>> expand_cells(rows, axes)[3].overrides
    ['refiner=null', 'generator.ngf=16']
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Axis", "Cell", "OPTION_PREFIX", "parse_vary", "parse_rows", "expand_cells", "split_top_level"]

OPTION_PREFIX = "option."  # ``option.lr=1e-4``: a recipe option (``-O lr=1e-4``), not a config field


@dataclass(frozen=True)
class Axis:
    """One ``--vary`` axis: a key and the values it takes (as typed, e.g. ``"none"``)."""

    key: str
    values: tuple[str, ...]


@dataclass
class Cell:
    """One configuration of the ablation.

    Attributes:
        name: unique label, ``row/key=value/...`` (a lone row or axis point is just its part).
        base: preset, config file or model directory this cell starts from (None: the ablation's).
        overrides: ``key=value`` strings applied to the base config, in order.
        options: ``key=value`` recipe options (``-O``), in order.
        row: the row's name, or None without rows.
        point: the axis values of this cell, ``{key: value}``.
    """

    name: str
    base: str | None = None
    overrides: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)
    row: str | None = None
    point: dict[str, str] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        """A directory name for this cell (``/`` -> ``__``, ``=`` -> ``-``, other odd characters -> ``_``)."""
        text = self.name.replace("/", "__").replace("=", "-")
        return re.sub(r"[^A-Za-z0-9._+,-]", "_", text) or "base"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "base": self.base, "overrides": list(self.overrides),
                "options": list(self.options), "row": self.row, "point": dict(self.point)}


def split_top_level(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside ``[...]``/``{...}`` (so ``a=[1,2],b=3`` is two items).

    Example:
        >>> split_top_level("a=[1,2],b=3", ",")
        ['a=[1,2]', 'b=3']
    """
    parts, depth, current = [], 0, []
    for ch in text:
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth = max(depth - 1, 0)
        if ch == sep and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _check_assignment(item: str, where: str) -> str:
    key, sep, _ = item.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"{where}: {item!r} is not of the form key=value (e.g. refiner=null)")
    if key.strip() == OPTION_PREFIX.rstrip(".") or key.strip().endswith("."):
        raise ValueError(f"{where}: {item!r} has an incomplete key")
    return f"{key.strip()}={item.partition('=')[2].strip()}"


def parse_vary(items: Sequence[str]) -> list[Axis]:
    """``["encoder=lstm,clip", "refiner=none,diffusion-sr"]`` -> two `Axis`.

    Raises:
        ValueError: an item without ``=`` or values, a repeated key or a repeated value.
    """
    axes: list[Axis] = []
    for item in items:
        key, sep, rest = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"--vary {item!r} must be KEY=V1,V2,... (e.g. encoder=lstm,clip)")
        values = tuple(v.strip() for v in split_top_level(rest, ",") if v.strip())
        if not values:
            raise ValueError(f"--vary {item!r} gives no values")
        if len(set(values)) != len(values):
            raise ValueError(f"--vary {item!r} repeats a value")
        if any(a.key == key for a in axes):
            raise ValueError(f"--vary key {key!r} is given twice; list all its values in one --vary")
        axes.append(Axis(key, values))
    return axes


def parse_rows(specs: str | Sequence[str]) -> list[Cell]:
    """``"full=;no-clip=encoder=lstm,generator.ngf=8;attngan=@shapes-attngan"`` -> row cells.

    ``specs`` may be one string with ``;`` between rows or a list of such strings.
    """
    texts = [specs] if isinstance(specs, str) else list(specs)
    rows: list[Cell] = []
    for text in texts:
        for raw in split_top_level(text, ";"):
            raw = raw.strip()
            if not raw:
                continue
            name, sep, rest = raw.partition("=")
            name = name.strip()
            if not sep or not name:
                raise ValueError(f"--rows item {raw!r} must be NAME=[@PRESET][,key=value...] (e.g. no-clip=encoder=lstm)")
            if "/" in name:
                raise ValueError(f"--rows name {name!r} may not contain '/'")
            if any(r.name == name for r in rows):
                raise ValueError(f"--rows name {name!r} is used twice")
            row = Cell(name=name, row=name)
            for part in split_top_level(rest, ","):
                part = part.strip()
                if not part:
                    continue
                if part.startswith("@"):
                    if row.base is not None:
                        raise ValueError(f"--rows {name!r} names two presets ({row.base!r}, {part[1:]!r})")
                    row.base = part[1:].strip()
                    if not row.base:
                        raise ValueError(f"--rows {name!r}: '@' must be followed by a preset name")
                    continue
                item = _check_assignment(part, f"--rows {name!r}")
                target = row.options if item.startswith(OPTION_PREFIX) else row.overrides
                target.append(item.removeprefix(OPTION_PREFIX))
            rows.append(row)
    return rows


def expand_cells(rows: Sequence[Cell] | None, axes: Sequence[Axis]) -> list[Cell]:
    """The cartesian product rows x axis_1 x ... x axis_k, in that (row-major) order.

    Without rows there is one implicit row (the base, no overrides). Without axes the rows are
    the cells. With neither, the single cell ``base``.
    """
    rows = list(rows) if rows else [Cell(name="", row=None)]
    cells: list[Cell] = []
    points = list(itertools.product(*[[(a.key, v) for v in a.values] for a in axes])) if axes else [()]
    for row in rows:
        for point in points:
            overrides, options = list(row.overrides), list(row.options)
            for key, value in point:
                item = _check_assignment(f"{key}={value}", "--vary")
                if key.startswith(OPTION_PREFIX):
                    options.append(item.removeprefix(OPTION_PREFIX))
                else:
                    overrides.append(item)
            parts = [row.name] if row.name else []
            parts += [f"{k}={v}" for k, v in point]
            cells.append(Cell(name="/".join(parts) or "base", base=row.base, overrides=overrides,
                              options=options, row=row.row, point=dict(point)))
    slugs = [c.slug for c in cells]
    if len(set(slugs)) != len(slugs):
        dup = sorted({s for s in slugs if slugs.count(s) > 1})
        raise ValueError(f"cells map to the same directory name: {dup}; rename the rows or values")
    return cells
