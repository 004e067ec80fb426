"""The accuracy figures' labels: how many words each accuracy stands on."""

import pandas as pd

from sparsekws.figures.accuracy import held_out_label, words_tested


def test_the_test_words_are_named_when_every_model_had_the_same():
    assert words_tested(pd.DataFrame({"model": ["a", "b"], "test_samples": [480, 480]})) == " on 480 test words"
    assert words_tested(pd.DataFrame({"model": ["a", "b"], "test_samples": [480, 96]})) == ""
    assert words_tested(pd.DataFrame({"model": ["a"]})) == ""


def test_a_held_out_family_is_labelled_with_its_words():
    table = pd.DataFrame({"model": ["a", "b"], "held_out": ["flite", "flite"], "n": [1092, 1092]})
    assert held_out_label(table, "flite") == "without flite\n(1,092 words)"
    assert held_out_label(table.drop(columns="n"), "flite") == "without flite"
