"""Run an ablation: for every cell and seed, resolve the config, train, evaluate, record.

Each (cell, seed) is a run directory ``OUT/cells/<cell>/seed-<s>/`` holding:

* ``cell.json``: the cell (row, axis point, overrides, recipe options, base);
* ``config.json``: the cell's resolved `PipelineConfig` (written before training);
* ``train-command.txt``: the exact ``t2izoo train`` command used; everything ``t2izoo train``
  writes (``checkpoints/``, ``samples/``, ``logs/``, ``run.json``, ``final/``);
* ``train.json``: steps and seconds, once training reached ``steps``;
* ``metrics.json``: the evaluation, once the cell is finished; ``error.json`` when it failed.

Training goes through ``t2izoo train``'s own code path (its argument parser and ``run``), so a
cell is exactly the run its ``train-command.txt`` would make. Resumable: a cell with
``metrics.json`` is skipped; a cell whose training was interrupted resumes from its newest
checkpoint (``--save-every`` sets how often there is one); a failed cell is retried next time.

Example:
    >>> from t2izoo.ablation import AblationSettings, expand_cells, parse_vary, run_ablation
    >>> settings = AblationSettings(base="shapes-tiny", steps=200, metrics=["shapes-accuracy"], n=200)
    >>> cells = expand_cells(None, parse_vary(["refiner=none,interpolate"]))
    >>> run_ablation(settings, cells, "runs/ablate-refiner")             # doctest: +SKIP
"""

from __future__ import annotations

import json
import shlex
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .spec import Cell

__all__ = ["AblationSettings", "CellRun", "AblationResult", "run_ablation", "cell_dir", "train_argv"]

PLAN_FILE = "ablation.json"
# settings that change a cell's numbers: a rerun into the same OUT must keep them
_PLAN_KEYS = ("base", "overrides", "data", "data_size", "steps", "batch_size", "recipe", "options", "lr", "train_args",
              "metrics", "metric_options", "n", "eval_batch_size", "split")


class AblationSettings(BaseModel):
    """How every cell is trained and evaluated (the cells themselves come from `expand_cells`)."""

    model_config = ConfigDict(extra="forbid")

    base: str = Field(description="preset, config file or model directory every cell starts from")
    overrides: list[str] = Field(default_factory=list, description="KEY=VALUE config overrides of every cell "
                                 "(applied before the cell's own)")
    data: str = Field("shapes", description="data set (training and evaluation)")
    data_size: int | None = Field(None, ge=1, description="items of a procedural training set")
    steps: int = Field(ge=1, description="optimizer steps per cell")
    batch_size: int = Field(16, ge=1)
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    recipe: str | None = Field(None, description="recipe name (default: the generator's own)")
    options: list[str] = Field(default_factory=list, description="recipe options KEY=VALUE for every cell")
    lr: float | None = None
    save_every: int = Field(0, ge=0, description="checkpoint every K steps (resume granularity)")
    train_args: list[str] = Field(default_factory=list, description="extra `t2izoo train` arguments")
    metrics: list[str] = Field(min_length=1)
    metric_options: dict[str, dict[str, Any]] = Field(default_factory=dict)
    n: int = Field(200, ge=1, description="images generated per evaluation")
    eval_batch_size: int = Field(50, ge=1)
    split: str = "test"
    cpu: bool = False
    progress: bool = True

    def plan(self) -> dict[str, Any]:
        """The settings that must not change between runs into one output directory."""
        return {k: v for k, v in self.model_dump(mode="json").items() if k in _PLAN_KEYS}


@dataclass
class CellRun:
    """What happened to one (cell, seed) in this invocation."""

    cell: Cell
    seed: int
    directory: Path
    status: str  # "done" (ran now), "cached" (metrics.json was there), "failed"
    seconds: float = 0.0
    error: str | None = None
    results: dict[str, Any] = field(default_factory=dict)


@dataclass
class AblationResult:
    """What `run_ablation` did, and the summary files it wrote."""

    out: Path
    runs: list[CellRun]
    files: dict[str, Path]

    @property
    def failed(self) -> list[CellRun]:
        return [r for r in self.runs if r.status == "failed"]


def cell_dir(out: str | Path, cell: Cell, seed: int) -> Path:
    """``OUT/cells/<cell slug>/seed-<seed>``."""
    return Path(out) / "cells" / cell.slug / f"seed-{seed}"


def train_argv(settings: AblationSettings, cell: Cell, seed: int, run_dir: Path, *, resume: bool) -> list[str]:
    """The ``t2izoo train`` arguments of one cell (``config.json`` in ``run_dir`` is its config)."""
    argv = ["train", str(run_dir / "config.json"), "--data", settings.data, "--steps", str(settings.steps),
            "--out", str(run_dir), "--batch-size", str(settings.batch_size), "--seed", str(seed),
            "--save-every", str(settings.save_every)]
    if settings.data_size is not None:
        argv += ["--data-size", str(settings.data_size)]
    if settings.recipe:
        argv += ["--recipe", settings.recipe]
    if settings.lr is not None:
        argv += ["--lr", repr(settings.lr)]
    for option in [*settings.options, *cell.options]:  # the cell's own options come last and win
        argv += ["-O", option]
    if settings.cpu:
        argv.append("--cpu")
    if not settings.progress:
        argv.append("--no-progress")
    if resume:
        argv.append("--resume")
    return argv + list(settings.train_args)


def _resolve_config(settings: AblationSettings, cell: Cell) -> Any:
    from t2izoo._build import build_config
    from t2izoo._config import parse_cli_overrides

    # a row with its own preset (@name) starts from that preset: the shared overrides are for the base
    shared = [] if cell.base else settings.overrides
    return build_config(cell.base or settings.base, parse_cli_overrides([*shared, *cell.overrides]))


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)  # a reader never sees half a file, and metrics.json means "finished"


def train_cell(settings: AblationSettings, cell: Cell, seed: int, run_dir: Path) -> dict[str, Any]:
    """Train one cell through ``t2izoo train``'s parser and ``run``; returns what ``train.json`` records."""
    import argparse

    from t2izoo.cli import cmd_train
    from t2izoo.training import latest_checkpoint

    resume = latest_checkpoint(run_dir) is not None
    argv = train_argv(settings, cell, seed, run_dir, resume=resume)
    (run_dir / "train-command.txt").write_text(shlex.join(["t2izoo", *argv]) + "\n", encoding="utf-8")
    parser = argparse.ArgumentParser(prog="t2izoo")
    cmd_train.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    code = cmd_train.run(args)
    if code:
        raise RuntimeError(f"t2izoo train exited with {code}: {shlex.join(argv)}")
    return {"steps": settings.steps, "seconds": round(time.perf_counter() - t0, 2), "resumed": resume,
            "command": shlex.join(["t2izoo", *argv])}


def evaluate_cell(settings: AblationSettings, cell: Cell, seed: int, run_dir: Path) -> dict[str, Any]:
    """Evaluate the cell's ``final/`` model with the evaluation runner; returns its report."""
    from t2izoo.evaluation.runner import evaluate

    return evaluate(
        run_dir / "final", data=settings.data, split=settings.split, n=settings.n, metrics=settings.metrics,
        metric_options=settings.metric_options, batch_size=settings.eval_batch_size, seed=seed,
        device="cpu" if settings.cpu else None, progress=settings.progress,
    )


def _trained(settings: AblationSettings, run_dir: Path) -> bool:
    record = run_dir / "train.json"
    if not record.is_file() or not (run_dir / "final" / "pipeline.json").is_file():
        return False
    return json.loads(record.read_text(encoding="utf-8")).get("steps") == settings.steps


def run_cell(settings: AblationSettings, cell: Cell, seed: int, out: str | Path) -> CellRun:
    """Resolve, train and evaluate one (cell, seed); failures are recorded in ``error.json``."""
    run_dir = cell_dir(out, cell, seed)
    done_file = run_dir / "metrics.json"
    if done_file.is_file():
        record = json.loads(done_file.read_text(encoding="utf-8"))
        return CellRun(cell, seed, run_dir, "cached", results=record.get("results", {}))
    run_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    stage = "config"
    try:
        config = _resolve_config(settings, cell)
        text = config.to_json()
        config_file = run_dir / "config.json"
        if config_file.is_file() and (run_dir / "cell.json").is_file():
            from t2izoo import PipelineConfig

            if PipelineConfig.from_file(config_file).to_json() != text:
                raise ValueError(
                    f"{config_file} holds another configuration than cell {cell.name!r} now resolves to "
                    "(did the base preset or the overrides change?); use a new --out or delete the directory")
        _write_json(run_dir / "cell.json", {**cell.to_dict(), "seed": seed})
        config_file.write_text(text, encoding="utf-8")
        stage = "train"
        if _trained(settings, run_dir):
            train = json.loads((run_dir / "train.json").read_text(encoding="utf-8"))
        else:
            train = train_cell(settings, cell, seed, run_dir)
            _write_json(run_dir / "train.json", train)
        stage = "evaluate"
        report = evaluate_cell(settings, cell, seed, run_dir)
    except Exception as err:  # one cell's failure must not lose the others
        error = f"{type(err).__name__}: {err}"
        _write_json(run_dir / "error.json", {"stage": stage, "error": error, "traceback": traceback.format_exc(),
                                             "cell": cell.name, "seed": seed})
        return CellRun(cell, seed, run_dir, "failed", time.perf_counter() - t0, error=f"{stage}: {error}")
    record = {"cell": cell.to_dict(), "seed": seed, "status": "ok", "plan": settings.plan(),
              "results": report["results"], "train": train,
              "evaluation": {k: report.get(k) for k in ("model", "data", "split", "n", "seed", "resolution",
                                                        "device", "seconds")}}
    _write_json(done_file, record)
    (run_dir / "error.json").unlink(missing_ok=True)
    return CellRun(cell, seed, run_dir, "done", time.perf_counter() - t0, results=record["results"])


def _check_plan(settings: AblationSettings, cells: Sequence[Cell], out: Path) -> None:
    plan_file = out / PLAN_FILE
    plan = settings.plan()
    if plan_file.is_file():
        old = json.loads(plan_file.read_text(encoding="utf-8")).get("plan", {})
        changed = {k: (old.get(k), plan[k]) for k in plan if old.get(k) != plan[k]}
        if changed:
            detail = "; ".join(f"{k}: {a!r} -> {b!r}" for k, (a, b) in changed.items())
            raise ValueError(f"{out} holds an ablation made with other settings ({detail}); "
                             "use a new --out, or the same settings to resume it")
    out.mkdir(parents=True, exist_ok=True)
    _write_json(plan_file, {"plan": plan, "seeds": settings.seeds, "cells": [c.to_dict() for c in cells],
                            "command": shlex.join(sys.argv)})


def run_ablation(settings: AblationSettings, cells: Sequence[Cell], out: str | Path) -> AblationResult:
    """Run every (cell, seed) not finished yet, then write ``results.md``, ``results.csv`` and ``results.png``.

    Raises:
        ValueError: ``out`` holds an ablation made with different settings (steps, metrics, ...).
    """
    from tqdm.auto import tqdm

    from .report import write_report

    out = Path(out)
    if not cells:
        raise ValueError("an ablation needs at least one cell")
    _check_plan(settings, cells, out)
    jobs = [(cell, seed) for cell in cells for seed in settings.seeds]
    runs: list[CellRun] = []
    bar = tqdm(total=len(jobs), desc="ablate", unit="cell", position=0, disable=not settings.progress)
    for i, (cell, seed) in enumerate(jobs, 1):
        bar.set_postfix_str(f"{cell.name} seed {seed}")
        run = run_cell(settings, cell, seed, out)
        runs.append(run)
        bar.update(1)
        line = f"[{i}/{len(jobs)}] {cell.name} seed {seed}: {run.status}"
        if run.status == "done":
            line += f" ({run.seconds:.0f}s) " + " ".join(f"{k}={v['value']:.4g}" for k, v in run.results.items())
        elif run.error:
            line += f" -- {run.error} (see {run.directory / 'error.json'})"
        tqdm.write(line, file=sys.stderr)
    bar.close()
    files = write_report(out, settings, cells)
    return AblationResult(out, runs, files)
