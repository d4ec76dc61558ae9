#!/usr/bin/env bash
# Installs everything (system tools, headless Chromium, .venv) and runs the whole test suite,
# slow group included. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
WITH_BROWSER=1 bash scripts/bootstrap.sh
.venv/bin/ruff check .
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
