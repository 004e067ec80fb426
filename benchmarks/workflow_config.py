"""The benchmarks' view of the checkout: its root, and a config file validated as the workflow does."""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "src"))

from sparsekws.core.config import load_config  # noqa: E402
from sparsekws.models.sweep import expand_sweep  # noqa: E402


def load(path: str | Path) -> dict:
    """``path`` validated against the workflow's schema and boards, with the sparsity sweep's models."""
    return expand_sweep(load_config(path, REPO_ROOT / "workflow" / "schemas" / "config.schema.yaml",
                                    REPO_ROOT / "config" / "boards"))
