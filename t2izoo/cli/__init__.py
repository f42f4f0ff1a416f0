"""The `t2izoo` command line. Each subcommand is a module ``t2izoo.cli.cmd_<name>`` with
``add_parser(subparsers)``; modules must not import torch at import time (``t2izoo list`` stays fast).

Example:
    $ t2izoo list
    $ t2izoo build shapes-tiny --dry-run generator.ngf=32
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

# order shown in --help; a module that does not exist yet is simply not offered
COMMANDS = (
    "list", "info", "plugins", "build", "generate", "data", "train", "evaluate", "ablate",
    "convert", "lock", "publish", "demo", "bench",
)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="t2izoo", description="A pluggable text-to-image model zoo."
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module_name = f"t2izoo.cli.cmd_{name}"
        if importlib.util.find_spec(module_name) is None:
            continue
        importlib.import_module(module_name).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    # key=value overrides may follow options (`build X --dry-run generator.ngf=8`)
    args, extra = parser.parse_known_args(argv)
    if extra:
        if hasattr(args, "overrides") and all("=" in e and not e.startswith("-") for e in extra):
            args.overrides = [*args.overrides, *extra]
        else:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.version:
        from t2izoo import __version__

        print(__version__)
        return 0
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # user-facing: one clear line, full traceback with T2IZOO_DEBUG=1
        import os

        if os.environ.get("T2IZOO_DEBUG"):
            raise
        print(f"error: {err}", file=sys.stderr)
        return 2
