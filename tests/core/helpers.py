"""Helpers for tests that need a fresh interpreter (plugin discovery reads the environment)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_python(code: str, *, env: dict[str, str] | None = None, path: list[Path] | None = None,
               check: bool = True, cwd: Path | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    if path:
        full_env["PYTHONPATH"] = os.pathsep.join([*map(str, path), full_env.get("PYTHONPATH", "")])
    # cwd matters: `python -c` puts it first on sys.path, ahead of PYTHONPATH
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full_env,
                          timeout=300, cwd=cwd)
    if check and proc.returncode != 0:
        raise AssertionError(f"subprocess failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def write_fake_plugin(root: Path, dist: str, ep_name: str, module: str, source: str, version: str = "1.2.3") -> None:
    """Install a plugin the way pip would leave it: a module plus a .dist-info with entry points."""
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{module}.py").write_text(source)
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[t2izoo]\n{ep_name} = {module}\n")
