"""``python -m bench`` runs the ``archive-bench`` command line."""

import sys

from bench.cli import main

sys.exit(main())
