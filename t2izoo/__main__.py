"""`python -m t2izoo` is the `t2izoo` command."""

import sys

from t2izoo.cli import main

sys.exit(main())
