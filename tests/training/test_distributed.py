"""Two CPU processes (gloo) under torchrun: training finishes, saves, and the ranks stay in sync."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

HERE = Path(__file__).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_process_training_on_cpu(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONPATH": str(HERE)}
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
        "--master_addr", "127.0.0.1", "--master_port", str(_free_port()),
        str(HERE / "ddp_worker.py"), str(tmp_path),
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    r0 = torch.load(tmp_path / "rank-0.pt", weights_only=False)
    r1 = torch.load(tmp_path / "rank-1.pt", weights_only=False)
    assert r0["world"] == r1["world"] == 2
    # DDP averaged the gradients: both processes hold the same weights although each trained
    # on its own half of every batch. (BatchNorm running statistics are not compared: DDP
    # broadcasts rank 0's at the start of each forward, so after the last one they differ.)
    assert r0["state"].keys() == r1["state"].keys()
    params = [k for k in r0["state"] if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))]
    assert len(params) > 10
    for key in params:
        assert torch.equal(r0["state"][key], r1["state"][key]), key
    # 2 steps x batch 2 x 2 processes = 8 of 24 samples: global batch 2 of 6 next
    assert r0["position"] == r1["position"] == {"epoch": 0, "batch": 2}

    ckpt = tmp_path / "checkpoints" / "step-00000002"
    assert (ckpt / "rng" / "rank-0.pt").is_file() and (ckpt / "rng" / "rank-1.pt").is_file()
    saved = torch.load(ckpt / "modules" / "generator.pt", weights_only=False)
    for key, value in saved.items():
        assert torch.equal(value, r0["state"][f"generator.{key}"]), key
    assert (tmp_path / "final" / "generator" / "model.safetensors").is_file()
