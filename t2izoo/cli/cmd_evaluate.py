"""`t2izoo evaluate MODEL --data shapes --n 2000 --metrics shapes-fid,shapes-accuracy --out results.json`.

Generates from the data set's captions in batches (with progress), streams them into the
evaluators, writes a JSON report and a markdown table beside it.
"""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="measure a model: FID, KID, IS, CLIP score, R-precision, SSIM, ...")
    p.add_argument("model", help="a preset, a model directory, or ':real' (the data set's own images)")
    p.add_argument("--data", default="shapes", help="data set name or path (default: shapes)")
    p.add_argument("--split", default="test")
    p.add_argument("--data-opt", action="append", default=[], metavar="KEY=VALUE",
                   help="data set option (repeatable), e.g. --data-opt max_objects=1 (shapes)")
    p.add_argument("--n", type=int, default=2000, help="number of images")
    p.add_argument("--metrics", default="shapes-fid,shapes-accuracy",
                   help="comma-separated evaluators (t2izoo list evaluator)")
    p.add_argument("--metric-opt", action="append", default=[], metavar="METRIC.FIELD=VALUE",
                   help="evaluator config field, e.g. fid.backbone=shapes-classifier (repeatable)")
    p.add_argument("--batch-size", type=int, default=50)
    p.add_argument("--resolution", type=int, default=None,
                   help="real-image size (default: the generator's output size; 64 for :real)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default=None)
    p.add_argument("--pretrained", default=None,
                   help="weights: a model directory, or 'hub' (default: the card's weights when it pins any)")
    p.add_argument("--random-weights", action="store_true",
                   help="evaluate freshly initialised weights even when the card publishes weights")
    p.add_argument("--overrides", nargs="*", default=[], help="key=value pipeline config overrides")
    p.add_argument("--out", default="results.json", help="JSON report; a .md table is written beside it")
    p.add_argument("--update-card", action="store_true",
                   help="write the measured metrics and their protocol into the preset's model card")
    p.set_defaults(func=run)


def update_card(preset: str, report: dict) -> str:
    """Write ``report``'s metrics (value, std, protocol, run settings) into the preset's card."""
    from t2izoo._cards import load_card, refresh

    card = load_card(preset)
    run_settings = {k: report.get(k) for k in ("data", "data_options", "split", "n", "seed", "resolution", "overrides")
                    if report.get(k) is not None}
    for name, result in report["results"].items():
        card.metrics[name] = {**result, "run": run_settings}
    card.path.write_text(card.render(), encoding="utf-8")
    refresh()
    return str(card.path)


def _metric_options(items: list[str], metrics: list[str]) -> dict[str, dict]:
    from t2izoo._config import parse_cli_overrides

    out: dict[str, dict] = {}
    for key, value in parse_cli_overrides(items).items():
        metric, sep, field = key.partition(".")
        if not sep or not field:
            raise ValueError(f"--metric-opt {key!r} must be METRIC.FIELD=VALUE, e.g. fid.resize=bilinear")
        out.setdefault(metric, {})[field] = value
    return out


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from t2izoo._build import require_pipeline_preset
    from t2izoo._config import parse_cli_overrides
    from t2izoo.cli.cmd_generate import _default_pretrained
    from t2izoo.data import check_data_options
    from t2izoo.evaluation.runner import evaluate, to_markdown

    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    model = Path(args.model)
    require_pipeline_preset(args.model)
    # a preset is scored with its card's weights, as `t2izoo generate` uses them; a model folder loads itself
    pretrained = None if model.is_dir() and args.pretrained is None else _default_pretrained(args, model)
    data_options = parse_cli_overrides(args.data_opt)
    check_data_options(args.data, data_options)
    report = evaluate(
        args.model, data=args.data, data_options=data_options, split=args.split, n=args.n, metrics=metrics,
        metric_options=_metric_options(args.metric_opt, metrics), batch_size=args.batch_size, seed=args.seed,
        device=args.device, pretrained=pretrained, overrides=parse_cli_overrides(args.overrides),
        resolution=args.resolution,
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    table = to_markdown(report)
    out.with_suffix(".md").write_text(table, encoding="utf-8")
    print(table)
    print(f"wrote {out} and {out.with_suffix('.md')}")
    if args.update_card:
        from t2izoo._cards import card_paths

        if args.model not in card_paths():
            raise ValueError(f"--update-card needs a preset name; {args.model!r} is not one (`t2izoo list`)")
        print(f"updated {update_card(args.model, report)}")
    return 0
