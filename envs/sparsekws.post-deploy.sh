#!/usr/bin/env bash
# Run by `snakemake --use-conda` inside the new environment, from the workflow's folder: the
# pinned packages exactly as scripts/setup.sh installs them (envs/README.md), then sparsekws.
set -euo pipefail
python -m pip install torch==2.13.0
python -m pip install --no-deps -r envs/requirements.lock
python -m pip install --no-deps --no-build-isolation -e .
