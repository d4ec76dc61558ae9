"""Fixtures of the extraction tests; the helpers live in ``extract_helpers`` (made importable
here, since pytest runs with ``--import-mode=importlib``)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from extract_helpers import executor, workspace  # noqa: E402, F401
