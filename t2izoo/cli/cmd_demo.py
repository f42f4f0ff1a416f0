"""`t2izoo demo PRESET --out demo/`: an HTML page of prompts, stage images, attention maps and metrics."""

from __future__ import annotations

import argparse

DEFAULT_PROMPTS = (
    "a small red circle left of a blue square",
    "a large green triangle",
    "a yellow striped square above a purple circle",
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo", help="write an HTML demo page (prompts, every stage, attention maps, the card's metrics)",
        description="Example: t2izoo demo shapes-attngan --out demo/ --seeds 0 1. The page links PNGs written "
                    "beside it; open demo/index.html in a browser.",
    )
    p.add_argument("model", help="a preset name, or a directory written by save_pretrained")
    p.add_argument("--prompts", nargs="+", default=None, help="prompts (default: three shapes captions)")
    p.add_argument("--prompts-file", default=None, help="a text file with one prompt per line")
    p.add_argument("--out", default="demo", help="output folder (index.html + PNGs)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0], help="one column of images per seed")
    p.add_argument("--pretrained", default=None, help="a model directory, or 'hub' (default: the card's weights if any)")
    p.add_argument("--random-weights", action="store_true", help="fresh weights even when the card has weights")
    p.add_argument("--lock", default=None, help="a lock file from `t2izoo lock`")
    p.add_argument("--offline", action="store_true", help="never download (cache / bundled hub/ only)")
    p.add_argument("--device", default=None, help="cpu, cuda, ... (default: cuda when available)")
    p.add_argument("--overrides", nargs="*", default=[], help="key=value config overrides")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import torch

    from t2izoo._build import build, require_pipeline_preset
    from t2izoo._cards import CardError, load_card
    from t2izoo._config import parse_cli_overrides
    from t2izoo._demo import write_demo
    from t2izoo.cli.cmd_generate import _default_pretrained

    prompts = list(args.prompts or [])
    if args.prompts_file:
        prompts += [ln.strip() for ln in Path(args.prompts_file).read_text(encoding="utf-8").splitlines() if ln.strip()]
    prompts = prompts or list(DEFAULT_PROMPTS)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    model = Path(args.model)
    require_pipeline_preset(args.model)
    pretrained = _default_pretrained(args, model)
    pipe = build(args.model, parse_cli_overrides(args.overrides), pretrained=pretrained, device=device,
                 lock=args.lock, local_files_only=args.offline or None)
    try:
        card = load_card(pipe.config.preset or args.model)
        summary, metrics = card.summary, card.metrics
    except CardError:
        summary, metrics = "", {}
    weights = "random (untrained) weights" if pretrained is None else (
        "the card's published weights" if pretrained is True else f"weights from {pretrained}")
    page = write_demo(pipe, prompts, args.out, seeds=args.seeds, title=pipe.config.preset or model.name,
                      summary=f"{summary} — {weights}" if summary else weights, metrics=metrics)
    print(f"wrote {page} ({len(prompts)} prompts x {len(args.seeds)} seeds)")
    return 0
