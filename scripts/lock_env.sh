#!/usr/bin/env bash
# Re-resolve envs/requirements.in into envs/requirements.lock in a scratch venv.
# torch stays at 2.13.0 (installed first); finn-plus is added with --no-deps because its
# brevitas==0.13.0 pin does not work with torch 2.13 (brevitas 0.13.4 does).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3.11 -m venv "$tmp/venv"
pip=("$tmp/venv/bin/python" -m pip --disable-pip-version-check -q)
"${pip[@]}" install torch==2.13.0
"${pip[@]}" install -r envs/requirements.in
"${pip[@]}" install --no-deps finn-plus==1.6.1
{
  echo "# Fully pinned environment (Python 3.11, x86_64), installed with pip --no-deps after torch==2.13.0."
  echo "# Regenerate with scripts/lock_env.sh; see envs/README.md for why."
  "$tmp/venv/bin/python" -m pip freeze --all | grep -vE '^(torch|pip)==|^-e '
} > envs/requirements.lock.tmp
mv envs/requirements.lock.tmp envs/requirements.lock
echo "wrote envs/requirements.lock"
