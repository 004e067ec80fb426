import numpy as np
import pandas as pd

from sparsekws.figures.answer import answer_rows, plot_answer, weakest_source
from sparsekws.figures.style import HATCHES


def headline():
    rows = [("Table 1: one sparse network / one dense network, U250", 10.0, 2.5, "simulated (a) / simulated (b)"),
            ("U250 one network: sparse / our tuned dense", np.nan, 2.5, "simulated (a) / simulated (b)"),
            ("U250 one network: sparse / FINN's stock dense", np.nan, 20.0, "simulated (a) / estimated (c)"),
            ("U250 full chip: sparse / Numenta's reported dense", 112.3, 170.0, "estimated (c) / reported (p)"),
            ("ZU3EG one network: sparse / Numenta's reported sparse-sparse", np.nan, np.nan, ""),
            ("single-network speed-up sparse/dense on cpu (torch)", np.nan, 0.9, "measured (t)")]
    return pd.DataFrame(rows, columns=["claim", "blog_value", "our_value", "source"])


def test_weakest_source_ignores_reported_numbers():
    assert weakest_source("simulated (a) / estimated (b)") == "estimated"
    assert weakest_source("simulated (a) / reported (p)") == "simulated"
    assert weakest_source("measured (a)") == "measured"


def test_answer_rows_are_the_baselines_with_numentas_ratio():
    rows = answer_rows(headline())
    assert list(rows["label"]) == ["U250 one network\nvs tuned dense", "U250 one network\nvs FINN's stock dense",
                                   "U250 full chip\nvs Numenta's dense", "ZU3EG one network\nvs Numenta's sparse-sparse"]
    assert rows["numenta"][0] == 10.0 and np.isnan(rows["numenta"][1]) and rows["numenta"][2] == 112.3
    assert list(rows["source"]) == ["simulated", "estimated", "estimated", ""]


def test_answer_figure_draws_one_bar_per_computed_ratio(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    captured = {}
    monkeypatch.setattr(plt, "close", lambda fig: captured.setdefault("fig", fig))
    paths = plot_answer(headline(), tmp_path / "answer", "footer")
    assert all(p.stat().st_size > 1000 for p in paths)
    ax = captured["fig"].axes[0]
    bars = [b for c in ax.containers for b in c]
    assert sorted(b.get_width() for b in bars) == [2.5, 20.0, 170.0]
    assert {b.get_hatch() for b in bars} == {HATCHES["simulated"], HATCHES["estimated"]}
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "2.5x" in texts and "170x" in texts and "not computed in this run" in texts
    assert ax.get_xscale() == "log"


def test_answer_sentences_say_what_holds_beside_each_claim():
    from sparsekws.figures.answer import answer_rst, answer_sentences
    from sparsekws.figures.headline import BLOG_CLAIMS

    claims = {claim.key: claim.text for claim in BLOG_CLAIMS}
    rows = [(claims["sparse_per_u250"], 11.0, "estimated (m)", ""), (claims["dense_per_u250"], 14.0, "estimated (m)", ""),
            (claims["full_chip"], 4.9, "estimated (m)", ""), (claims["dense_per_zu3eg"], 0.0, "estimated (fit)", ""),
            (claims["sparse_per_zu3eg"], 1.0, "estimated (m)", ""),
            (claims["accuracy"], -6.7, "measured (test split)", "sparse 84 %, dense 91 %"),
            ("U250 one network: sparse / our tuned dense", 2.44, "simulated (a) / simulated (b)", ""),
            ("U250 one network: sparse / FINN's stock dense", np.nan, "", "no stock design")]
    table = pd.DataFrame([("sparse vs dense", *row) for row in rows],
                         columns=["comparison", "claim", "our_value", "source", "note"])
    speed, chip, accuracy = answer_sentences(table)
    assert "2.44x (simulated) as fast as our tuned dense design" in speed
    assert "not computed (no stock design)" in speed and "blog claims 10x" in speed
    assert "11 sparse and 14 tuned dense networks (the blog: 20 and 4)" in chip and "4.9x (estimated)" in chip
    assert "a ZU3EG holds 0 dense and 1 sparse networks (the blog: 0 and 1), as the blog says" in chip
    assert "6.7 points less accurate" in accuracy and "sparse 84 %, dense 91 %" in accuracy
    assert answer_rst(table).startswith("**The answer.** sparse vs dense: one sparse network")


def test_answer_sentences_say_what_this_run_could_not_compare():
    from sparsekws.figures.answer import answer_sentences
    from sparsekws.figures.headline import BLOG_CLAIMS

    missing = "board 'u250' is not among this run's platforms"
    rows = [(claim.text, np.nan, "", missing if "U250" in claim.text else "no ZU3EG") for claim in BLOG_CLAIMS]
    rows.append(("U250 one network: sparse / our tuned dense", np.nan, "", missing))
    table = pd.DataFrame([("sparse vs dense", *row) for row in rows],
                         columns=["comparison", "claim", "our_value", "source", "note"])
    speed, chip, accuracy = answer_sentences(table)
    assert speed == (f"sparse vs dense: one network on the U250 was not compared in this run ({missing}), so the "
                     "blog's 10x over dense is untested.")
    assert chip == f"Networks per U250 were not counted in this run ({missing}); the ZU3EG was not compared (no ZU3EG)."
    assert "nan" not in speed + chip and accuracy == "Test accuracy was not compared in this run."


def test_landing_page_is_the_answer_then_the_headline_in_short():
    from docutils.core import publish_parts

    from sparsekws.figures.answer import landing_rows, landing_rst
    from sparsekws.figures.headline import BLOG_CLAIMS, NUMENTA

    claims = {claim.key: claim for claim in BLOG_CLAIMS}
    rows = [(claims["single"].text, 10.0, 2.44, "x", "simulated (a) / simulated (b)", claims["single"].reference),
            (claims["sparse_per_u250"].text, 20.0, 11.0, "networks", "estimated (m)", claims["sparse_per_u250"].reference),
            (claims["energy"].text, 26.0, np.nan, "x", "", claims["energy"].reference),
            (claims["weights"].text, 0.113, 0.1, "x", "counted (weights)", claims["weights"].reference),
            ("U250 full chip: sparse / Numenta's reported dense", 112.3, 170.0, "x", "estimated (c) / reported (p)",
             NUMENTA),
            ("U250 full chip: sparse / our tuned dense", np.nan, 4.9, "x", "estimated (c) / estimated (d)", ""),
            ("single-network speed-up sparse/dense on cpu (torch)", np.nan, 0.9, "x", "measured (t)", "")]
    table = pd.DataFrame([("sparse vs dense", *row, "") for row in rows],
                         columns=["comparison", "claim", "blog_value", "our_value", "unit", "source", "reference", "note"])
    assert landing_rows(table) == [
        (claims["single"].text, "10x (blog, Table 1)", "2.44x (simulated)"),
        (claims["sparse_per_u250"].text, "20 (blog, Table 1)", "11 (estimated)"),
        (claims["energy"].text, "26x (blog, Graph 4)", "not computed"),
        (claims["weights"].text, "0.113x (nupic.torch)", "0.1x (counted)"),
        ("U250 full chip: sparse / Numenta's reported dense", "112x (Numenta, reported)", "170x (estimated)"),
        ("U250 full chip: sparse / our tuned dense", "", "4.9x (estimated)")]
    text = landing_rst(table)
    assert text.startswith("**The answer.** sparse vs dense: one network on the U250")
    links = "\n\n.. _answer.png: javascript:x\n.. _0 Answer: javascript:y\n.. _headline.html: javascript:z\n"
    page = publish_parts(text + links, writer="html", settings_overrides={"halt_level": 2})["body"]
    assert "<ul" not in page and "<td>—</td>" in page  # an empty cell is a dash, not a list
    assert page.count("<tr>") == 1 + 6 and "not computed" in page and "speed-up sparse/dense on cpu" not in page
