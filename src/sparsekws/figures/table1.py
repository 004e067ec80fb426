"""Table 1 in the blog's rows: one row per design, platform and configuration, with its networks,
words/s and speed-up over the dense design of the same origin.

Our rows are the FPGA designs of one dense/sparse pair (``designs.fpga_designs``: FINN's stock dense,
our tuned dense, the sparse design), per board, for one network and for a full chip; their ``vs_dense``
is over our tuned dense design on the same board and scope (the ratio that counts). Numenta's rows
are its reported GSC designs (``headline.NUMENTA_REPORTED``: dense, sparse weights, sparse-sparse),
``source`` reported, ``vs_dense`` over Numenta's own dense design, as its paper gives them. A design
that does not fit a board has 0 networks and 0 words/s and says so in ``note``. Boards are named
as the blog names them (U250, ZU3EG, ZCU104) where it does; host platforms are not FPGA designs and
are left to the throughput table and the host figure.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from sparsekws.figures.designs import SPARSE, TUNED, fpga_designs
from sparsekws.figures.headline import BLOG_BOARDS, NUMENTA, NUMENTA_NETWORKS, NUMENTA_REPORTED

SCOPES = ("single network", "full chip")
TABLE1_COLUMNS = ["scope", "platform", "design", "origin", "model", "networks", "words_per_s", "vs_dense", "source",
                  "method", "note"]
OURS, REPORTED = "this run", "Numenta, reported"
#: blog board name by our board name
BLOG_NAMES = {board: name for name, board in BLOG_BOARDS.items()}


def platform_name(board: str) -> str:
    """The blog's name of ``board`` where the blog uses it (``ultra96`` -> ``ZU3EG``), else the board."""
    return BLOG_NAMES.get(board, board)


def _our_rows(configs: pd.DataFrame, pair: tuple[str, str], stock: Mapping[tuple[str, str], Mapping[str, Any]],
              scope: str) -> list[dict[str, Any]]:
    designs = fpga_designs(configs, pair, stock, scope)
    rows = []
    for board, here in designs.groupby("board", sort=False):
        tuned = here.loc[here["design"] == TUNED, "words_per_s"]
        base = float(tuned.iloc[0]) if len(tuned) else np.nan
        for row in here.to_dict("records"):
            label = f"{row['design']} ({row['model']})" if row["design"] in (TUNED, SPARSE) else row["design"]
            rows.append({"scope": scope, "platform": platform_name(board), "design": label, "origin": OURS,
                         "model": row["model"], "networks": row["networks"], "words_per_s": row["words_per_s"],
                         "vs_dense": row["words_per_s"] / base if base > 0 else np.nan, "source": row["source"],
                         "method": row["method"],
                         "note": "" if row["fits"] else "does not fit" + (
                             f" (binding resource {row['binding_resource']})" if row["binding_resource"] else "")})
    return rows


def _reported_rows(scope: str, platforms: list[str]) -> list[dict[str, Any]]:
    rows = []
    for platform in platforms:
        dense = NUMENTA_REPORTED.get(("dense", platform, scope))
        for (design, board, kind), words in NUMENTA_REPORTED.items():
            if board != platform or kind != scope:
                continue
            rows.append({"scope": scope, "platform": platform, "design": f"{design} (Numenta)", "origin": REPORTED,
                         "model": "", "networks": NUMENTA_NETWORKS[design] if scope == "full chip" else int(words > 0),
                         "words_per_s": words, "vs_dense": words / dense if dense else np.nan, "source": "reported",
                         "method": NUMENTA, "note": "" if words > 0 else "does not fit"})
    return rows


def table1(configs: pd.DataFrame, pair: tuple[str, str] | None,
           stock: Mapping[tuple[str, str], Mapping[str, Any]]) -> pd.DataFrame:
    """Table 1 (see the module docstring) for ``pair`` = (dense, sparse); Numenta's rows alone without one."""
    rows = []
    for scope in SCOPES:
        ours = _our_rows(configs, pair, stock, scope) if pair else []
        platforms = list(dict.fromkeys([*BLOG_BOARDS, *(row["platform"] for row in ours)]))
        reported = _reported_rows(scope, platforms)
        for platform in platforms:  # the blog's boards first, ours then Numenta's on each
            rows += [row for row in ours + reported if row["platform"] == platform]
    return pd.DataFrame(rows, columns=TABLE1_COLUMNS)
