"""Test tooling (not part of the library): the checkout's paths and configs, fixtures' helpers,
workflow runs side by side (``workflow_runs``) and a single-node SLURM cluster (``slurm_cluster``)."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = REPO_ROOT / "config"
SCHEMA = REPO_ROOT / "workflow" / "schemas" / "config.schema.yaml"
BOARDS_DIR = CONFIG_DIR / "boards"
CALIBRATION_FACTORS = CONFIG_DIR / "calibration" / "factors.json"
YOSYS_TABLE = CONFIG_DIR / "calibration" / "yosys_units.csv"


def named_config(name: str) -> dict:
    """``config/<name>`` validated as the workflow validates it (defaults filled, sweep and ablation models added)."""
    from sparsekws.core.config import load_config
    from sparsekws.models.variants import expand_variants

    return expand_variants(load_config(CONFIG_DIR / name, SCHEMA, BOARDS_DIR, root=REPO_ROOT), SCHEMA)


def validated(config: dict) -> dict:
    """``config`` validated in place as the workflow does (defaults filled, sweep and ablation models added)."""
    from sparsekws.core.config import validate_config
    from sparsekws.models.variants import expand_variants

    return expand_variants(validate_config(config, SCHEMA, BOARDS_DIR), SCHEMA)


def board(name: str) -> dict:
    """The board description ``config/boards/<name>.yaml``."""
    from sparsekws.core.config import load_board

    return load_board(BOARDS_DIR / f"{name}.yaml")
