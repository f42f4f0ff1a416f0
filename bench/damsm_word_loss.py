"""DAMSM word loss, forward + backward: the batched form against the per-caption loop, interleaved.

Example:
    $ python bench/damsm_word_loss.py            # the three sizes of docs/performance.md
    $ python bench/damsm_word_loss.py --rounds 9
"""

from __future__ import annotations

import argparse

import torch

from t2izoo.benchmark import interleaved
from t2izoo.nn import words_loss, words_loss_batched

# (batch, width, region side, words): the bird config first
SIZES = ((16, 256, 17, 18), (8, 128, 17, 18), (16, 32, 8, 12))


def measure(batch: int, width: int, side: int, length: int, rounds: int) -> dict[str, float]:
    """Seconds per forward+backward of each form and the batched speed-up (median of rounds)."""
    g = torch.Generator().manual_seed(1)
    regions = torch.randn(batch, width, side, side, generator=g, requires_grad=True)
    words = torch.randn(batch, length, width, generator=g, requires_grad=True)
    lengths = torch.randint(3, length + 1, (batch,), generator=g)

    def step(fn):
        def run() -> None:
            l0, l1, _ = fn(regions, words, lengths)
            (l0 + l1).backward()
        return run

    res = interleaved({"loop": step(words_loss), "batched": step(words_loss_batched)}, rounds=rounds, warmup=1)
    return {"loop_s": min(res["loop"]["seconds"]), "batched_s": min(res["batched"]["seconds"]),
            "speedup": res["batched"]["ratio_to_baseline"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    print("| batch, width, regions, words | loop s | batched s | speed-up |\n|---|---|---|---|")
    for b, w, s, n in SIZES:
        r = measure(b, w, s, n, args.rounds)
        print(f"| {b}, {w}, {s}x{s}, {n} | {r['loop_s']:.2f} | {r['batched_s']:.2f} | x{r['speedup']:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
