"""Training checkpoints: written atomically, pruned to the last K, found again on ``--resume``.

Layout of one checkpoint (``RUN/checkpoints/step-00000100/``)::

    modules/<name>.pt      state_dict of each recipe module (encoder, generator, discriminator...)
    optimizers.pt          {name: optimizer state_dict}
    schedulers.pt          {name: scheduler state_dict}            (when the recipe has any)
    scaler.pt              fp16 GradScaler state                   (fp16 only)
    recipe.pt              Recipe.state_dict()
    rng/rank-<r>.pt        python, numpy, torch (CPU) and CUDA RNG states of process r
    trainer.json           step, data position, world size... written last

Every file is written into ``.step-00000100.tmp`` and the directory is renamed into place only
when complete, so a crash during a save leaves the previous checkpoints untouched; a directory
without ``trainer.json`` is never picked up by `latest_checkpoint`.

Example:
    >>> from t2izoo.training import latest_checkpoint
    >>> latest_checkpoint("runs/shapes-tiny")             # doctest: +SKIP
    PosixPath('runs/shapes-tiny/checkpoints/step-00000200')
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from t2izoo._fs import replace_directory

__all__ = [
    "CHECKPOINT_DIR",
    "checkpoint_name",
    "find_checkpoints",
    "latest_checkpoint",
    "capture_rng",
    "restore_rng",
    "write_checkpoint_files",
    "commit_checkpoint",
    "prune_checkpoints",
    "read_trainer_state",
]

CHECKPOINT_DIR = "checkpoints"
TRAINER_STATE = "trainer.json"
_NAME = re.compile(r"^step-(\d+)$")


def checkpoint_name(step: int) -> str:
    return f"step-{step:08d}"


def find_checkpoints(run_dir: str | Path) -> list[Path]:
    """Complete checkpoints of a run, oldest first (temp dirs and incomplete ones skipped)."""
    root = Path(run_dir) / CHECKPOINT_DIR
    if not root.is_dir():
        return []
    found = []
    for child in root.iterdir():
        match = _NAME.match(child.name)
        if match and child.is_dir() and (child / TRAINER_STATE).is_file():
            found.append((int(match.group(1)), child))
    return [p for _, p in sorted(found)]


def latest_checkpoint(run_dir: str | Path) -> Path | None:
    """The newest complete checkpoint of a run, or ``None``."""
    found = find_checkpoints(run_dir)
    return found[-1] if found else None


def read_trainer_state(checkpoint: str | Path) -> dict[str, Any]:
    path = Path(checkpoint) / TRAINER_STATE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f"checkpoint {checkpoint}: cannot read {TRAINER_STATE}: {err}") from err


# -- RNG -----------------------------------------------------------------------------------------
def capture_rng() -> dict[str, Any]:
    """Every global RNG state of this process (python, numpy, torch CPU, all CUDA devices)."""
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    """Restore what `capture_rng` returned."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


# -- writing ---------------------------------------------------------------------------------------
def temp_dir_for(final: Path) -> Path:
    return final.with_name(f".{final.name}.tmp")


def write_checkpoint_files(tmp: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` (see module doc) into ``tmp``; ``trainer.json`` last.

    ``payload`` keys: ``modules`` {name: state_dict}, ``optimizers``, ``schedulers``, ``scaler``,
    ``recipe``, ``trainer`` (a JSON-able dict). Missing keys are skipped.
    """
    (tmp / "modules").mkdir(parents=True, exist_ok=True)
    for name, state in payload.get("modules", {}).items():
        _save(state, tmp / "modules" / f"{name}.pt")
    for key in ("optimizers", "schedulers", "scaler", "recipe"):
        if payload.get(key):
            _save(payload[key], tmp / f"{key}.pt")
    text = json.dumps(payload.get("trainer", {}), indent=2)
    with open(tmp / TRAINER_STATE, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def write_rng(tmp: Path, rank: int) -> None:
    (tmp / "rng").mkdir(parents=True, exist_ok=True)
    _save(capture_rng(), tmp / "rng" / f"rank-{rank}.pt")


def _save(obj: Any, path: Path) -> None:
    # write then rename so that even a single file is never seen half-written
    part = path.with_name(path.name + ".part")
    torch.save(obj, part)
    os.replace(part, path)


def commit_checkpoint(tmp: Path, final: Path) -> Path:
    """Move a fully written ``tmp`` into place as ``final`` (replacing an older one of that name)."""
    return replace_directory(tmp, final)


def prune_checkpoints(run_dir: str | Path, keep_last: int) -> list[Path]:
    """Delete all but the newest ``keep_last`` complete checkpoints (and stale temp dirs)."""
    removed = []
    found = find_checkpoints(run_dir)
    if keep_last > 0:
        for path in found[:-keep_last]:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def load_file(checkpoint: Path, relative: str, map_location: Any = "cpu") -> Any:
    path = checkpoint / relative
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {checkpoint} has no {relative}")
    # weights_only=False: optimizer and RNG states hold python objects (our own files only)
    return torch.load(path, map_location=map_location, weights_only=False)
