"""``python -m fixtures_gen``: the same command as ``fixtures-gen``."""

from .cli import main

raise SystemExit(main())
