"""`t2izoo ablate BASE --vary KEY=V1,V2 [--rows SPEC] --steps N --out DIR [--seeds 3] [--metrics ...]`.

Trains and evaluates every cell of the cartesian product rows x --vary axes, for each seed, and
writes OUT/results.md (mean ± std over seeds), OUT/results.csv and OUT/results.png. Each cell is
trained exactly as `t2izoo train` would (its command is saved in the cell's train-command.txt)
and evaluated as `t2izoo evaluate` would. Rerunning the same command resumes: finished cells are
skipped, interrupted ones continue from their newest checkpoint, failed ones are retried.

Example:
    $ t2izoo ablate shapes-tiny --vary refiner=none,interpolate --vary generator.ngf=16,32 \\
          --steps 500 --seeds 3 --n 200 --metrics shapes-fid,shapes-accuracy --out runs/ablate-tiny
    $ t2izoo ablate shapes-cd-attngan --rows "cd-attngan=;no-clip=encoder=lstm;no-diffusion=refiner=null;attngan=@shapes-attngan" \\
          --steps 50 --out runs/table2
    $ t2izoo ablate shapes-tiny --vary option.lr=1e-4,4e-4 --steps 200 --out runs/lr --dry-run

Exit status: 0 when every cell finished, 1 when some failed (see OUT/results.md), 2 on a usage error.
"""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ablate",
        help="train + evaluate the cartesian product of config variations over seeds (resumable)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("base", help="preset, config file or model directory every cell starts from")
    p.add_argument("overrides", nargs="*", help="KEY=VALUE overrides of the base config for every cell "
                   "(generator.ngf=16)")
    p.add_argument("--vary", action="append", default=[], metavar="KEY=V1,V2,...",
                   help="an axis (repeatable): config override values, e.g. encoder=lstm,clip or refiner=none,"
                        "diffusion-sr; KEY option.NAME varies a recipe option")
    p.add_argument("--rows", action="append", default=[], metavar="NAME=[@PRESET][,KEY=VALUE...];...",
                   help="named rows, e.g. \"full=;no-clip=encoder=lstm;attngan=@shapes-attngan\"")
    p.add_argument("--seeds", default="1", help="number of seeds (3 -> 0,1,2) or a list (0,5,7)")
    p.add_argument("--data", default="shapes", help="data set for training and evaluation (default: shapes)")
    p.add_argument("--data-size", type=int, default=None, help="items of a procedural training set")
    p.add_argument("--steps", type=int, required=True, help="training steps per cell")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--out", required=True, help="ablation directory")
    p.add_argument("--recipe", default=None, help="recipe for every cell (default: each generator's own)")
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--option", "-O", action="append", default=[], metavar="KEY=VALUE",
                   help="recipe option for every cell (repeatable)")
    p.add_argument("--save-every", type=int, default=0,
                   help="checkpoint every K steps: how far an interrupted cell falls back (0: only at the end)")
    p.add_argument("--train-arg", action="append", default=[], metavar="ARG",
                   help="extra `t2izoo train` argument (repeatable), e.g. --train-arg=--max-length=20")
    p.add_argument("--metrics", default="shapes-fid,shapes-accuracy", help="comma-separated evaluators")
    p.add_argument("--metric-opt", action="append", default=[], metavar="METRIC.FIELD=VALUE",
                   help="evaluator config field (repeatable), as in `t2izoo evaluate`")
    p.add_argument("--n", type=int, default=200, help="images generated per evaluation")
    p.add_argument("--eval-batch-size", type=int, default=50)
    p.add_argument("--split", default="test", help="evaluation split")
    p.add_argument("--cpu", action="store_true", help="train and evaluate on CPU even when a GPU is present")
    p.add_argument("--no-progress", action="store_true", help="only the per-cell lines, no progress bars")
    p.add_argument("--dry-run", action="store_true", help="list the cells and their resolved configs; run nothing")
    p.add_argument("--report-only", action="store_true", help="rewrite the results files from what is on disk")
    p.set_defaults(func=run)


def parse_seeds(text: str) -> list[int]:
    """``"3"`` -> ``[0, 1, 2]``; ``"0,5,7"`` -> ``[0, 5, 7]``.

    Example:
        >>> parse_seeds("3"), parse_seeds("4,2")
        ([0, 1, 2], [4, 2])
    """
    try:
        if "," in text:
            seeds = [int(s) for s in text.split(",") if s.strip()]
        else:
            count = int(text)
            if count < 1:
                raise ValueError
            seeds = list(range(count))
    except ValueError:
        raise ValueError(f"--seeds {text!r} must be a count >= 1 or a comma-separated list of integers") from None
    if len(set(seeds)) != len(seeds) or not seeds:
        raise ValueError(f"--seeds {text!r} repeats a seed or is empty")
    return seeds


def run(args: argparse.Namespace) -> int:
    from t2izoo.ablation import (
        AblationSettings,
        expand_cells,
        parse_rows,
        parse_vary,
        run_ablation,
        write_report,
    )
    from t2izoo.cli.cmd_evaluate import _metric_options

    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    settings = AblationSettings(
        base=args.base, overrides=list(args.overrides), data=args.data, data_size=args.data_size, steps=args.steps, batch_size=args.batch_size,
        seeds=parse_seeds(args.seeds), recipe=args.recipe, options=list(args.option), lr=args.lr,
        save_every=args.save_every, train_args=list(args.train_arg), metrics=metrics,
        metric_options=_metric_options(args.metric_opt, metrics), n=args.n, eval_batch_size=args.eval_batch_size,
        split=args.split, cpu=args.cpu, progress=not args.no_progress,
    )
    cells = expand_cells(parse_rows(args.rows) if args.rows else None, parse_vary(args.vary))
    if args.dry_run:
        return _dry_run(settings, cells, args.out)
    if args.report_only:
        files = write_report(args.out, settings, cells)
    else:
        result = run_ablation(settings, cells, args.out)
        files = result.files
    print(files["markdown"].read_text(encoding="utf-8"))
    print("wrote " + ", ".join(str(p) for p in files.values()))
    if not args.report_only and result.failed:
        return 1
    return 0


def _dry_run(settings, cells, out) -> int:  # noqa: ANN001 - internal
    import shlex

    from t2izoo.ablation.runner import _resolve_config, cell_dir, train_argv

    jobs = len(cells) * len(settings.seeds)
    print(f"{len(cells)} cells x {len(settings.seeds)} seeds = {jobs} runs of {settings.steps} steps")
    bad = 0
    for cell in cells:
        try:
            config = _resolve_config(settings, cell)
            summary = ", ".join(f"{slot}={getattr(config, slot).name if getattr(config, slot) else None}"
                                for slot in ("encoder", "generator", "refiner"))
        except Exception as err:  # report every bad cell, not just the first
            bad += 1
            summary = f"INVALID: {type(err).__name__}: {err}"
        print(f"- {cell.name}: {summary}")
        d = cell_dir(out, cell, settings.seeds[0])
        print("    " + shlex.join(["t2izoo", *train_argv(settings, cell, settings.seeds[0], d, resume=False)]))
    return 1 if bad else 0
