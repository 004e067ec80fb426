"""Model entries a config generates from others: the sparsity sweep (``models.sweep``) and the
training-recipe ablation (``models.ablation``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sparsekws.core.config import validate_config
from sparsekws.models.ablation import expand_ablation
from sparsekws.models.sweep import expand_sweep


def expand_variants(config: dict[str, Any], schema_path: str | Path | None = None) -> dict[str, Any]:
    """Add the sweep's and the ablation's variants to ``config`` (in place; idempotent) and return
    it; with ``schema_path``, check the result like the config's own models (defaults filled)."""
    config = expand_ablation(expand_sweep(config))
    return config if schema_path is None else validate_config(config, schema_path)
