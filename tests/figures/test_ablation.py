"""The ablation table (a base row, then each variant with its difference and Welch interval) and its figure."""

import pytest

from sparsekws.core.errors import UserError
from sparsekws.core.stats import difference_summary
from sparsekws.figures.ablation import BASE_CHANGE, ablation_table, plot_ablation


def _metrics(accuracies, kept_zero=0.1):
    return {"seeds": [{"test_accuracy": a, "best_epoch": 16 - i} for i, a in enumerate(accuracies)],
            "epochs": 16, "nonzero_weights": 1000, "kept_zero_fraction": kept_zero}


def test_rows_and_differences():
    metrics = {"sparse-cnn": _metrics([0.80, 0.82, 0.84]), "sparse-cnn-x": _metrics([0.90, 0.91, 0.92], 0.01)}
    table = ablation_table({"sparse-cnn-x": {"base": "sparse-cnn", "change": "more"}}, metrics)
    assert list(table["model"]) == ["sparse-cnn", "sparse-cnn-x"]
    base, variant = table.iloc[0], table.iloc[1]
    assert base["change"] == BASE_CHANGE and base["difference_pp"] == 0
    assert variant["difference_pp"] == pytest.approx(9.0) and variant["seeds"] == 3
    assert variant["difference_ci_low_pp"] > 0 and variant["best_epochs"] == "16 15 14"
    assert variant["test_accuracy_ci_low"] < 0.91 < variant["test_accuracy_ci_high"]
    assert variant["kept_zero_fraction"] == 0.01


def test_welch_interval():
    same = difference_summary([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert same["difference"] == 0 and same["ci_low"] < 0 < same["ci_high"]
    # scipy's Welch test agrees: the interval excludes 0 exactly when p < 0.05
    from scipy import stats

    a, b = [0.80, 0.82, 0.84, 0.81], [0.85, 0.86, 0.90]
    summary = difference_summary(a, b)
    p = stats.ttest_ind(b, a, equal_var=False).pvalue
    assert (summary["ci_low"] > 0) == (p < 0.05)
    assert difference_summary([0.5], [0.6])["ci_low"] is None
    constant = difference_summary([0.5, 0.5], [0.6, 0.6])
    assert constant["ci_low"] == constant["ci_high"] == pytest.approx(0.1)


def test_the_figure_draws_every_variant_and_refuses_a_table_without_one(tmp_path):
    metrics = {"sparse-cnn": _metrics([0.80, 0.82, 0.84]), "sparse-cnn-x": _metrics([0.90, 0.91, 0.92]),
               "sparse-cnn-y": _metrics([0.81]), "dense-cnn": _metrics([0.9, 0.91]), "dense-cnn-z": _metrics([0.8, 0.82])}
    variants = {"sparse-cnn-x": {"base": "sparse-cnn", "change": "more"},
                "sparse-cnn-y": {"base": "sparse-cnn", "change": "one seed"},
                "dense-cnn-z": {"base": "dense-cnn", "change": "less"}}
    table = ablation_table(variants, metrics)
    paths = plot_ablation(table, tmp_path / "ablation", "footer")
    assert [p.suffix for p in paths] == [".png", ".svg"] and all(p.stat().st_size > 1000 for p in paths)
    svg = paths[1].read_text()
    assert "x (vs sparse-cnn, 3 seeds)" in svg and "y (vs sparse-cnn, 1 seed)" in svg and "z (vs dense-cnn" in svg
    with pytest.raises(UserError, match="no variant"):
        plot_ablation(table[table["model"] == table["base"]], tmp_path / "none", "footer")
