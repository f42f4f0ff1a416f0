"""`t2izoo build PRESET [key=value ...] --dry-run`: resolve, check, count parameters."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("build", help="build a preset (with overrides) and report its components")
    p.add_argument("name", help="preset name, config file (.json/.yaml) or model directory")
    p.add_argument("overrides", nargs="*", help="key=value overrides (e.g. generator.ngf=64 refiner=none)")
    p.add_argument("--dry-run", action="store_true",
                   help="print the resolved config and parameter counts without loading weights")
    p.add_argument("--pretrained", default=None, help="model directory to load (strict)")
    p.add_argument("--save", default=None, metavar="DIR", help="write the built pipeline with save_pretrained")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import yaml

    from t2izoo._build import build, build_config
    from t2izoo._config import parse_cli_overrides

    overrides = parse_cli_overrides(args.overrides)
    config = build_config(args.name, overrides)
    print(yaml.safe_dump(config.to_dict(), sort_keys=False), end="")
    pipe = build(config, pretrained=None if args.dry_run else args.pretrained)
    print("\nparameters:")
    total = 0
    for slot, module in pipe.components().items():
        n = sum(p.numel() for p in module.parameters())
        total += n
        print(f"  {slot:<10} {module.config.name:<20} {n:>12,}")
    print(f"  {'total':<31} {total:>12,}")
    if args.save and not args.dry_run:
        print(f"saved to {pipe.save_pretrained(args.save)}")
    return 0
