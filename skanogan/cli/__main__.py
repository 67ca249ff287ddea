"""``python -m skanogan.cli``: the console script."""

import sys

from skanogan.cli import main

sys.exit(main())
