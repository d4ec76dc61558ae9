#!/usr/bin/env bash
# Installs everything, runs the quick benchmark sweep on this machine and writes the HTML
# report. Results land under results/<machine key>/<run>/. The output ends with the answer:
# per operation, how much faster than the old way on this machine's usable cores, the
# regressions and what needs more cores; then the run folder and the report's path.
# Extra arguments go to `archive-bench run` (e.g. --machine NAME).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/archive-bench run --quick "$@"
.venv/bin/archive-bench report results -o results/report.html -q
