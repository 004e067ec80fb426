"""Headline numbers computed from this run's data, next to the blog's claims.

The blog's numbers are reference constants (``BLOG_CLAIMS``), each with where it is stated;
ours are computed from the throughput table, the compile stage's fit checks and the models'
test accuracy, never typed in. Where ours cannot be computed (a board not compiled, no power
reading, no dense baseline) ``our_value`` is empty and ``note`` says why.

The blog's boards map to our board files by ``BLOG_BOARDS`` (U250 -> ``u250``,
ZCU104 -> ``zcu104``, ZU3EG -> ``ultra96``). How each claim is computed:

- Graph 1 (50x): best-configuration throughput ratio sparse/dense on U250 (the blog's
  Graph 1 compares its U250 configurations: 20 sparse vs 4 dense networks);
- Graph 2 (5 s): ``race.overtaking_time`` for those two configurations, 5-minute head start;
- Table 1 (10x): single-network throughput ratio on U250;
- Table 1 (20 vs 4): networks per U250 chip from the fit check (``compile`` budget);
- Graph 3 (51.25x): full-chip throughput ratio on U250;
- Graph 3 (dense does not fit a ZU3EG, one sparse does): networks per ZU3EG chip;
- Graph 3 (1.7x): one sparse network on ZU3EG / the dense full chip on U250;
- Graph 4 (26x): energy per word of the most efficient dense configuration over that of the
  sparse full chip on U250 (power / throughput);
- accuracy: mean test accuracy over seeds, sparse minus dense, percentage points (reference:
  the paper);
- weights: non-zero weights sparse/dense (reference: nupic.torch's GSCSparseCNN).

Then the baselines side by side (``baseline_rows``): the sparse CNN's U250 words/s (one network,
full chip) over each dense baseline — our tuned dense design, FINN's stock dense design (the compile
stage's ``stock`` search, ``designs.stock_designs``) and Numenta's reported dense (``NUMENTA_REPORTED``,
labelled as reported; its ``blog_value`` is Numenta's own sparse-sparse ratio to it) — and over
Numenta's reported sparse-sparse designs (U250, ZU3EG). Per-platform speed-ups (every platform of
this run) follow, without a blog value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from sparsekws.core.stats import difference_of_summaries
from sparsekws.figures.comparison import by_source, pair_label, source_text
from sparsekws.figures.designs import STOCK_METHOD
from sparsekws.figures.race import HEAD_START_S, overtaking_time

BLOG = ("Numenta blog 'How Sparsity Enables Energy Efficient Deep Learning Networks' "
        "(numenta.com)")
NUPIC = "nupic.torch GSCSparseCNN: about 194k non-zero weights vs about 1.72M dense parameters"
PAPER = "Ahmad & Scheinkman, 'How Can We Be So Dense?' (arXiv 1903.11257), GSC test accuracy, 10 seeds"
BLOG_BOARDS = {"U250": "u250", "ZCU104": "zcu104", "ZU3EG": "ultra96"}
NUMENTA = ("Hunter, Spracklen & Ahmad, 'Two Sparsities Are Better Than One' (arXiv 2112.13896), GSC at 8 bits, "
           "as summarised in a secondary source")
#: Numenta's reported GSC words/s by (design, board, scope), and networks per U250 of its full chips
NUMENTA_NETWORKS = {"dense": 4, "sparse weights": 24, "sparse-sparse": 20}
NUMENTA_REPORTED = {
    ("dense", "U250", "single network"): 3_049.0, ("sparse weights", "U250", "single network"): 35_714.0,
    ("sparse-sparse", "U250", "single network"): 102_564.0,
    ("dense", "ZU3EG", "single network"): 0.0,  # does not fit
    ("sparse weights", "ZU3EG", "single network"): 21_053.0, ("sparse-sparse", "ZU3EG", "single network"): 45_455.0,
    ("dense", "U250", "full chip"): 12_195.0, ("sparse weights", "U250", "full chip"): 689_655.0,
    ("sparse-sparse", "U250", "full chip"): 1_369_863.0,
}
HEADLINE_COLUMNS = ["comparison", "claim", "blog_value", "our_value", "unit", "source", "note", "reference"]


@dataclass(frozen=True)
class Claim:
    key: str
    text: str
    blog_value: float
    unit: str
    reference: str


BLOG_CLAIMS = (
    Claim("graph1", "Graph 1: throughput sparse/dense on the Alveo U250", 50.0, "x", f"{BLOG}, Graph 1"),
    Claim("graph2", "Graph 2: sparse overtakes dense (5-minute head start, U250) after", 5.0, "s", f"{BLOG}, Graph 2"),
    Claim("single", "Table 1: one sparse network / one dense network, U250", 10.0, "x", f"{BLOG}, Table 1"),
    Claim("sparse_per_u250", "Table 1: sparse networks per U250", 20.0, "networks", f"{BLOG}, Table 1"),
    Claim("dense_per_u250", "Table 1: dense networks per U250", 4.0, "networks", f"{BLOG}, Table 1"),
    Claim("full_chip", "Graph 3: full-chip speed-up sparse/dense on the U250", 51.25, "x", f"{BLOG}, Graph 3"),
    Claim("dense_per_zu3eg", "Graph 3: dense networks per ZU3EG (does not fit)", 0.0, "networks", f"{BLOG}, Graph 3"),
    Claim("sparse_per_zu3eg", "Graph 3: sparse networks per ZU3EG", 1.0, "networks", f"{BLOG}, Graph 3"),
    Claim("zu3eg_vs_u250", "Graph 3: one sparse network on ZU3EG / four dense networks on U250", 1.7, "x",
          f"{BLOG}, Graph 3"),
    Claim("energy", "Graph 4: energy per word, most efficient dense configuration / sparse U250 full chip", 26.0,
          "x", f"{BLOG}, Graph 4"),
    Claim("accuracy", "test accuracy sparse minus dense (mean over seeds)", round(96.65 - 96.37, 2), "pp", PAPER),
    Claim("weights", "non-zero weights sparse / dense", 194 / 1720, "x", NUPIC),
)


class _Data:
    """Lookups over one pair's configurations."""

    def __init__(self, configs: pd.DataFrame, best: pd.DataFrame, dense: str, sparse: str):
        self.configs, self.best, self.dense, self.sparse = configs, best, dense, sparse
        self.platforms = set(configs["platform"])

    def missing_board(self, board: str) -> str | None:
        if board not in self.platforms:
            return f"board '{board}' is not among this run's platforms (add it to compile.boards)"
        return None

    def row(self, model: str, platform: str, scope: str | None = None) -> dict | None:
        """The best row of ``model`` on ``platform`` (of ``scope`` if given: measured, else simulated, else
        estimated; the fastest of those)."""
        if scope is None:
            rows = self.best[(self.best["model"] == model) & (self.best["platform"] == platform)]
        else:
            rows = self.configs[(self.configs["model"] == model) & (self.configs["platform"] == platform)
                                & (self.configs["scope"] == scope)]
            rows = by_source(rows)
        return rows.iloc[0].to_dict() if len(rows) else None


def _result(value: float, rows: list[dict], note: str = "") -> dict[str, Any]:
    return {"our_value": value, "source": source_text(rows), "note": note}


def _missing(note: str) -> dict[str, Any]:
    return {"our_value": np.nan, "source": "", "note": note}


def _ratio(num: dict | None, den: dict | None, what: str) -> dict[str, Any]:
    if num is None or den is None:
        return _missing(f"no {what} configuration for one of the models")
    notes = [f"{r['model']}: {r['fit_note']}" for r in (num, den) if r.get("fit_note")]
    if not den["throughput_words_per_s"] > 0:
        return _missing("; ".join(notes + [f"{den['model']} has no throughput here"]))
    value = num["throughput_words_per_s"] / den["throughput_words_per_s"]
    if (num["source"] == den["source"] == "estimated" and num["throughput_words_per_s"] == den["throughput_words_per_s"]
            and "finn" in str(num["method"]).lower()):
        notes.append("equal estimates: stock FINN does not skip zero weights")
    notes.insert(0, f"{num['model']} {_config(num)} vs {den['model']} {_config(den)}")
    return _result(value, [num, den], "; ".join(notes))


def _config(row: dict) -> str:
    if row["scope"] == "full chip":
        return f"({int(row['networks'])} networks)"
    batch = row.get("batch_size")
    return "(single network" + (f", batch {int(batch)})" if pd.notna(batch) and int(batch) != 1 else ")")


def _networks(data: _Data, model: str, board: str) -> dict[str, Any]:
    missing = data.missing_board(board)
    if missing:
        return _missing(missing)
    row = data.row(model, board, "full chip")
    if row is None:
        return _missing(f"no full-chip configuration of {model} on {board}")
    note = row.get("fit_note") or (f"binding resource {row['binding_resource']}" if row.get("binding_resource") else "")
    return _result(float(row["networks"]), [row], note)


def _energy(data: _Data, u250: str) -> dict[str, Any]:
    rows = data.configs[data.configs["model"].isin([data.dense, data.sparse])]
    energy = rows["power_w"] / rows["throughput_words_per_s"].replace(0, np.nan)
    if "energy_per_word_j" in rows:
        energy = rows["energy_per_word_j"].fillna(energy)
    rows = rows.assign(_energy=energy)
    with_power = rows[rows["_energy"].notna()]
    if with_power.empty:
        seen = ", ".join(f"{p} ({s})" for p, s in sorted(set(zip(rows["platform"], rows["source"]))))
        return _missing(f"no power reading: power_w is empty for every configuration of both models ({seen})")
    dense = with_power[with_power["model"] == data.dense]
    sparse = with_power[(with_power["model"] == data.sparse) & (with_power["platform"] == u250)
                        & (with_power["scope"] == "full chip")]
    if dense.empty or sparse.empty:
        return _missing(f"no power reading for {'the dense model' if dense.empty else f'{data.sparse} full chip on {u250}'}")
    d = dense.sort_values("_energy").iloc[0].to_dict()
    s = sparse.iloc[0].to_dict()
    return _result(d["_energy"] / s["_energy"], [d, s], f"dense: {d['platform']} {_config(d)}")


def _accuracy_text(model: str, summary: Mapping[str, Any]) -> str:
    """``model 85.21 % [83.10, 87.32] (3 seeds)``: the mean test accuracy and its 95 % interval."""
    if summary["n"] < 2:
        return f"{model} {100 * summary['mean']:.2f} % (one seed)"
    return (f"{model} {100 * summary['mean']:.2f} % [{100 * summary['ci_low']:.2f}, {100 * summary['ci_high']:.2f}] "
            f"({summary['n']} seeds)")


def claim_values(claim: Claim, data: _Data, accuracy: Mapping[str, Mapping[str, Any]], head_start_s: float,
                 nonzero_weights: Mapping[str, float] | None = None) -> dict[str, Any]:
    """Our value of one blog claim for one (dense, sparse) pair."""
    u250, zu3eg = BLOG_BOARDS["U250"], BLOG_BOARDS["ZU3EG"]
    d, s = data.dense, data.sparse
    if claim.key == "weights":
        nonzero = nonzero_weights or {}
        if d not in nonzero or s not in nonzero:
            return _missing("non-zero weight count missing for one of the models (metrics.json)")
        return {"our_value": nonzero[s] / nonzero[d], "source": "counted (quantised exported weights)",
                "note": f"{s} {nonzero[s]:,.0f}, {d} {nonzero[d]:,.0f} non-zero weights"}
    if claim.key == "accuracy":
        if d not in accuracy or s not in accuracy:
            return _missing("test accuracy missing for one of the models (metrics.json)")
        gap = difference_of_summaries(accuracy[d], accuracy[s])
        return {"our_value": 100 * gap["difference"], "source": "measured (held-out test split)",
                "note": f"{_accuracy_text(s, accuracy[s])}, {_accuracy_text(d, accuracy[d])}"
                        + ("" if gap["ci_low"] is None else
                           f"; difference 95 % CI [{100 * gap['ci_low']:.2f}, {100 * gap['ci_high']:.2f}] pp (Welch)")}
    if claim.key == "energy":
        return _energy(data, u250)
    if claim.key in ("sparse_per_u250", "dense_per_u250"):
        return _networks(data, s if claim.key.startswith("sparse") else d, u250)
    if claim.key in ("sparse_per_zu3eg", "dense_per_zu3eg"):
        return _networks(data, s if claim.key.startswith("sparse") else d, zu3eg)
    if claim.key == "zu3eg_vs_u250":
        missing = data.missing_board(zu3eg) or data.missing_board(u250)
        return _missing(missing) if missing else _ratio(data.row(s, zu3eg, "single network"),
                                                         data.row(d, u250, "full chip"), "ZU3EG/U250")
    missing = data.missing_board(u250)
    if missing:
        return _missing(missing)
    if claim.key == "graph1":
        return _ratio(data.row(s, u250), data.row(d, u250), "U250")
    if claim.key == "single":
        return _ratio(data.row(s, u250, "single network"), data.row(d, u250, "single network"), "single-network")
    if claim.key == "full_chip":
        return _ratio(data.row(s, u250, "full chip"), data.row(d, u250, "full chip"), "full-chip")
    if claim.key == "graph2":
        dr, sr = data.row(d, u250), data.row(s, u250)
        if dr is None or sr is None:
            return _missing("no U250 configuration for one of the models")
        tau = overtaking_time(dr["throughput_words_per_s"], sr["throughput_words_per_s"], head_start_s)
        if not math.isfinite(tau):
            return {**_result(np.nan, [dr, sr]), "note": "sparse never overtakes: not faster than dense on the U250"}
        return _result(tau, [dr, sr], f"exact: head start x dense / (sparse - dense), head start {head_start_s:g} s")
    raise KeyError(claim.key)


def _design(model: str, words_per_s: float, networks: int, scope: str, source: str, method: str) -> dict[str, Any]:
    """A baseline design as a configuration row (the columns ``_ratio`` reads)."""
    return {"model": model, "throughput_words_per_s": words_per_s, "networks": networks if scope == "full chip" else 1,
            "scope": scope, "source": source, "method": method}


def _reported(design: str, board: str, scope: str) -> dict[str, Any]:
    return _design(f"Numenta's {design}", NUMENTA_REPORTED[design, board, scope], NUMENTA_NETWORKS[design], scope,
                   "reported", NUMENTA)


def _stock(data: _Data, stock: Mapping[tuple[str, str], Mapping[str, float]], board: str, scope: str) -> dict | None:
    design = stock.get((data.dense, board))
    if design is None:
        return None
    return _design(f"{data.dense} (stock FINN)", design[scope], design["networks"], scope, "estimated", STOCK_METHOD)


def baseline_rows(data: _Data, stock: Mapping[tuple[str, str], Mapping[str, float]]) -> list[dict[str, Any]]:
    """The sparse model on the U250 over each dense baseline, and over Numenta's reported sparse-sparse designs."""
    u250, zu3eg = BLOG_BOARDS["U250"], BLOG_BOARDS["ZU3EG"]
    if data.missing_board(u250):
        return []
    rows = []
    for scope, label in (("single network", "one network"), ("full chip", "full chip")):
        sparse = data.row(data.sparse, u250, scope)
        paper_ratio = NUMENTA_REPORTED["sparse-sparse", "U250", scope] / NUMENTA_REPORTED["dense", "U250", scope]
        for what, dense, blog_value in (
                ("our tuned dense", data.row(data.dense, u250, scope), np.nan),
                ("FINN's stock dense", _stock(data, stock, u250, scope), np.nan),
                ("Numenta's reported dense", _reported("dense", "U250", scope), paper_ratio),
                ("Numenta's reported sparse-sparse", _reported("sparse-sparse", "U250", scope), np.nan)):
            rows.append({"claim": f"U250 {label}: sparse / {what}", "blog_value": blog_value, "unit": "x",
                         "reference": NUMENTA if "Numenta" in what else "", **_ratio(sparse, dense, f"U250 {label}")})
    if not data.missing_board(zu3eg):
        rows.append({"claim": "ZU3EG one network: sparse / Numenta's reported sparse-sparse", "blog_value": np.nan,
                     "unit": "x", "reference": NUMENTA,
                     **_ratio(data.row(data.sparse, zu3eg, "single network"),
                              _reported("sparse-sparse", "ZU3EG", "single network"), "ZU3EG one network")})
    return rows


def platform_rows(data: _Data) -> list[dict[str, Any]]:
    """Speed-ups sparse/dense on every platform of this run, per configuration kind."""
    rows = []
    for platform in sorted(data.platforms):
        for scope, label in (("single network", "single-network"), ("full chip", "full-chip")):
            here = data.configs[(data.configs["platform"] == platform) & (data.configs["scope"] == scope)]
            here = here.assign(backend=here["backend"].fillna("") if "backend" in here else "")
            if scope == "single network":
                keys = sorted(set(zip(here.loc[here["model"] == data.dense, "backend"],
                                      here.loc[here["model"] == data.dense, "batch_size"])))
            else:
                keys = [("", None)]
            for backend, batch in keys:
                pick = here if batch is None else here[(here["batch_size"] == batch) & (here["backend"] == backend)]
                d = pick[pick["model"] == data.dense]
                s = pick[pick["model"] == data.sparse]
                if d.empty and s.empty:
                    continue
                where = (f"{platform}" + (f" ({backend})" if backend else "")
                         + (f", batch {int(batch)}" if batch is not None and batch != 1 else ""))
                values = _ratio(s.iloc[0].to_dict() if len(s) else None, d.iloc[0].to_dict() if len(d) else None,
                                label)
                rows.append({"claim": f"{label} speed-up sparse/dense on {where}", "blog_value": np.nan,
                             "unit": "x", "reference": "", **values})
    return rows


def headline_table(configs: pd.DataFrame, best: pd.DataFrame, pairs: list[tuple[str, str]],
                   accuracy: Mapping[str, Mapping[str, Any]], head_start_s: float = HEAD_START_S,
                   nonzero_weights: Mapping[str, float] | None = None,
                   stock: Mapping[tuple[str, str], Mapping[str, float]] | None = None) -> pd.DataFrame:
    """The comparison table: blog claims with our values, the baselines side by side, then
    per-platform speed-ups, per pair. ``accuracy``: per model the test accuracy over seeds
    (``core.stats.confidence_summary``); ``stock``: ``stock_designs`` of the compile stage."""
    rows = []
    for dense, sparse in pairs:
        data = _Data(configs, best, dense, sparse)
        for claim in BLOG_CLAIMS:
            rows.append({"comparison": pair_label((dense, sparse)), "claim": claim.text,
                         "blog_value": claim.blog_value, "unit": claim.unit, "reference": claim.reference,
                         **claim_values(claim, data, accuracy, head_start_s, nonzero_weights)})
        rows += [{"comparison": pair_label((dense, sparse)), **row}
                 for row in baseline_rows(data, stock or {}) + platform_rows(data)]
    return pd.DataFrame(rows, columns=HEADLINE_COLUMNS)
