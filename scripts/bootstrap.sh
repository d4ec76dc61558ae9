#!/usr/bin/env bash
# Idempotent set-up on a fresh machine: system tools, a virtual environment in .venv with the
# project and its extras. Used by scripts/main.sh and scripts/test.sh; safe to run again.
#   WITH_BROWSER=1  also install what the tests need: a headless Chromium (the report test opens
#                   the report in it), fuse3 (a case-insensitive test file system), bsdtar
#                   and 7-Zip (archives made by other tools)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      PYTHON=$candidate; break
    fi
  done
fi
[ -n "$PYTHON" ] || { echo "bootstrap: Python 3.11 or newer is needed" >&2; exit 1; }

need=()
for tool in tar gzip bzip2 xz zstd unzip zip pigz; do
  command -v "$tool" >/dev/null 2>&1 || need+=("$tool")
done
if [ "${WITH_BROWSER:-0}" = 1 ] && [ "$(uname)" = Linux ] &&
   ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  need+=(chromium)
fi
# the tests read archives made by libarchive's bsdtar and by 7-Zip (each skipped, saying why,
# without it)
if [ "${WITH_BROWSER:-0}" = 1 ]; then
  for tool in bsdtar 7z; do
    command -v "$tool" >/dev/null 2>&1 || need+=("$tool")
  done
fi
# the tests mount a case- and normalisation-folding FUSE file system (skipped, saying why,
# without fusermount3)
if [ "${WITH_BROWSER:-0}" = 1 ] && [ "$(uname)" = Linux ] && ! command -v fusermount3 >/dev/null 2>&1; then
  need+=(fuse3)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "bootstrap: installing system tools: ${need[*]}"
  if command -v apt-get >/dev/null 2>&1; then
    pkgs=()
    for tool in "${need[@]}"; do
      case $tool in
        xz) pkgs+=(xz-utils) ;;
        bsdtar) pkgs+=(libarchive-tools) ;;
        7z) pkgs+=(p7zip-full) ;;
        *) pkgs+=("$tool") ;;
      esac
    done
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
  elif command -v brew >/dev/null 2>&1; then
    brew_pkgs=()
    for tool in "${need[@]}"; do
      case $tool in
        chromium|fuse3|bsdtar) ;;  # macOS has bsdtar as its tar
        7z) brew_pkgs+=(p7zip) ;;
        *) brew_pkgs+=("$tool") ;;
      esac
    done
    [ ${#brew_pkgs[@]} -eq 0 ] || brew install "${brew_pkgs[@]}"
  else
    echo "bootstrap: please install: ${need[*]}" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(cat pyproject.toml | cksum | cut -d' ' -f1)
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[bench,report,dev,fast]"
  rm -f .venv/.installed-*
  touch "$stamp"
fi
