"""`t2izoo bench`: measure generation, refiner samplers, training, metric backbones and start-up.

Example:
    $ t2izoo bench --quick --out bench-out
    $ t2izoo bench --presets shapes-tiny shapes-attngan --suites generation refiner --out bench-out
"""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench", help="benchmark presets, samplers, training and metrics (JSON + markdown report)",
        description="Run the benchmark suites side by side and write OUT/bench.json and OUT/bench.md. "
        "Compared variants run interleaved in one process and are reported as ratios.",
    )
    p.add_argument("--out", required=True, help="directory for bench.json and bench.md")
    p.add_argument("--quick", action="store_true", help="tiny sizes and one round: checks, rough figures")
    p.add_argument("--presets", nargs="+", help="model cards for the generation suite (default: all)")
    p.add_argument("--suites", nargs="+", help="generation refiner training features startup (default: all)")
    p.add_argument("--batch-sizes", nargs="+", type=int, help="prompts per generation call (default 1 32)")
    p.add_argument("--rounds", type=int, help="timed interleaved calls per variant")
    p.add_argument("--device", default="auto", help="cpu, cuda or auto (default)")
    p.add_argument("--compile", action="store_true", help="add a torch.compile variant to generation")
    p.add_argument("--refiner-runs", nargs="+", metavar="SAMPLER:STEPS",
                   help="refiner suite runs, the first is the reference (default ddpm:1000 ddim:50 dpm-solver++:20)")
    p.add_argument("--refiner-trained",
                   help="a trained diffusion-sr model directory; 'auto' (default): newest RUNS_ROOT/*/final "
                   "with one; 'none': random weights, speed only")
    p.add_argument("--runs-root", default="runs", help="where --refiner-trained auto looks (RUNS/*/final)")
    p.add_argument("--training-presets", nargs="+", help="presets for the training suite (default: shapes-*)")
    p.add_argument("--budget", type=float, help="seconds per preset and batch size before generation is skipped")
    p.add_argument("--strict", action="store_true", help="stop at the first failure instead of recording it")
    p.add_argument("-O", "--override", action="append", default=[], metavar="PRESET:KEY=VALUE",
                   help="config override for one preset, e.g. shapes-tiny:generator.ngf=8 (repeatable)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run)


def _overrides(items: list[str]) -> dict[str, dict[str, object]]:
    import yaml

    out: dict[str, dict[str, object]] = {}
    for item in items:
        preset, sep, assignment = item.partition(":")
        key, eq, value = assignment.partition("=")
        if not sep or not eq or not key:
            raise ValueError(f"--override {item!r} must be PRESET:KEY=VALUE, e.g. shapes-tiny:generator.ngf=8")
        out.setdefault(preset, {})[key] = yaml.safe_load(value)
    return out


def run(args: argparse.Namespace) -> int:
    from t2izoo.benchmark import BenchOptions, run_benchmark, write_report
    from t2izoo.benchmark.refiner import parse_runs

    changes: dict[str, object] = {"device": args.device, "compile": args.compile, "strict": args.strict,
                                  "runs_root": args.runs_root}
    for name, value in (("presets", args.presets), ("training_presets", args.training_presets),
                        ("rounds", args.rounds), ("budget_s", args.budget)):
        if value is not None:
            changes[name] = value
    if args.suites:
        changes["suites"] = tuple(args.suites)
    if args.batch_sizes:
        changes["batch_sizes"] = tuple(args.batch_sizes)
    if args.refiner_runs:
        changes["refiner_runs"] = tuple(parse_runs(args.refiner_runs))
    if args.refiner_trained:
        changes["refiner_trained"] = None if args.refiner_trained.lower() == "none" else args.refiner_trained
    if args.override:
        changes["overrides"] = _overrides(args.override)
    opts = BenchOptions.quick(**changes) if args.quick else BenchOptions(**changes)
    result = run_benchmark(opts, progress=not args.no_progress,
                           on_update=lambda partial: write_report(partial, args.out))
    js, md = write_report(result, args.out)
    print(md.read_text(), end="")
    print(f"wrote {js} and {md} ({result['seconds']:.0f} s)")
    return 1 if result["errors"] and args.strict else 0
