"""Training and evaluation figures: the long table behind the curves, files written, the command."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sparsekws.figures import training as plot_training

CLASSES = ["_silence_", "_unknown_", "yes", "no"]


def history(seeds: int = 1, epochs: int = 3) -> pd.DataFrame:
    rows = [{"seed_index": s, "epoch": e, "train_loss": 2.0 / e, "train_accuracy": 0.2 * e,
             "validation_loss": 2.2 / e, "validation_accuracy": 0.15 * e + 0.01 * s, "lr": 0.01}
            for s in range(seeds) for e in range(1, epochs + 1)]
    return pd.DataFrame(rows)


def confusion(correct: int) -> pd.DataFrame:
    counts = np.full((4, 4), 1) + np.eye(4, dtype=int) * correct
    frame = pd.DataFrame(counts, columns=CLASSES)
    frame.insert(0, "true", CLASSES)
    return frame


def noise(model: str, start: int) -> pd.DataFrame:
    correct = [max(start - 3 * i, 2) for i in range(11)]
    return pd.DataFrame({"alpha": [round(0.05 * i, 2) for i in range(11)], "correct": correct,
                         "samples": 40, "accuracy": [c / 40 for c in correct], "model": model})


def test_curves_frame_has_train_and_validation_rows_per_seed():
    frame = plot_training.curves_frame({"dense": history(seeds=2), "sparse": history()})
    assert len(frame) == 2 * (2 * 3) + 2 * 3
    dense_val = frame[(frame["model"] == "dense") & (frame["split"] == "validation")]
    assert dense_val["accuracy"].tolist() == pytest.approx([0.15, 0.30, 0.45, 0.16, 0.31, 0.46])
    train_rows = frame[(frame["model"] == "sparse") & (frame["split"] == "train")]
    assert train_rows["loss"].tolist() == pytest.approx([2.0, 1.0, 2 / 3])


def test_figures_are_written(tmp_path):
    footer = "test footer"
    paths = plot_training.plot_training_curves({"dense": history(seeds=2), "sparse": history()},
                                               tmp_path / "curves", footer)
    paths += plot_training.plot_confusions({"dense": confusion(9), "sparse": confusion(5)}, tmp_path / "confusion",
                                           footer)
    paths += plot_training.plot_noise(pd.concat([noise("dense", 30), noise("sparse", 35)]), tmp_path / "noise",
                                      footer)
    assert sorted(p.name for p in paths) == sorted(f"{stem}.{ext}" for stem in ("curves", "confusion", "noise")
                                                  for ext in ("png", "svg"))
    for path in paths:
        assert path.stat().st_size > 1000


def test_noise_score_sums_correct_answers_over_levels():
    scores = plot_training.noise_scores(pd.concat([noise("dense", 30), noise("sparse", 35)]))
    assert scores == {"dense": (167, 440), "sparse": (220, 440)}  # 30+27+...+3+2, 35+32+...+5


def test_command_draws_every_figure(tmp_path):
    from sparsekws.cli import main

    files = {"history": [], "confusion": [], "noise": []}
    for model, start in (("dense", 30), ("sparse", 35)):
        for kind, table in (("history", history()), ("confusion", confusion(5)), ("noise", noise(model, start))):
            path = tmp_path / f"{model}_{kind}.csv"
            table.to_csv(path, index=False)
            files[kind].append(str(path))
    figures = tmp_path / "figures"
    for figure, kind, stem in (("training-curves", "history", "training_curves"), ("confusion", "confusion", "confusion"),
                               ("noise-robustness", "noise", "noise_robustness")):
        assert main(["figures", figure, "--models", "dense", "sparse", f"--{kind}", *files[kind],
                     "--config-hash", "abc", "--out", str(figures / stem)]) == 0
    written = sorted(p.name for p in (tmp_path / "figures").iterdir())
    assert written == sorted(f"{stem}.{ext}" for stem in ("training_curves", "confusion", "noise_robustness")
                             for ext in ("png", "svg"))


def test_file_count_must_match_models(tmp_path, capsys):
    from sparsekws.cli import main

    history().to_csv(tmp_path / "a.csv", index=False)
    assert main(["figures", "training-curves", "--models", "dense", "sparse", "--history", str(tmp_path / "a.csv"),
                 "--config-hash", "abc", "--out", str(tmp_path / "curves")]) == 1
    assert "one per model" in capsys.readouterr().err
