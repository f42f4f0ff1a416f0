"""Run the t2izoo benchmark from a checkout: ``python bench/run.py --quick --out bench-out``.

The same as ``t2izoo bench`` (all options: ``python bench/run.py --help``); the logic lives in
``t2izoo.benchmark`` so the installed package can run it too.
"""

from __future__ import annotations

import sys

from t2izoo.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
