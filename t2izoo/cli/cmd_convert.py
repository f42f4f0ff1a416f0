"""`t2izoo convert NAME ...`: original checkpoints -> a t2izoo model directory.

Converters come from plugins (the ``t2izoo_converters`` hook), so each family owns its key
mapping; this command only dispatches.
"""

from __future__ import annotations

import argparse
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("convert", help="convert an original checkpoint (e.g. `t2izoo convert attngan --help`)",
                       add_help=False)
    p.add_argument("converter", nargs="?", help="converter name (run without one to list them)")
    p.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from t2izoo._plugins import converters
    from t2izoo._registry import import_object

    available = converters()
    if not args.converter or args.converter in ("-h", "--help"):
        print("usage: t2izoo convert NAME [options]\n\nconverters:")
        for name, target in sorted(available.items()):
            print(f"  {name:<12} {target}")
        return 0
    if args.converter not in available:
        known = ", ".join(sorted(available)) or "none"
        print(f"error: no converter named {args.converter!r}; available: {known}", file=sys.stderr)
        return 2
    converter = import_object(available[args.converter], what=f"converter {args.converter!r}")
    parser = argparse.ArgumentParser(prog=f"t2izoo convert {args.converter}")
    converter.add_arguments(parser)
    return int(converter.run(parser.parse_args(args.rest)) or 0)
