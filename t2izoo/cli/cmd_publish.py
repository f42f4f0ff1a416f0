"""`t2izoo publish RUN_DIR/final --preset NAME`: bundle trained weights in hub/ and pin them in the card."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "publish", help="copy a trained pipeline into hub/<repo>/ and write the card's weights block",
        description="Copies a folder written by save_pretrained (t2izoo train writes RUN/final) into the bundled "
                    "hub folder in Hub layout, and pins repo, revision (a content hash, or the Hub commit with "
                    "--push) and every file's sha256 in the preset's model card. Example: "
                    "t2izoo publish runs/shapes-tiny/final --preset shapes-tiny",
    )
    p.add_argument("run_dir", help="the trained pipeline folder (pipeline.json + <slot>/model.safetensors)")
    p.add_argument("--preset", required=True, help="the preset whose card gets the weights block")
    p.add_argument("--hub-dir", default=None, help="bundled hub folder (default: the checkout's hub/)")
    p.add_argument("--repo", default=None, help="repo id / folder name (default: the card's, else t2izoo/PRESET)")
    p.add_argument("--update-config", action="store_true",
                   help="write the run's config into the card when it differs (otherwise an error)")
    p.add_argument("--push", action="store_true", help="also commit it to the Hugging Face Hub (needs a token)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from t2izoo._cards import load_card, refresh
    from t2izoo._publish import default_hub_dir, publish

    block = publish(args.run_dir, args.preset, hub_dir=args.hub_dir, repo=args.repo,
                    update_config=args.update_config, push=args.push)
    refresh()
    hub_dir = args.hub_dir or default_hub_dir()
    print(f"published {len(block['files'])} files to {hub_dir}/{block['repo']} at revision {block['revision']}")
    print(f"pinned in {load_card(args.preset).path}")
    if args.hub_dir:
        print(f"note: set T2IZOO_HUB_DIR={args.hub_dir} so build('{args.preset}', pretrained=True) finds it")
    return 0
