#!/usr/bin/env bash
# Installs everything, runs the quick benchmark sweep on this machine and writes the HTML
# report. Results land under results/<platform>/<run>/; the report's path is printed last.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/archive-bench run --quick "$@"
.venv/bin/archive-bench report results -o results/report.html
