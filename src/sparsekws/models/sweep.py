"""The sparsity sweep: a grid of variants of one model entry, added to the config's ``models``.

``sweep.base`` names the model to vary; every pair of ``weight_density_scale`` x
``activation_density_scale`` factors gives one variant whose weight densities (every layer's)
and k-WTA activation densities are the base's times the factors, capped at 1. The (1, 1) point
is the base itself and is not duplicated. A layer with ``complementary_kernels`` packs of N keeps
the largest pack size dividing N whose kernels' non-zeros still fit side by side (pack x density
<= 1). Variants are named ``<base>-w<f>x-a<g>x``, inherit the
base's ``train.per_model`` overrides, and have ``hardware: false``: they are trained, evaluated
and exported (accuracy vs MACs), but not compiled or measured.
"""

from __future__ import annotations

import copy
from typing import Any

from sparsekws.core.errors import ConfigError
from sparsekws.models.spec import family


def variant_name(base: str, weight_scale: float, activation_scale: float) -> str:
    return f"{base}-w{weight_scale:g}x-a{activation_scale:g}x"


def _scaled(value: float | list[float], factor: float) -> float | list[float]:
    if isinstance(value, list):
        return [min(1.0, v * factor) for v in value]
    return min(1.0, value * factor)


def _packs(entry: dict[str, Any]) -> dict[str, int]:
    """``entry``'s complementary packs, each cut to the largest divisor of its size that its layer's
    density leaves room for (weight layers: the convolutions, then the hidden linear layer)."""
    densities = [*entry.get("conv_weight_density", []), entry.get("linear_weight_density", 1.0)]
    packs = {}
    for index, size in (entry.get("complementary_kernels") or {}).items():
        density = densities[int(index)] if int(index) < len(densities) else 1.0
        packs[index] = max(d for d in range(1, size + 1) if size % d == 0 and d * density <= 1.0)
    return packs


def variants(base_name: str, base: dict[str, Any], weight_scales: list[float],
             activation_scales: list[float]) -> dict[str, dict[str, Any]]:
    """The sweep's model entries by name (the base's own point left out)."""
    keys = family(base)
    if activation_scales != [1.0] and not (keys.activation_density_keys and base.get("kwinners")):
        raise ConfigError(f"config key 'sweep.activation_density_scale' needs a base with k-WTA activations; "
                          f"model '{base_name}' has none (use a cnn with kwinners: true, or [1.0])")
    entries = {}
    for weight_scale in weight_scales:
        for activation_scale in activation_scales:
            if weight_scale == 1.0 and activation_scale == 1.0:
                continue
            entry = copy.deepcopy(base)
            entry["hardware"] = False
            for key in keys.weight_density_keys:
                entry[key] = _scaled(entry[key], weight_scale)
            if activation_scale != 1.0:
                for key in keys.activation_density_keys:
                    entry[key] = _scaled(entry[key], activation_scale)
            if entry.get("complementary_kernels"):
                entry["complementary_kernels"] = _packs(entry)
            entries[variant_name(base_name, weight_scale, activation_scale)] = entry
    return entries


def expand_sweep(config: dict[str, Any]) -> dict[str, Any]:
    """Add the sweep's variants to ``config['models']`` (in place; idempotent) and return it."""
    sweep = config.get("sweep") or {}
    base_name = sweep.get("base")
    if base_name is None:
        return config
    models = config["models"]
    if base_name not in models:
        raise ConfigError(f"config key 'sweep.base' names unknown model '{base_name}'; "
                          f"the config defines: {', '.join(sorted(models))}")
    generated = variants(base_name, models[base_name], list(sweep["weight_density_scale"]),
                         list(sweep["activation_density_scale"]))
    per_model = config.get("train", {}).get("per_model", {})
    for name, entry in generated.items():
        if name in models and models[name] != entry:
            raise ConfigError(f"config key 'models.{name}' clashes with a sweep variant of the same name; "
                              "rename the model")
        models[name] = entry
        if base_name in per_model:
            per_model.setdefault(name, copy.deepcopy(per_model[base_name]))
    return config
