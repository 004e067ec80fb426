"""The headline figure: how many times faster the sparse design is than each dense baseline, next to
Numenta's own ratios, each bar marked by how it was obtained.

Rows are the headline table's baseline rows (``headline.baseline_rows``: claims
``"<board> <scope>: sparse / <baseline>"`` for the U250 one network and full chip and the ZU3EG one
network). Numenta's marker on a row: its ``blog_value`` (Numenta's sparse-sparse over Numenta's
dense, on the "Numenta's reported dense" rows), or on the tuned-dense rows the blog's claim for the
same comparison (Table 1's one-network ratio, Graph 3's full-chip ratio). A bar is drawn as the
weakest source of our side of the ratio (estimated < simulated < measured); Numenta's numbers are
reported, never ours. Left of the 1x line the sparse design is slower.

``answer_sentences`` says in three sentences what holds and what does not (speed of one network,
networks per chip, accuracy), from the same table; ``answer_rst`` writes them as the figure's
caption and ``landing_rst`` as the report's landing page, above the headline table in short
(``landing_rows``: the blog's claims and the baselines, each with the blog's or Numenta's number
and how ours was obtained).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from sparsekws.figures.comparison import SOURCE_RANK
from sparsekws.figures.headline import BLOG, BLOG_CLAIMS, NUMENTA, NUPIC, PAPER
from sparsekws.figures.style import DESIGN_COLOURS, HATCHES, key, panel_notice, save_figure

BASELINE = re.compile(r"^(?P<board>U250|ZU3EG) (?P<scope>one network|full chip): sparse / (?P<baseline>.+)$")
#: the blog's claim a tuned-dense row is compared with, by scope (keys of ``headline.BLOG_CLAIMS``)
BLOG_FOR_TUNED = {"one network": "single", "full chip": "full_chip"}
ANSWER_COLUMNS = ["label", "ours", "source", "numenta"]
FIGURE_CAPTION = (
    "The figure: how many times faster the sparse design is than each dense design (log axis; left of the 1x line "
    "sparse is slower), on the U250 (one network; a full chip of as many networks as fit) and the ZU3EG (one "
    "network), over our tuned dense design (the best dense design we have: the ratio that counts), FINN's stock "
    "dense design and Numenta's reported designs. The black diamond is Numenta's own ratio for the same comparison "
    "(the blog's claim against its dense network, or its sparse-sparse design over its dense one): **reported**, not "
    "reproduced. A bar is **dotted** where our side is simulated (the whole network in RTL), **hatched** where it is "
    "estimated (analytic cycle model), plain where measured. Numbers, sources and references: the headline table.")


#: short names of the headline table's references, for the landing page
SHORT_REFERENCES = {BLOG: "blog", NUMENTA: "Numenta, reported", PAPER: "paper", NUPIC: "nupic.torch"}
UNIT_FORMATS = {"x": "{:.3g}x", "s": "{:.3g} s", "networks": "{:.0f}", "pp": "{:+.2f} pp"}


def weakest_source(source: str) -> str:
    """The weakest of the sources a headline row names (``measured (...) / reported (...)``), ignoring
    reported numbers: estimated if any side is estimated, then simulated, then measured; a source of
    another kind (``counted (...)``) by its own name."""
    kinds = [part.split(" ")[0] for part in str(source).split(" / ")]
    ours = [kind for kind in kinds if kind in SOURCE_RANK]
    if not ours:
        return next((kind for kind in kinds if kind not in ("reported", "")), "estimated")
    return max(ours, key=SOURCE_RANK.get)


def answer_rows(headline: pd.DataFrame) -> pd.DataFrame:
    """One row per baseline ratio of ``headline`` (the headline table), in its order."""
    claims = {claim.key: claim.blog_value for claim in BLOG_CLAIMS}
    rows = []
    for row in headline.to_dict("records"):
        match = BASELINE.match(str(row["claim"]))
        if not match:
            continue
        numenta = row["blog_value"]
        if "tuned" in match["baseline"] and not pd.notna(numenta):
            numenta = claims[BLOG_FOR_TUNED[match["scope"]]]
        baseline = match["baseline"].replace("'s reported", "'s").replace("our ", "")
        rows.append({"label": f"{match['board']} {match['scope']}\nvs {baseline}", "ours": row["our_value"],
                     "source": weakest_source(row["source"]) if pd.notna(row["our_value"]) else "",
                     "numenta": numenta})
    return pd.DataFrame(rows, columns=ANSWER_COLUMNS)


def _values(headline: pd.DataFrame) -> dict[str, dict]:
    """The first comparison's rows of the headline table by claim text."""
    first = headline[headline["comparison"] == headline["comparison"].iloc[0]] if len(headline) else headline
    return {row["claim"]: row for row in first.to_dict("records")}


def _x(rows: dict[str, dict], claim: str) -> str:
    """``2.44x`` (with how it was obtained) or ``not computed (why)`` for one headline row."""
    row = rows.get(claim)
    if row is None or not pd.notna(row["our_value"]):
        note = _why(rows, claim)
        return f"not computed ({note})" if note else "not computed"
    return f"{row['our_value']:.3g}x ({weakest_source(row['source'])})"


def _why(rows: dict[str, dict], claim: str) -> str:
    """Why the headline row ``claim`` has no value (its note), or empty."""
    row = rows.get(claim)
    return str(row["note"]) if row is not None and isinstance(row.get("note"), str) else ""


def answer_sentences(headline: pd.DataFrame) -> list[str]:
    """Three sentences: one network on the U250 against each dense baseline, networks per chip
    (U250 and ZU3EG), and accuracy, each beside the claim it tests; a comparison this run could not
    make says so, and why."""
    rows = _values(headline)
    claims = {claim.key: claim for claim in BLOG_CLAIMS}

    def value(key: str) -> float:
        row = rows.get(claims[key].text)
        return row["our_value"] if row is not None else math.nan

    def why(key: str) -> str:
        note = _why(rows, claims[key].text)
        return f" ({note})" if note else ""

    pair = str(headline["comparison"].iloc[0]) if len(headline) else "sparse vs dense"
    baselines = [f"U250 one network: sparse / {baseline}" for baseline in (
        "our tuned dense", "FINN's stock dense", "Numenta's reported sparse-sparse")]
    blog_x = f"{claims['single'].blog_value:g}x"
    if not any(pd.notna(rows[b]["our_value"]) for b in baselines if b in rows):
        speed = (f"{pair}: one network on the U250 was not compared in this run{why('single')}, so the blog's "
                 f"{blog_x} over dense is untested.")
    else:
        tuned, stock, numenta = (_x(rows, b) for b in baselines)
        speed = (f"{pair}: one sparse network on the U250 runs {tuned} as fast as our tuned dense design, {stock} "
                 f"FINN's stock dense design and {numenta} Numenta's reported sparse-sparse design; the blog claims "
                 f"{blog_x} over dense.")
    sparse_u250, dense_u250 = value("sparse_per_u250"), value("dense_per_u250")
    if pd.notna(sparse_u250) and pd.notna(dense_u250):
        u250 = (f"A U250 holds {sparse_u250:.0f} sparse and {dense_u250:.0f} tuned dense networks (the blog: "
                f"{claims['sparse_per_u250'].blog_value:g} and {claims['dense_per_u250'].blog_value:g}), "
                f"{_x(rows, claims['full_chip'].text)} the dense chip's words/s against the blog's "
                f"{claims['full_chip'].blog_value:g}x")
    else:
        u250 = f"Networks per U250 were not counted in this run{why('sparse_per_u250')}"
    sparse_zu3eg, dense_zu3eg = value("sparse_per_zu3eg"), value("dense_per_zu3eg")
    if pd.notna(sparse_zu3eg) and pd.notna(dense_zu3eg):
        holds = "as the blog says" if dense_zu3eg == 0 and sparse_zu3eg >= 1 else "not as the blog says"
        zu3eg = (f"a ZU3EG holds {dense_zu3eg:.0f} dense and {sparse_zu3eg:.0f} sparse networks (the blog: "
                 f"{claims['dense_per_zu3eg'].blog_value:g} and {claims['sparse_per_zu3eg'].blog_value:g}), {holds}")
    else:
        zu3eg = f"the ZU3EG was not compared{why('sparse_per_zu3eg')}"
    chip = f"{u250}; {zu3eg}."
    accuracy = rows.get(claims["accuracy"].text)
    if accuracy is None or not pd.notna(accuracy["our_value"]):
        trained = "Test accuracy was not compared in this run."
    else:
        gap = accuracy["our_value"]
        trained = (f"The sparse model is {abs(gap):.2g} points {'less' if gap < 0 else 'more'} accurate than the dense "
                   f"one on the held-out test split ({accuracy['note']}); the paper reports "
                   f"{claims['accuracy'].blog_value:+g} points.")
    return [speed, chip, trained]


def _rst(text: str) -> str:
    """``text`` as reStructuredText prose (``*`` literal, not emphasis)."""
    return text.replace("*", "\\*")


def _answer(headline: pd.DataFrame) -> str:
    """The three sentences as a reStructuredText paragraph opening with **The answer.**"""
    return f"**The answer.** {_rst(' '.join(answer_sentences(headline)))}"


def answer_rst(headline: pd.DataFrame) -> str:
    """The answer figure's caption: the three sentences, then what the figure shows."""
    return f"{_answer(headline)}\n\n{FIGURE_CAPTION}\n"


def _number(value: float, unit: str) -> str:
    return UNIT_FORMATS.get(unit, "{:.3g} " + unit).format(value) if pd.notna(value) else ""


def _short_reference(reference: str) -> str:
    for long, short in SHORT_REFERENCES.items():
        if str(reference).startswith(long):
            return short + str(reference)[len(long):]
    return str(reference)


def landing_rows(headline: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(claim, the blog's or Numenta's number with its reference, ours with how it was obtained) for the
    blog's claims and the baseline rows of the first comparison; per-platform speed-ups are left to the
    full table."""
    claims = {claim.text for claim in BLOG_CLAIMS}
    rows = []
    for claim, row in _values(headline).items():
        if claim not in claims and not BASELINE.match(str(claim)):
            continue
        theirs = _number(row["blog_value"], row["unit"])
        theirs = f"{theirs} ({_short_reference(row['reference'])})" if theirs else ""
        ours = _number(row["our_value"], row["unit"])
        ours = f"{ours} ({weakest_source(row['source'])})" if ours else "not computed"
        rows.append((str(claim), theirs, ours))
    return rows


def landing_rst(headline: pd.DataFrame) -> str:
    """The report's landing page: the answer in three sentences, then the headline table in short."""
    lines = [f"{_answer(headline)} The figure: `answer.png`_ (`0 Answer`_); every number with its note "
             "and reference: the headline table, `headline.html`_.", "",
             ".. list-table:: The headline: this run beside the blog and Numenta", "   :header-rows: 1", "",
             "   * - Claim", "     - Blog / Numenta", "     - This run (how obtained)"]
    for row in landing_rows(headline):
        cells = [_rst(cell) or "—" for cell in row]  # a lone "-" would be a list
        lines += [f"   * - {cells[0]}", f"     - {cells[1]}", f"     - {cells[2]}"]
    return "\n".join(lines) + "\n"


def plot_answer(headline: pd.DataFrame, stem: str | Path, footer: str) -> list[Path]:
    """The headline figure (see the module docstring): ratios on a log axis, one row per baseline."""
    rows = answer_rows(headline)
    fig, ax = plt.subplots(figsize=(7.4, 0.5 * max(len(rows), 2) + 1.9))
    if rows.empty:
        panel_notice(ax, "No FPGA baseline in this run", "the headline compares the U250 and ZU3EG designs")
        fig.suptitle("How many times faster is sparse than each dense design?")
        return save_figure(fig, stem, footer)
    y = np.arange(len(rows))[::-1]
    for yi, row in zip(y, rows.to_dict("records")):
        if not pd.notna(row["ours"]):
            ax.text(1.0, yi, "  not computed in this run", va="center")
            continue
        ax.barh(yi, row["ours"], height=0.6, color=DESIGN_COLOURS["sparse"], hatch=HATCHES.get(row["source"]),
                edgecolor="0.2" if row["source"] in HATCHES else DESIGN_COLOURS["sparse"], lw=0.6)
        ax.text(row["ours"] * 1.08, yi, f"{row['ours']:.3g}x", va="center", weight="bold")
        if pd.notna(row["numenta"]) and row["numenta"] > 0:
            ax.plot(row["numenta"], yi, "D", color="0.1", ms=7, zorder=5)
    ax.set_yticks(y, rows["label"])
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))
    values = pd.concat([rows["ours"], rows["numenta"]]).dropna()
    values = values[values > 0]
    ax.set_xlim(min(0.5, values.min() / 2), 10 ** math.ceil(math.log10(values.max() * 3)))
    ax.axvline(1.0, color="0.3", lw=1)
    ax.set_xlabel("sparse words/s over the dense design's (log; left of 1x: sparse is slower)")
    key(fig, sources=set(rows["source"]) - {""})
    ax.legend(handles=[Line2D([], [], marker="D", color="0.1", ls="", label="Numenta's own ratio (reported)")],
              loc="lower right")
    fig.suptitle("How many times faster is sparse than each dense design?")
    return save_figure(fig, stem, footer)
