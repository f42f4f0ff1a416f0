"""`t2izoo list`: presets and components (never imports torch)."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="list presets (model cards) and registered components")
    p.add_argument("pattern", nargs="?", default="*", help="wildcard on names, e.g. 'shapes-*'")
    p.add_argument("--kind", choices=["preset", "encoder", "fusion", "generator", "refiner", "evaluator"],
                   help="only this kind")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json

    from t2izoo import KINDS, registry
    from t2izoo._cards import list_models, load_card
    from t2izoo._registry import _loaded_registry

    _loaded_registry()
    kinds = [args.kind] if args.kind else ["preset", *KINDS]
    rows: list[tuple[str, str, str, str]] = []
    for kind in kinds:
        if kind == "preset":
            for name in list_models(args.pattern):
                card = load_card(name)
                # component cards (shapes-clip, shapes-fid) build one component, not a pipeline
                source = "model_cards" if card.kind == "pipeline" else f"model_cards, {card.kind}"
                rows.append(("preset", name, source, card.summary))
        else:
            for name in registry.list(kind, args.pattern):
                e = registry.get(kind, name)
                rows.append((kind, name, e.plugin, e.description))
    if args.json:
        print(json.dumps([dict(zip(("kind", "name", "source", "description"), r)) for r in rows], indent=2))
        return 0
    if not rows:
        print(f"nothing matches {args.pattern!r}")
        return 1
    width = max(len(r[1]) for r in rows)
    current = None
    for kind, name, source, desc in rows:
        if kind != current:
            print(f"\n{kind}s:" if current else f"{kind}s:")
            current = kind
        print(f"  {name:<{width}}  [{source}] {desc}")
    return 0
