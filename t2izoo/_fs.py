"""File-system helpers shared by save_pretrained and training checkpoints."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def replace_directory(tmp: Path, final: Path) -> Path:
    """Move a fully written ``tmp`` directory into place as ``final``.

    Renames only, so a crash leaves either the old or the new directory, never a mix: an
    existing ``final`` is renamed aside first and removed only after the new one is in place.
    """
    if final.exists():
        old = final.with_name(f".{final.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, final)
    return final
