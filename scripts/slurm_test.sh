#!/usr/bin/env bash
# The workflow on a real SLURM cluster: installs Debian's slurm-wlm and munge (apt-get, as root),
# starts munged, slurmctld and slurmd for a single node in a temporary folder, runs the tiny config
# (config/smoke.yaml) through workflow/profiles/slurm, checks the results equal a local run's and
# stops every daemon it started by PID (also on failure or SIGTERM/SIGINT/SIGHUP).
# Usage: scripts/slurm_test.sh [--config FILE] [--work-dir DIR] [--reference DIR] [--no-install]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHONPATH="tests${PYTHONPATH:+:$PYTHONPATH}" exec .venv/bin/python -m support.slurm_cluster "$@"
