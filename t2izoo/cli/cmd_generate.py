"""`t2izoo generate MODEL "prompt" -o out.png`: images from a preset or a trained model directory."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("generate", help="generate images from prompts")
    p.add_argument("model", help="a preset name, or a directory written by save_pretrained / `t2izoo train`")
    p.add_argument("prompts", nargs="*", help="one or more prompts")
    p.add_argument("-o", "--out", default="out.png",
                   help="output PNG; with several prompts/seeds and no --grid, files are numbered")
    p.add_argument("--prompts-file", help="a text file with one prompt per line")
    p.add_argument("--seed", "--seeds", dest="seed", type=int, nargs="+", default=[0], help="one or more seeds")
    p.add_argument("--grid", action="store_true", help="write one captioned grid instead of separate files")
    p.add_argument("--pretrained", default=None,
                   help="weights: a model directory, or 'hub' for the card's published weights "
                        "(the default for a preset whose card has a weights block)")
    p.add_argument("--random-weights", action="store_true",
                   help="use freshly initialised weights even when the card publishes weights")
    p.add_argument("--lock", default=None, help="a lock file from `t2izoo lock`: refuse any drift")
    p.add_argument("--offline", action="store_true", help="never download (cache / bundled hub/ only)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 (default: cuda when available)")
    p.add_argument("--overrides", nargs="*", default=[], help="key=value config overrides")
    p.set_defaults(func=run)


def _prompts(args: argparse.Namespace) -> list[str]:
    from pathlib import Path

    prompts = list(args.prompts)
    if args.prompts_file:
        path = Path(args.prompts_file)
        if not path.is_file():
            raise FileNotFoundError(f"--prompts-file {path} does not exist")
        prompts += [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not prompts:
        raise ValueError('give at least one prompt (positional, e.g. "a red circle", or --prompts-file)')
    return prompts


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import torch

    from t2izoo._build import build, require_pipeline_preset
    from t2izoo._config import parse_cli_overrides
    from t2izoo.data import caption_grid

    prompts = _prompts(args)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    model = Path(args.model)
    require_pipeline_preset(args.model)
    pretrained = _default_pretrained(args, model)
    pipe = build(args.model, parse_cli_overrides(args.overrides), pretrained=pretrained, device=device,
                 lock=args.lock, local_files_only=args.offline or None)
    images, captions = [], []
    for seed in args.seed:
        out = pipe(prompts, seed=seed)
        images += out.images
        captions += [f"{p} (seed {seed})" if len(args.seed) > 1 else p for p in prompts]
    out_path = Path(args.out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    if args.grid:
        caption_grid(list(zip(images, captions)), columns=min(len(images), 4)).save(out_path)
        print(f"wrote {out_path} ({len(images)} images)")
    elif len(images) == 1:
        images[0].save(out_path)
        print(f"wrote {out_path}")
    else:
        for i, img in enumerate(images):
            path = out_path.with_name(f"{out_path.stem}-{i:03d}{out_path.suffix}")
            img.save(path)
            print(f"wrote {path}  <- {captions[i]!r}")
    return 0


def _default_pretrained(args: argparse.Namespace, model: object) -> object:
    """Explicit --pretrained wins; a model folder loads itself; a preset uses its card's weights if any."""
    if args.random_weights:
        return None
    if args.pretrained == "hub":
        return True
    if args.pretrained is not None:
        return args.pretrained
    if model.is_dir():  # type: ignore[attr-defined]
        return model
    from t2izoo._cards import CardError, load_card

    try:
        return True if load_card(args.model).weights else None
    except CardError:
        return None
