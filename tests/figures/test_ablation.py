"""The ablation table: a base row, then each variant with its difference and Welch interval."""

import pytest

from sparsekws.core.stats import difference_summary
from sparsekws.figures.ablation import BASE_CHANGE, ablation_table


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
