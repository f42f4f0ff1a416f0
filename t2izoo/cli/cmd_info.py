"""`t2izoo info NAME`: a preset's card summary and resolved config, or a component's fields."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="show a preset's card and resolved config, or a component's config fields")
    p.add_argument("name", help="a preset name, or KIND/NAME for a component (e.g. generator/tiny-conv)")
    p.add_argument("overrides", nargs="*", help="key=value overrides (e.g. generator.ngf=64)")
    p.add_argument("--format", choices=["yaml", "json"], default="yaml")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json

    import yaml

    from t2izoo import get_component
    from t2izoo._build import build_config
    from t2izoo._cards import load_card
    from t2izoo._config import parse_cli_overrides

    if "/" in args.name:
        kind, _, name = args.name.partition("/")
        entry = get_component(kind, name)
        print(f"{entry.kind} '{entry.name}' from plugin '{entry.plugin}': {entry.description}")
        print(f"factory: {entry.factory if isinstance(entry.factory, str) else entry.factory.__qualname__}")
        print("fields:")
        for field, info in entry.config_class.model_fields.items():
            default = info.default if not info.is_required() else "(required)"
            desc = f"  {info.description}" if info.description else ""
            print(f"  {field}: {default!r}{desc}")
        print(f"ports (defaults): {entry.config_class().ports()}")
        return 0
    card = load_card(args.name)
    if card.kind == "pipeline":
        data = build_config(args.name, parse_cli_overrides(args.overrides)).to_dict()
    else:  # a component card: its one component's config, defaults filled in
        from t2izoo._build import component_card_config

        data = component_card_config(card, parse_cli_overrides(args.overrides)).model_dump(mode="json")
    print(f"{card.preset}: {card.summary}")
    print(f"kind:    {card.kind}")
    print(f"card:    {card.path}")
    print(f"paper:   {card.paper or '-'}")
    print(f"license: {card.license or '-'}")
    w = card.weights
    print(f"weights: {w['repo'] + '@' + str(w['revision'])[:12] if w else 'none published (train it: t2izoo train)'}")
    if card.metrics:
        print("metrics:")
        for name, value in card.metrics.items():
            print(f"  {name}: {value}")
    print("\nresolved config:")
    print(json.dumps(data, indent=2) if args.format == "json" else yaml.safe_dump(data, sort_keys=False), end="")
    return 0
