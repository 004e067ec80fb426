"""The benchmarks' view of the checkout: its root, and a config file validated as the workflow does."""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "src"))

from sparsekws.core.config import load_config  # noqa: E402
from sparsekws.models.variants import expand_variants  # noqa: E402

SCHEMA = REPO_ROOT / "workflow" / "schemas" / "config.schema.yaml"


def load(path: str | Path) -> dict:
    """``path`` validated against the workflow's schema and boards, with the sweep's and the ablation's models."""
    return expand_variants(load_config(path, SCHEMA, REPO_ROOT / "config" / "boards"), SCHEMA)
