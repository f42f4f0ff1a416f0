"""``t2izoo data``: look at data sets.

Example:
    $ t2izoo data preview shapes --n 16 -o grid.png
    $ t2izoo data info shapes
    $ t2izoo data info data/birds --split test
    $ t2izoo data bench shapes --resolution 64 --n 2000
"""

from __future__ import annotations

import argparse
import json


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("data", help="preview, describe and time data sets")
    sub = parser.add_subparsers(dest="data_command", metavar="ACTION")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("dataset", help="'shapes' or a local path (layout detected)")
        p.add_argument("--split", default="train", help="train, test, compositional (shapes)")
        p.add_argument("--format", default=None, help="force a layout: cub, coco, fashion-mnist, folder, jsonl")
        p.add_argument("--seed", type=int, default=0, help="shapes: the world's seed")
        p.add_argument("--on-error", default="raise", choices=["raise", "skip"], help="bad-input policy")

    p = sub.add_parser("preview", help="write a grid PNG of images with their captions")
    common(p)
    p.add_argument("--n", type=int, default=16, help="number of images")
    p.add_argument("--start", type=int, default=0, help="first index")
    p.add_argument("--columns", type=int, default=4)
    p.add_argument("--resolution", type=int, default=None, help="which resolution to show (default: largest)")
    p.add_argument("--caption", type=int, default=0, help="which caption of each sample to show")
    p.add_argument("-o", "--output", default="grid.png", help="PNG file to write")
    p.set_defaults(func=run_preview)

    p = sub.add_parser("info", help="print size, resolutions, classes and a few captions")
    common(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run_info)

    p = sub.add_parser("bench", help="measure samples per second on this machine")
    common(p)
    p.add_argument("--resolution", type=int, default=64)
    p.add_argument("--n", type=int, default=2000)
    p.set_defaults(func=run_bench)

    parser.set_defaults(func=lambda args: (parser.print_help(), 0)[1])


def _load(args: argparse.Namespace, resolutions=None, size: int | None = None):  # noqa: ANN202
    from t2izoo.data import load_dataset

    opts: dict = {"format": args.format}
    if args.dataset == "shapes" or args.format == "shapes":
        opts["seed"] = args.seed
        if size is not None:
            opts["size"] = size
    else:
        opts["on_error"] = args.on_error
    return load_dataset(args.dataset, split=args.split, resolutions=resolutions, **opts)


def run_preview(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from t2izoo.data import caption_grid

    res = (args.resolution,) if args.resolution else None
    need = args.start + args.n
    ds = _load(args, res, size=max(need, 1) if args.dataset == "shapes" else None)
    if args.start >= len(ds):
        raise ValueError(f"--start {args.start} is past the end of the data set ({len(ds)} items)")
    items = []
    for i in range(args.start, min(need, len(ds))):
        s = ds[i]
        if s is not None:
            items.append(replace(s, caption_index=min(args.caption, len(s.captions) - 1)))
    grid = caption_grid(items, columns=args.columns, resolution=args.resolution)
    grid.save(args.output)
    print(f"wrote {args.output} ({len(items)} images, {grid.size[0]}x{grid.size[1]} px)")
    return 0


def run_info(args: argparse.Namespace) -> int:
    ds = _load(args)
    info: dict = {
        "dataset": args.dataset,
        "class": type(ds).__name__,
        "split": args.split,
        "items": len(ds),
        "resolutions": list(ds.resolutions),
        "classes": ds.class_count,
    }
    if hasattr(ds, "vocab"):
        info["vocabulary"] = ds.vocab.to_dict()
    problems = getattr(ds, "problems", None)
    if problems is not None and problems.count:
        info["skipped"] = problems.summary()
    first = ds[0] if len(ds) else None
    if first is not None:
        info["example"] = {"key": first.key, "class_id": first.class_id, "captions": first.captions}
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    for key, value in info.items():
        if isinstance(value, dict):
            print(f"{key}:")
            for k, v in value.items():
                print(f"  {k}: {v}")
        else:
            print(f"{key}: {value}")
    return 0


def run_bench(args: argparse.Namespace) -> int:
    import time

    from tqdm import tqdm

    ds = _load(args, (args.resolution,), size=args.n if args.dataset == "shapes" else None)
    n = min(args.n, len(ds))
    start, cpu_start = time.perf_counter(), time.process_time()
    for i in tqdm(range(n), desc=f"{args.dataset} @ {args.resolution}px", unit="sample"):
        ds[i]
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    # CPU time is what one free core would take; wall time also counts waiting for a busy CPU
    print(f"{n} samples at {args.resolution}px: {n / elapsed:.0f} samples/s wall ({elapsed:.2f} s), "
          f"{n / max(cpu, 1e-9):.0f} samples/s per CPU-second ({cpu:.2f} s CPU), one process")
    return 0
