"""Train a small ``diffusion-sr`` refiner on shapes, then compare it with bicubic upsampling.

CD-AttnGAN's stage 2 at a size a shared CPU can afford: real shapes images at ``--hr`` px are the
targets, their antialiased bicubic downsampling (the paper's simulated ``I_low``) the inputs,
the captions are encoded by a frozen text encoder (default: the ``shapes-cd-attngan`` one), and
the refiner learns eq. 7 under a CPU-time budget. The evaluation runs on the ``test`` split:
SSIM and PSNR (the ``ssim``/``psnr`` evaluators) of bicubic upsampling and of the refiner with
each sampler, plus seconds per image, all in one process on the same inputs.

Example:
    $ python -m t2izoo_cdattngan.measure_sr train --out /work/runs/shapes-sr32 --cpu-minutes 8
    $ python -m t2izoo_cdattngan.measure_sr evaluate --out /work/runs/shapes-sr32 --n 8 \\
          --runs ddpm:1000 dpm-solver++:20
    $ python -m t2izoo_cdattngan.measure_sr evaluate --model runs/scd-2/final --out runs/scd-2/sr-eval \\
          --n 12 --strength 0.3 --runs dpm-solver++:20
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

#: the refiner measured: the shapes-cd-attngan U-Net family at a quarter of its resolution
REFINER = {
    "name": "diffusion-sr", "lr_size": 32, "image_size": 64, "block_out_channels": [32, 64, 64],
    "attention_levels": [False, False, True], "layers_per_block": 1, "norm_num_groups": 8, "cond_dim": 32,
    "lr_encoder_channels": 16, "attention_head_dim": 8, "sampler": "dpm-solver++", "num_inference_steps": 20,
}


def _encoder(preset: str) -> Any:
    import torch

    import t2izoo

    torch.manual_seed(0)
    enc = t2izoo.build(preset, refiner=None).encoder.eval()
    enc.requires_grad_(False)
    return enc


def _batch(dataset: Any, indices: list[int], size: int) -> tuple[Any, list[str]]:
    import torch

    items = [dataset[i] for i in indices]
    return torch.stack([it.images[size] for it in items]), [it.captions[0] for it in items]


def _pool_text(chunks: list[Any], idx: Any) -> Any:
    """The `TextFeatures` of pool items ``idx`` (chunks of 64 may differ in word count: pad)."""
    import torch

    from t2izoo.types import TextFeatures

    length = max(t.words.shape[1] for t in chunks)
    rows_w, rows_m, rows_s = [], [], []
    for i in idx.tolist():
        t = chunks[i // 64]
        j = i % 64
        pad = length - t.words.shape[1]
        rows_w.append(torch.nn.functional.pad(t.words[j], (0, 0, 0, pad)))
        rows_m.append(torch.nn.functional.pad(t.mask[j], (0, pad), value=True))
        rows_s.append(t.sentence[j])
    return TextFeatures(words=torch.stack(rows_w), mask=torch.stack(rows_m), sentence=torch.stack(rows_s))


def train(args: argparse.Namespace) -> int:
    """Train the refiner until ``--steps`` or ``--cpu-minutes`` of process CPU time, then save it."""
    import torch
    from safetensors.torch import save_file
    from tqdm import tqdm

    import t2izoo
    from t2izoo.data.shapes import ShapesDataset

    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    enc = _encoder(args.preset)
    ports = enc.config.ports().outputs
    cfg = {**REFINER, "lr_size": args.hr // 2, "image_size": args.hr, "word_dim": ports["word_dim"],
           "sentence_dim": ports["sentence_dim"]}
    torch.manual_seed(args.seed)
    sr = t2izoo.create_component("refiner", cfg)
    steps_before = 0
    if args.init:  # continue an earlier run (its weights; the optimizer state starts afresh)
        from safetensors.torch import load_file

        before = json.loads((Path(args.init) / "train.json").read_text())
        if before["refiner"] != sr.config.model_dump(mode="json"):
            raise ValueError(f"--init {args.init}: its refiner config differs from this run's (--hr/--preset)")
        sr.load_state_dict(load_file(str(Path(args.init) / "refiner.safetensors")), strict=True)
        steps_before = int(before.get("total_steps", before["steps"]))
    opt = torch.optim.AdamW(sr.parameters(), lr=args.lr)
    data = ShapesDataset("train", size=args.data_size, resolutions=(args.hr,))
    rng = torch.Generator().manual_seed(args.seed)
    start, wall_start, log = time.process_time(), time.monotonic(), []
    # render the images and encode the captions once: the encoder is frozen, so the text
    # features of a caption never change, and the CPU budget goes to the refiner
    pool_images, pool_text = [], []
    for first in tqdm(range(0, len(data), 64), desc="render + encode", mininterval=30):
        hr, captions = _batch(data, list(range(first, min(first + 64, len(data)))), args.hr)
        with torch.no_grad():
            pool_text.append(enc.encode(captions))
        pool_images.append(hr)
    images = torch.cat(pool_images)
    prep_seconds = time.process_time() - start
    bar = tqdm(range(args.steps), desc="diffusion-sr", mininterval=30)
    for _step in bar:
        idx = torch.randint(len(data), (args.batch,), generator=rng)
        text = _pool_text(pool_text, idx)
        loss = sr.loss(images[idx], None, text, generator=rng)  # eq. 7 on (real, downsampled real) pairs
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        log.append(float(loss))
        cpu = time.process_time() - start
        bar.set_postfix(loss=f"{sum(log[-20:]) / len(log[-20:]):.4f}", cpu_min=f"{cpu / 60:.1f}")
        if cpu > 60 * args.cpu_minutes or time.monotonic() - wall_start > 60 * args.wall_minutes:
            break
    sr.eval()
    save_file({k: v.contiguous() for k, v in sr.state_dict().items()}, str(out / "refiner.safetensors"))
    info = {"refiner": sr.config.model_dump(mode="json"), "encoder_preset": args.preset, "steps": len(log),
            "init": args.init, "total_steps": steps_before + len(log),
            "prep_cpu_seconds": prep_seconds,
            "batch": args.batch, "lr": args.lr, "cpu_seconds": time.process_time() - start,
            "wall_seconds": time.monotonic() - wall_start,
            "loss_first20": sum(log[:20]) / min(20, len(log)), "loss_last20": sum(log[-20:]) / min(20, len(log)),
            "data": f"shapes train, size {args.data_size}, {args.hr} px", "seed": args.seed}
    (out / "train.json").write_text(json.dumps(info, indent=2))
    print(json.dumps(info, indent=2))
    return 0


def evaluate(args: argparse.Namespace) -> int:
    """SSIM/PSNR against the real high-res images: bicubic vs each ``sampler:steps``, and s/image."""
    import torch
    import torch.nn.functional as F
    from safetensors.torch import load_file

    import t2izoo
    from t2izoo.data.shapes import ShapesDataset

    torch.set_num_threads(1)
    out = Path(args.out)
    if args.model:  # a saved pipeline (e.g. a `t2izoo train ... --stage 2` run's final/): its encoder and refiner
        pipe = t2izoo.build(args.model, pretrained=args.model)
        if pipe.refiner is None:
            raise SystemExit(f"--model {args.model}: this pipeline has no refiner")
        sr, enc = pipe.refiner.eval(), pipe.encoder.eval()
        out.mkdir(parents=True, exist_ok=True)
    else:
        info = json.loads((out / "train.json").read_text())
        sr = t2izoo.create_component("refiner", info["refiner"]).eval()
        sr.load_state_dict(load_file(str(out / "refiner.safetensors")), strict=True)
        enc = _encoder(info["encoder_preset"])
    size = sr.config.image_size
    data = ShapesDataset("test", size=args.n, resolutions=(size,))
    hr, captions = _batch(data, list(range(args.n)), size)
    lr = sr.degrade(hr)
    with torch.no_grad():
        text = enc.encode(captions)

    def score(images: torch.Tensor) -> dict[str, float]:
        row = {}
        for metric in ("ssim", "psnr"):
            ev = t2izoo.create_component("evaluator", metric)
            ev.update(images.clamp(-1, 1), real_images=hr)
            res = ev.compute()
            row[metric], row[f"{metric}_std"] = res.value, res.std
        return row

    rows = [{"method": "bicubic", "steps": 0, "seconds_per_image": 0.0,
             **score(F.interpolate(lr, size=(size, size), mode="bicubic", align_corners=False))}]
    for run in args.runs:
        sampler, steps = run.rsplit(":", 1)
        t0 = time.perf_counter()
        with torch.inference_mode():
            images = sr(lr, text, generator=torch.Generator().manual_seed(0), sampler=sampler,
                        num_inference_steps=int(steps), progress=True, strength=args.strength)
        seconds = (time.perf_counter() - t0) / args.n
        rows.append({"method": sampler, "steps": int(steps), "strength": args.strength,
                     "steps_run": max(1, int(int(steps) * args.strength)), "seconds_per_image": seconds, **score(images)})
        if args.save_images:
            from t2izoo.pipeline import tensor_to_pil

            tensor_to_pil(torch.cat([F.interpolate(lr, size=(size, size), mode="nearest"), images, hr], 3))[0].save(
                out / f"sample_{sampler}_{steps}{'' if args.strength == 1.0 else f'_s{args.strength:g}'}.png"
            )
    result = {"n_images": args.n, "lr_size": sr.config.lr_size, "image_size": size, "threads": 1,
              "split": "shapes test", "rows": rows}
    name = "evaluate.json" if args.strength == 1.0 else f"evaluate_strength{args.strength:g}.json"
    (out / name).write_text(json.dumps(result, indent=2))
    print(f"diffusion-sr {sr.config.lr_size}->{size} px, {args.n} shapes test images, 1 CPU thread, "
          f"strength {args.strength:g}")
    print(f"{'method':>14} {'steps':>6} {'run':>5} {'SSIM':>14} {'PSNR dB':>14} {'s/image':>9}")
    for r in rows:
        print(f"{r['method']:>14} {r['steps']:>6} {r.get('steps_run', 0):>5} {r['ssim']:>7.4f}±{r['ssim_std'] or 0:.3f} "
              f"{r['psnr']:>7.2f}±{r['psnr_std'] or 0:.2f} {r['seconds_per_image']:>9.2f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--out", required=True)
    t.add_argument("--preset", default="shapes-cd-attngan", help="preset whose (frozen) encoder gives the text")
    t.add_argument("--hr", type=int, default=64, help="high-res side (low-res is half)")
    t.add_argument("--steps", type=int, default=100000)
    t.add_argument("--cpu-minutes", type=float, default=8.0, help="stop after this much process CPU time")
    t.add_argument("--wall-minutes", type=float, default=60.0, help="...or after this much wall time (a shared machine)")
    t.add_argument("--batch", type=int, default=16)
    t.add_argument("--lr", type=float, default=5e-4)
    t.add_argument("--data-size", type=int, default=512, help="training images (rendered once)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--init", default=None, help="a previous --out directory to continue from")
    t.set_defaults(func=train)
    e = sub.add_parser("evaluate")
    e.add_argument("--out", required=True, help="the train --out directory (or where to write with --model)")
    e.add_argument("--model", default=None,
                   help="evaluate the refiner of this saved pipeline directory instead of a measure_sr run")
    e.add_argument("--n", type=int, default=8, help="test images")
    e.add_argument("--runs", nargs="+", default=["dpm-solver++:20", "ddpm:1000"], help="sampler:steps ...")
    e.add_argument("--save-images", action="store_true")
    e.add_argument("--strength", type=float, default=1.0,
                   help="start from the upsampled input noised this far (1.0: pure noise, the paper)")
    e.set_defaults(func=evaluate)
    args = p.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
