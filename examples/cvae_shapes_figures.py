"""Sample grid and caption-sensitivity figures of a trained ``shapes-cvae`` run (docs/cvae.md).

Usage:
    python examples/cvae_shapes_figures.py RUN_DIR OUT.png

Prints, for 4 prompts x 8 seeds, the mean absolute pixel difference between two prompts at the
same seed and between two seeds for the same prompt, and writes a prompts x seeds grid.
"""

from __future__ import annotations

import sys

import torch

import t2izoo
from t2izoo.data import caption_grid

PROMPTS = [
    "a large red circle on a white background",
    "a big blue square on a black background",
    "a large yellow star on a navy background",
    "a big green triangle on a beige background",
    "two shapes on a black background: a big pink diamond and a large cyan cross",
]


def main(run: str, out: str) -> None:
    pipe = t2izoo.build("shapes-cvae", pretrained=f"{run}/final")
    imgs = torch.stack([torch.cat([pipe([p], seed=s).tensors for s in range(8)]) for p in PROMPTS[:4]])
    n_p, n_s = imgs.shape[:2]
    across_prompts = (imgs[:, None] - imgs[None]).abs().mean(dim=(2, 3, 4, 5)).sum() / (n_p * (n_p - 1))
    across_seeds = (imgs[:, :, None] - imgs[:, None]).abs().mean(dim=(3, 4, 5)).sum() / (n_p * n_s * (n_s - 1))
    print(f"mean |x_p - x_q| same seed, different prompts: {float(across_prompts):.4f}")
    print(f"mean |x_s - x_t| same prompt, different seeds: {float(across_seeds):.4f}")
    items = []
    for p in PROMPTS:
        for seed in range(4):
            img = pipe([p], seed=seed).images[0].resize((96, 96), resample=0)
            items.append((img, p if seed == 0 else f"seed {seed}"))
    caption_grid(items, columns=4, cell=96, font_size=11, max_lines=4, padding=4).save(out, optimize=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
