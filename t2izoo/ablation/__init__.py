"""Ablations: train and evaluate the cartesian product of config variations, over seeds.

* `parse_vary` / `parse_rows` / `expand_cells` (`t2izoo.ablation.spec`): what varies;
* `AblationSettings` / `run_ablation` (`t2izoo.ablation.runner`): train each cell through
  ``t2izoo train``'s code path, evaluate it with the evaluation runner, resumably;
* `write_report` (`t2izoo.ablation.report`): ``results.md``, ``results.csv``, ``results.png``.

Importing this package does not import torch.

Example:
    >>> from t2izoo.ablation import AblationSettings, expand_cells, parse_rows, run_ablation
    >>> cells = expand_cells(parse_rows("full=;no-refiner=refiner=null"), [])
    >>> [c.name for c in cells]
    ['full', 'no-refiner']
    >>> settings = AblationSettings(base="shapes-tiny", steps=100, metrics=["shapes-accuracy"])
    >>> run_ablation(settings, cells, "runs/ablate")        # doctest: +SKIP
"""

from __future__ import annotations

from .report import collect, mean_std, write_report
from .runner import AblationResult, AblationSettings, CellRun, cell_dir, run_ablation, run_cell
from .spec import Axis, Cell, expand_cells, parse_rows, parse_vary

__all__ = [
    "Axis", "Cell", "parse_vary", "parse_rows", "expand_cells",
    "AblationSettings", "AblationResult", "CellRun", "run_ablation", "run_cell", "cell_dir",
    "collect", "mean_std", "write_report",
]
