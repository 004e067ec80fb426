#!/usr/bin/env bash
# Set up sparsekws on a fresh Debian machine: system tools, a pinned Python 3.11 venv in .venv.
#
# Strategy (see envs/README.md): torch==2.13.0 first (the local CPU wheel), then every other
# package from the fully pinned envs/requirements.lock with --no-deps, so that finn-plus's
# brevitas==0.13.0 pin cannot pull a different torch. The install is checked by importing
# every stage (python -m sparsekws check-env).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
VENV=${VENV:-.venv}
STAMP="$VENV/.sparsekws-installed"

need_apt=()
while read -r package; do
  dpkg -s "$package" >/dev/null 2>&1 || need_apt+=("$package")
done < <(grep -vE '^\s*(#|$)' envs/apt-packages.txt)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[setup] installing system packages: ${need_apt[*]}"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_apt[@]}" >/dev/null
  else
    echo "[setup] ERROR: missing system packages: ${need_apt[*]}" >&2
    echo "[setup] install them with: sudo apt-get install ${need_apt[*]}" >&2
    exit 1
  fi
fi

if [ -f "$STAMP" ] && cmp -s "$STAMP" envs/requirements.lock; then
  echo "[setup] $VENV is up to date with envs/requirements.lock"
else
  command -v "$PYTHON" >/dev/null 2>&1 || { echo "[setup] ERROR: $PYTHON not found (Python 3.11 is required)" >&2; exit 1; }
  echo "[setup] creating $VENV with $($PYTHON --version)"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  pip=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
  "${pip[@]}" install torch==2.13.0
  "${pip[@]}" install --no-deps -r envs/requirements.lock
  cp envs/requirements.lock "$STAMP"
fi
"$VENV/bin/python" -m pip --disable-pip-version-check -q install --no-deps --no-build-isolation -e .
"$VENV/bin/python" -m sparsekws check-env
