#!/usr/bin/env bash
# The part of scripts/test-pi.sh that runs inside an emulated Raspberry Pi OS root:
#   guest.sh ARCH MODE     (MODE: full or smoke)
# Installs the project the way a Pi user does (`pip install .`, then the bench extra), runs the
# library and fixture tests, extracts the x86-64 archives byte for byte and makes its own for the
# host to check, and (full mode) runs a small bench sweep; on arm64 it also builds the report.
# Writes one summary phrase to $XFER/summary for the host's summary line.
set -euo pipefail
arch=$1 mode=$2
SRC=/opt/archive-parallel/src
XFER=/opt/archive-parallel/xfer
PY=/opt/archive-parallel/venv/bin/python
work=$(mktemp -d /tmp/archive-parallel-pi.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"   # not the source folder: tests and tools import the installed package

say() { echo "test-pi $arch: [$SECONDS s] $*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

# Lean on purpose: emulation runs Python several times slower, so these are the round trip,
# the CLI, the pinned fixture digests, the 32-bit specifics and the helper processes that
# extract a zip's tiny files (forked on the Pi's own Python; smoke, also run by CI), then the
# API contract, extraction safety and the codecs' gzip index and zip writer. xz and bzip2
# variants are left out: those codecs are C libraries of the distribution, the same on every
# platform, and the slowest thing to emulate.
SMOKE_TESTS=(
  tests/core/test_round_trip.py
  tests/core/test_cli.py
  tests/fixtures_gen/test_determinism.py::test_pinned_digests
  tests/pi/test_wide_offsets.py
  tests/pi/test_time_t.py
  tests/reliability/test_helper_processes.py
  tests/reliability/test_zip_helper_processes.py
)
FULL_TESTS=(
  "${SMOKE_TESTS[@]}"
  tests/core/test_api_contract.py
  tests/extract/test_safety.py
  tests/codecs/test_gzip_index.py
  tests/codecs/test_zip_writer.py
)
DESELECT="not xz and not bz2 and not property and not zip64_by_entry_count and not large_segment and not many_threads"

say "python $($PY -c 'import platform, sys; print(platform.python_version(), platform.machine(), f"maxsize=2**{sys.maxsize.bit_length()}-1")')"
say "pip install . (the library alone, standard library only)"
$PY -m pip install -q "$SRC" || fail "pip install . failed"
$PY -c 'import archive_parallel, sys; assert "/src/" not in archive_parallel.__file__, archive_parallel.__file__' ||
  fail "the tests would not use the installed package"

if [ "$mode" = smoke ]; then tests=("${SMOKE_TESTS[@]}"); else tests=("${FULL_TESTS[@]}"); fi
say "pytest: ${#tests[@]} groups"
set +e
$PY -m pytest -q -p no:cacheprovider -c "$SRC/pyproject.toml" --rootdir "$SRC" -o timeout=900 \
  -k "$DESELECT" "${tests[@]/#/$SRC/}" 2>&1 | tee "$work/pytest.log" | tail -n 25 >&2
pytest_status=${PIPESTATUS[0]}
set -e
counts=$(grep -E '^[0-9]+ (passed|failed)|^=+ .*(passed|failed)' "$work/pytest.log" | tail -1 |
  sed -E 's/^=+ //; s/ in [0-9.]+s.*//; s/ =+$//')
[ "$pytest_status" = 0 ] || fail "pytest: ${counts:-exit $pytest_status}"

say "fixture digests and the x86-64 archives"
digests=$($PY "$SRC/tests/pi/crosscheck.py" digests "$XFER/digests.json") || fail "$digests"
cross=$($PY "$SRC/tests/pi/crosscheck.py" check "$XFER/from-host") ||
  fail "x86-64 archives do not extract identically here: $cross"
$PY "$SRC/tests/pi/crosscheck.py" make "$XFER/from-guest" || fail "could not make the $arch archives"
summary="tests $counts; $digests (x86-64's); x86-64 archives: $cross here"

if [ "$mode" = full ]; then
  if [ "$arch" = arm64 ]; then extras="bench,report"; else extras="bench"; fi
  say "pip install .[$extras]"
  $PY -m pip install -q "$SRC[$extras]" || fail "pip install .[$extras] failed"
  for module in pandas matplotlib jinja2; do
    if [ "$extras" = bench ] && $PY -c "import $module" 2>/dev/null; then
      fail "the bench extra pulled in $module"
    fi
  done
  say "bench sweep"
  rm -rf "$XFER/results"
  run_dir=$($PY -m bench run --quick --new --no-progress --results "$XFER/results" \
    --operations create,extract --formats tar.gz,zip --workloads small:0.02 --threads 2 \
    --no-reference --no-pigz --processes 1 --values 2 --warmups 0 --loops 1 | tail -1) ||
    fail "the bench sweep failed"
  cells=$($PY - "$run_dir" <<'EOF'
import json, sys
from pathlib import Path
run = Path(sys.argv[1])
records = [json.loads(line) for line in (run / "cells.jsonl").read_text().splitlines() if line]
fingerprint = json.loads((run / "fingerprint.json").read_text())
sources = sorted({r.get("memory_source") or "none" for r in records if r["variant"] != "pigz"})
valid = sum(1 for r in records if r.get("valid"))
emulated = fingerprint.get("emulated")
assert emulated, f"the fingerprint does not say emulated: {fingerprint.get('emulation')}"
assert valid == len(records), f"{len(records) - valid} invalid cells"
print(f"{valid} cells, memory {'+'.join(sources)}, labelled emulated")
EOF
  ) || fail "sweep results: $cells"
  summary="$summary; sweep $cells"
  if [ "$arch" = armhf ]; then
    case $cells in *rusage*) ;; *) fail "armhf sweep did not use the RSS fallback: $cells" ;; esac
  fi
  if [ "$arch" = arm64 ]; then
    say "report"
    $PY -m bench report "$XFER/results" -o "$XFER/results/report.html" -q >/dev/null ||
      fail "the report failed"
    summary="$summary; report $XFER/results/report.html"
  fi
fi
echo "$summary" >"$XFER/summary"
