"""`t2izoo plugins`: every discovered plugin, its version, status and error."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plugins", help="show discovered plugins, their versions and load errors")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict

    from t2izoo import plugin_report

    infos = plugin_report()
    if args.json:
        print(json.dumps([asdict(i) for i in infos], indent=2))
        return 0
    for info in infos:
        version = f"{info.distribution or '?'} {info.version or ''}".strip()
        print(f"{info.name:<16} {info.status:<9} {info.module:<24} ({version})")
        if info.error:
            print(f"    error: {info.error}")
        elif info.components:
            print(f"    {', '.join(info.components)}")
    failed = [i for i in infos if i.status == "failed"]
    if failed:
        print(f"\n{len(failed)} plugin(s) failed to load; set T2IZOO_STRICT_PLUGINS=1 to make that fatal.")
    return 0
