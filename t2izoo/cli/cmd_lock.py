"""`t2izoo lock PRESET [PRESET...] > t2izoo.lock`: freeze each preset's config and weights pins."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "lock", help="write a lock file (JSON) pinning presets' configs, weight repos, commits and sha256",
        description="Resolve and verify each preset's weights (cache, bundled hub/, or the Hub) and print a "
                    "lock file. Load with build(NAME, pretrained=True, lock='t2izoo.lock'), which refuses any "
                    "drift. Example: t2izoo lock shapes-tiny shapes-attngan > t2izoo.lock",
    )
    p.add_argument("presets", nargs="+", help="preset names (see `t2izoo list`)")
    p.add_argument("-o", "--out", default=None, help="write here instead of stdout")
    p.add_argument("--no-verify", action="store_true",
                   help="copy the cards' pins without fetching/checking files (commit = the card's revision)")
    p.add_argument("--offline", action="store_true", help="verify from the cache / bundled hub/ only")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json
    import sys
    from pathlib import Path

    from t2izoo._lock import make_lock

    lock = make_lock(list(args.presets), verify=not args.no_verify, local_files_only=args.offline or None)
    text = json.dumps(lock, indent=2) + "\n"
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out} ({len(lock['presets'])} presets)", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
