"""The training-recipe ablation: one change at a time from a model's recipe, added to ``models``.

Each row of ``ablation.rows`` is a model name with its ``base`` model, a one-line ``change`` and
what changes: ``model`` (keys of the base's model entry) and ``train`` (training keys, as
``train.per_model`` takes them). The row becomes that model: the base's entry with the ``model``
keys replaced and ``hardware: false`` (trained, evaluated and exported; not compiled or
measured), trained with the base's ``train.per_model`` overrides plus the row's ``train`` keys.
The ablation table (``figures.ablation``) sets each variant against its base over seeds.
"""

from __future__ import annotations

import copy
from typing import Any

from sparsekws.core.errors import ConfigError


def expand_ablation(config: dict[str, Any]) -> dict[str, Any]:
    """Add the ablation's variants to ``config['models']`` and ``train.per_model`` (in place;
    idempotent) and return it."""
    rows = (config.get("ablation") or {}).get("rows") or {}
    models = config["models"]
    per_model = config.setdefault("train", {}).setdefault("per_model", {})
    for name, spec in rows.items():
        base = spec["base"]
        if base not in models:
            raise ConfigError(f"config key 'ablation.rows.{name}.base' names unknown model '{base}'; "
                              f"the config defines: {', '.join(sorted(models))}")
        unknown = sorted(set(spec.get("model", {})) - set(models[base]))
        if unknown:
            raise ConfigError(f"config key 'ablation.rows.{name}.model' changes keys {unknown} that model "
                              f"'{base}' does not have")
        entry = {**copy.deepcopy(models[base]), **copy.deepcopy(spec.get("model", {})), "hardware": False}
        if name in models and models[name] != entry:
            raise ConfigError(f"config key 'models.{name}' clashes with the ablation row of the same name; rename one")
        models[name] = entry
        per_model[name] = {**copy.deepcopy(per_model.get(base, {})), **copy.deepcopy(spec.get("train", {}))}
    return config


def ablation_variants(config: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Variant model name -> {base, change} for every ablation row."""
    rows = (config.get("ablation") or {}).get("rows") or {}
    return {name: {"base": spec["base"], "change": spec["change"]} for name, spec in rows.items()}
