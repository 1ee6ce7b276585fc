#!/usr/bin/env bash
# Install what the browser tests (`pytest -m browser`) need, idempotently:
#   - Debian's chromium at /usr/bin/chromium (apt; needs root or sudo), skipped if present;
#   - Playwright for Python and Voila, the project's `browser` extra (pyproject.toml), into its
#     venv; Playwright drives the system chromium, so no `playwright install` browser download.
# Usage: scripts/install_browser.sh [VENV]   (default .venv; PYTHON=... to name an interpreter)
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${1:-.venv}"
PY="${PYTHON:-$VENV/bin/python}"
CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
  echo "chromium: $("$CHROMIUM" --version 2>/dev/null || echo present) at $CHROMIUM"
else
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "error: $CHROMIUM is missing and installing it needs root (apt-get install chromium)" >&2
    exit 1
  fi
  echo "chromium: installing Debian's package with apt"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core
fi

if [ ! -x "$PY" ]; then
  echo "error: no Python at $PY; run 'make env' first (or pass the venv folder)" >&2
  exit 1
fi
if "$PY" -c "import playwright, voila" 2>/dev/null; then
  echo "playwright and voila: already installed in $VENV"
else
  echo "playwright and voila: installing the project's 'browser' extra into $VENV"
  "$PY" -m pip install --quiet -e '.[browser]'
fi

# The widget app runs on the project's kernel; register it (inside the venv) if missing.
kernels="$("$PY" -m jupyter kernelspec list 2>/dev/null || true)"
if ! grep -q '^ *dijkstra-lab ' <<<"$kernels"; then
  "$PY" -m ipykernel install --sys-prefix --name dijkstra-lab --display-name "Python (dijkstra-lab)"
fi
echo "browser test dependencies ready"
