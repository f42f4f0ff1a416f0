"""Run by test_distributed.py under torchrun: train 2 steps, then dump this process's weights."""

from __future__ import annotations

import sys
from pathlib import Path

import torch

import t2izoo
from t2izoo.data.shapes import ShapesDataset
from t2izoo.training import TrainConfig, Trainer, make_recipe

OVERRIDES = {
    "generator.image_size": 32, "generator.ngf": 8, "generator.z_dim": 8,
    "generator.fusion.text_channels": 8, "encoder.buckets": 256, "encoder.dim": 16,
    "generator.text_dim": 16, "refiner.image_size": 32,
}


def main(out: str) -> None:
    torch.manual_seed(0)
    pipe = t2izoo.build("shapes-tiny", dict(OVERRIDES))
    recipe = make_recipe(pipe, lr=1e-3)
    data = ShapesDataset("train", size=24, resolutions=(16, 32))
    cfg = TrainConfig(out=out, steps=2, batch_size=2, cpu=True, progress=False, save_every=1)
    trainer = Trainer(pipe, recipe, data, cfg)
    trainer.fit()
    rank = trainer.accelerator.process_index
    state = {f"{n}.{k}": v for n, m in recipe.modules().items() for k, v in m.state_dict().items()}
    torch.save({"state": state, "world": trainer.accelerator.num_processes,
                "position": trainer.stream.position}, Path(out) / f"rank-{rank}.pt")


if __name__ == "__main__":
    main(sys.argv[1])
