"""The FPGA designs side by side, per board: FINN's stock dense, our tuned dense, the sparse model.

The host platforms (``HOST_PLATFORMS``: CPU, CUDA) are measured with software backends; every other
platform is an FPGA board. For a dense/sparse pair and a scope (``single network`` or ``full
chip``), ``fpga_designs`` gives one row per (board, design) in ``DESIGNS`` order:

- ``FINN stock dense``: the compile stage's stock-settings design of the dense model
  (``stock_designs``; estimated);
- ``tuned dense`` and ``sparse``: the pair's configuration on that board and scope, the one closest
  to a board run first (measured, then simulated, then estimated: ``comparison.by_source``).

A design that does not fit has 0 words/s and ``fits`` False. ``ratio_to`` gives the sparse design's
words/s over a dense one (empty where that one has none).
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

import pandas as pd

from sparsekws.figures.comparison import by_source

HOST_PLATFORMS = ("cpu", "cuda")
STOCK, TUNED, SPARSE = "FINN stock dense", "tuned dense", "sparse"
DESIGNS = (STOCK, TUNED, SPARSE)
STOCK_METHOD = "compile stage, FINN's stock folding settings"
DESIGN_COLUMNS = ["board", "design", "model", "scope", "words_per_s", "networks", "source", "method", "fits",
                  "binding_resource"]


def stock_designs(estimates: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], dict[str, float]]:
    """(model, board) -> words/s of the stock FINN design (``single network``, ``full chip``) and its
    networks per chip, from the compile stage's estimate records."""
    designs = {}
    for est in estimates:
        stock = est.get("stock") or {}
        if stock:
            designs[est["model"], est["board"]] = {
                "single network": float(stock["fps"]) if stock.get("fits") else 0.0,
                "full chip": float(stock.get("full_chip_fps") or 0.0) if stock.get("networks_per_chip") else 0.0,
                "networks": int(stock.get("networks_per_chip") or 0),
                "binding_resource": stock.get("binding_resource") or ""}
    return designs


def fpga_boards(configs: pd.DataFrame, models: Iterable[str]) -> list[str]:
    """The FPGA boards on which any of ``models`` has a configuration, sorted."""
    rows = configs[configs["model"].isin(list(models)) & ~configs["platform"].isin(HOST_PLATFORMS)]
    return sorted(rows["platform"].unique())


def first_fpga_pair(configs: pd.DataFrame, pairs: list[tuple[str, str]]) -> tuple[str, str] | None:
    """The first of ``pairs`` with a configuration on an FPGA board (the pair Graphs 1 and 3 and Table 1 show)."""
    return next((pair for pair in pairs if fpga_boards(configs, pair)), None)


def _configured(configs: pd.DataFrame, model: str, board: str, scope: str, design: str) -> dict[str, Any] | None:
    here = configs[(configs["model"] == model) & (configs["platform"] == board)]
    rows = here[here["scope"] == scope]
    if rows.empty:  # a model that does not fit the board may have a full-chip row of 0 networks only
        rows = here[~here.get("fits", pd.Series(True, index=here.index)).astype(bool)].assign(scope=scope)
    if rows.empty:
        return None
    row = by_source(rows).iloc[0].to_dict()
    words = float(row["throughput_words_per_s"])
    fits = bool(row.get("fits", True)) and words > 0
    networks = row.get("networks")
    return {"board": board, "design": design, "model": model, "scope": scope, "words_per_s": words,
            "networks": int(networks) if pd.notna(networks) else (1 if fits else 0), "source": row["source"],
            "method": row.get("method") or "", "fits": fits, "binding_resource": row.get("binding_resource") or ""}


def fpga_designs(configs: pd.DataFrame, pair: tuple[str, str], stock: Mapping[tuple[str, str], Mapping[str, Any]],
                 scope: str) -> pd.DataFrame:
    """One row per (board, design) of ``pair`` = (dense, sparse) at ``scope``; see the module docstring."""
    dense, sparse = pair
    rows = []
    for board in fpga_boards(configs, pair):
        base = stock.get((dense, board))
        if base is not None:
            words = float(base[scope])
            rows.append({"board": board, "design": STOCK, "model": dense, "scope": scope, "words_per_s": words,
                         "networks": base["networks"] if scope == "full chip" else int(words > 0),
                         "source": "estimated", "method": STOCK_METHOD, "fits": words > 0, "binding_resource": base["binding_resource"]})
        rows += [row for row in (_configured(configs, dense, board, scope, TUNED),
                                 _configured(configs, sparse, board, scope, SPARSE)) if row]
    return pd.DataFrame(rows, columns=DESIGN_COLUMNS)


def ratio_to(designs: pd.DataFrame, board: str, design: str) -> float:
    """The sparse design's words/s over ``design``'s on ``board`` (NaN where either is missing or 0)."""
    here = designs[designs["board"] == board].set_index("design")["words_per_s"]
    if SPARSE not in here or design not in here or not here[design] > 0:
        return math.nan
    return float(here[SPARSE] / here[design])
