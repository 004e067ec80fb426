"""Dense-vs-sparse comparisons: which models are paired, which configurations fit, which is best.

Pairing rule (no config key needed): a model whose name starts with ``dense`` is a dense
baseline. Every other model is compared with

1. ``dense<suffix>``, where ``<suffix>`` is what follows the last ``sparse`` in its name
   (``sparse`` -> ``dense``, ``sparse-cnn`` and ``super-sparse-cnn`` -> ``dense-cnn``), if that
   model exists; otherwise
2. the only dense model of the same ``family`` in the config, if there is exactly one.

Models with no baseline are drawn in the figures but get no speed-up.

A *configuration* is one row of the throughput table: a model on a platform as a single
network (at a batch size) or as a full chip of ``networks`` copies. Where the compile stage's
fit check says a model does not fit a board, its estimated configurations on that board are
kept with throughput 0 and ``fits`` False (never dropped), and a full-chip row of 0 networks
is added so that "does not fit" is visible in every table and figure.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

DENSE_PREFIX = "dense"
SPARSE_MARK = "sparse"
FIT_COLUMNS = ["model", "platform", "fits", "networks_per_chip", "binding_resource", "binding_utilisation", "budget"]


def is_dense(model: str) -> bool:
    return model.startswith(DENSE_PREFIX)


def model_pairs(models: Mapping[str, Mapping[str, Any]] | Iterable[str]) -> list[tuple[str, str]]:
    """``(dense, other)`` pairs by the module's pairing rule, in config order of the other model."""
    entries = dict(models) if isinstance(models, Mapping) else {name: {} for name in models}
    dense = [m for m in entries if is_dense(m)]
    pairs = []
    for model in entries:
        if is_dense(model):
            continue
        baseline = None
        if SPARSE_MARK in model:
            candidate = DENSE_PREFIX + model.rsplit(SPARSE_MARK, 1)[1]
            baseline = candidate if candidate in entries else None
        if baseline is None:
            family = (entries[model] or {}).get("family")
            same = [d for d in dense if (entries[d] or {}).get("family") == family]
            baseline = same[0] if len(same) == 1 else None
        if baseline is not None:
            pairs.append((baseline, model))
    return pairs


def pair_label(pair: tuple[str, str]) -> str:
    return f"{pair[1]} vs {pair[0]}"


def fit_status(estimates: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per (model, board) estimate: does one network fit, and how many fit a chip (binding
    resource and its utilisation: the full-chip design's where the search made one)."""
    rows = []
    for est in estimates:
        if "fit" not in est:  # FINN could not build the model: no estimate to fit (see skipped.csv)
            continue
        fit = est["fit"]
        chip = est.get("full_chip") or fit  # what bounds the networks per chip: the full-chip design's
        binding = chip["binding_resource"]
        rows.append({"model": est["model"], "platform": est["board"], "fits": bool(fit["fits"]),
                     "networks_per_chip": int(est.get("networks_per_chip") or 0), "binding_resource": binding,
                     "binding_utilisation": chip["utilisation"].get(binding), "budget": fit["budget"][binding]})
    return pd.DataFrame(rows, columns=FIT_COLUMNS)


def configurations(throughput: pd.DataFrame, fits: pd.DataFrame | None = None) -> pd.DataFrame:
    """The throughput table with fit information; models that do not fit get throughput 0.

    Adds columns ``fits`` (True where nothing says otherwise), ``binding_resource``,
    ``binding_utilisation`` and ``fit_note``. Estimated rows of a (model, board) that does not
    fit get throughput 0 and 0 networks; a full-chip row of 0 networks is added where missing.
    """
    table = throughput.copy()
    table["fits"] = True
    table["binding_resource"] = ""
    table["binding_utilisation"] = np.nan
    table["fit_note"] = ""
    if fits is None or fits.empty:
        return table
    extra = []
    for fit in fits.itertuples(index=False):
        here = (table["model"] == fit.model) & (table["platform"] == fit.platform)
        estimated = here & (table["source"] == "estimated")
        table.loc[here, "binding_resource"] = fit.binding_resource
        table.loc[here, "binding_utilisation"] = fit.binding_utilisation
        if fit.fits:
            continue
        util = fit.binding_utilisation
        note = (f"does not fit: {fit.binding_resource} at "
                f"{'unknown' if util is None else f'{100 * util:.0f} %'} of the board "
                f"(budget {100 * fit.budget:.0f} %)")
        table.loc[estimated, ["fits", "fit_note"]] = [False, note]
        table.loc[estimated, "throughput_words_per_s"] = 0.0
        table.loc[estimated & (table["scope"] == "full chip"), "networks"] = 0
        if not (estimated & (table["scope"] == "full chip")).any():
            template = table.loc[estimated].iloc[0].to_dict() if estimated.any() else {
                "model": fit.model, "platform": fit.platform, "source": "estimated", "method": "fit check",
                "batch_size": 1}
            extra.append({**template, "scope": "full chip", "networks": 0, "throughput_words_per_s": 0.0,
                          "fits": False, "fit_note": note, "binding_resource": fit.binding_resource,
                          "binding_utilisation": util})
    if extra:
        table = pd.concat([table, pd.DataFrame(extra)], ignore_index=True)
    return table


#: how close a row's source is to a board run, best first (a simulation runs the real RTL; an estimate models it)
SOURCE_RANK = {"measured": 0, "simulated": 1, "estimated": 2}


def by_source(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` sorted measured first, then simulated, then estimated; the fastest first within each."""
    rank = rows["source"].map(SOURCE_RANK).fillna(len(SOURCE_RANK))
    return rows.assign(_rank=rank).sort_values(["_rank", "throughput_words_per_s"], ascending=[True, False],
                                                kind="stable").drop(columns="_rank")


def best_configuration(config_table: pd.DataFrame) -> pd.DataFrame:
    """Per (model, platform) the configuration with the highest throughput.

    Each configuration (scope and batch size) counts at its best source (``by_source``: measured,
    then simulated, then estimated); measured configurations are preferred to the others on the same
    platform; a model that fits nowhere on a board keeps a row of throughput 0.
    """
    keys = ["model", "platform", "scope", "batch_size"]
    table = by_source(config_table).groupby(keys, dropna=False, sort=False).head(1)
    table = table.assign(_measured=table["source"] == "measured")
    table = table.sort_values(["model", "platform", "_measured", "throughput_words_per_s", "networks"],
                              ascending=[True, True, False, False, False], kind="stable")
    return table.groupby(["model", "platform"], sort=True).head(1).drop(columns="_measured").reset_index(drop=True)


def configuration_label(row: Mapping[str, Any]) -> str:
    """Short text for a configuration: '4 networks (full chip)', 'single network, batch 8'."""
    if row["scope"] == "full chip":
        n = int(row["networks"]) if pd.notna(row["networks"]) else 0
        return f"{n} network{'s' if n != 1 else ''} (full chip)"
    batch = row.get("batch_size")
    return "single network" + (f", batch {int(batch)}" if pd.notna(batch) and int(batch) != 1 else "")


def source_text(rows: Iterable[Mapping[str, Any]]) -> str:
    """'measured (method)' / 'estimated (method)' for each distinct source of ``rows``."""
    parts = dict.fromkeys(f"{r['source']} ({r['method']})" for r in rows)
    return " / ".join(parts)
