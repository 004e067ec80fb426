"""Evaluation: confusion matrix, noise blending, activation sparsity and MACs, the command end to end."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from brevitas.nn import QuantLinear, QuantReLU
from torch import nn

from sparsekws.models.kwinners import KWinners
from sparsekws.training import evaluation as evaluate
from support import named_config


def test_confusion_matrix_counts_true_rows_and_predicted_columns():
    matrix = evaluate.confusion_matrix(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2]), 3)
    assert matrix.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    frame = evaluate.confusion_frame(matrix, ["a", "b", "c"])
    assert list(frame.columns) == ["true", "a", "b", "c"] and list(frame["true"]) == ["a", "b", "c"]
    assert frame.loc[2, "a"] == 1


def test_noise_blend_follows_numentas_formula():
    audio = np.linspace(-0.5, 0.5, 16000, dtype=np.float32)[None, :].repeat(2, axis=0)
    assert np.array_equal(evaluate.blend_white_noise(audio, 0.0, np.random.default_rng(0)), audio)
    alpha = 0.3
    noisy = evaluate.blend_white_noise(audio, alpha, np.random.default_rng(1))
    noise = np.random.default_rng(1).uniform(-1, 1, audio.shape)
    np.testing.assert_allclose(noisy, (1 - alpha) * audio + alpha * noise, atol=1e-6)
    pure = evaluate.blend_white_noise(audio, 1.0, np.random.default_rng(2))
    assert np.abs(pure).max() <= 1.0 and abs(float(pure.var()) - 1 / 3) < 0.01  # uniform(-1, 1): variance 1/3
    assert evaluate.NOISE_LEVELS == (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)


def constructed_model() -> nn.Sequential:
    """ReLU -> QuantLinear (known zero pattern) -> k-WTA keeping 1 of 2 units, boosting off."""
    linear = QuantLinear(3, 2, bias=False, weight_bit_width=8)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]]))
    kwta = KWinners(2, k_fraction=0.5, k_inference_factor=1.0, boost_strength=0.0)
    return nn.Sequential(nn.ReLU(), linear, kwta, QuantReLU(bit_width=4)).eval()


def test_activation_sparsity_and_active_macs_are_exact():
    model = constructed_model()
    x = torch.tensor([[1.0, -1.0, 2.0], [0.0, 3.0, -1.0]])
    # ReLU: [1, 0, 2], [0, 3, 0] -> 3 of 6 zero; linear: [3, 2], [0, 0]; k-WTA (k=1): [3, 0], [0, 0]
    activity = evaluate.measure_activity(model, x, torch.device("cpu"))
    by_name = {a["name"]: a for a in activity["activations"]}
    assert set(by_name) == {"0", "2", "3"}  # not the ReLU inside the QuantReLU
    assert by_name["0"]["zero_fraction"] == 0.5 and by_name["0"]["units"] == 3
    assert by_name["2"]["zero_fraction"] == 0.75 and by_name["2"]["kind"] == "KWinners"
    assert by_name["3"]["zero_fraction"] == 0.75
    layer = activity["layer_inputs"]["1"]
    assert layer["input_zero_fraction"] == 0.5
    # sample 1: inputs 0 and 2 active, weight columns hold 1 and 2 non-zeros -> 3; sample 2: input 1, column empty -> 0
    assert layer["active_macs"] == 1.5
    macs = evaluate.macs_three_ways(model, (3,), activity)
    assert (macs["dense"], macs["weight_sparse"], macs["weight_activation_sparse"]) == (6, 3, 1.5)


@pytest.fixture(scope="module")
def tiny_workflow(tmp_path_factory):
    """A smoke-config dataset, its MFCC features and a 1-epoch MLP, built through the library."""
    from sparsekws.data.build import build_dataset
    from sparsekws.core.files import write_npz
    from sparsekws.features.extract import extract_features
    from sparsekws.training.trainer import train_model

    root = tmp_path_factory.mktemp("evaluate")
    cfg = named_config("smoke.yaml")
    cfg["models"] = {"mlp": {**cfg["models"]["sparse"], "hidden_units": [16]}}
    cfg["train"].update({"epochs": 1, "threads": 1})
    cfg["augment"]["enabled"] = False  # evaluation does not depend on how the model was trained
    build_dataset(cfg, root / "dataset")
    arrays, _ = extract_features(cfg, root / "dataset", "mfcc")
    write_npz(root / "mfcc.npz", arrays)
    train_model(cfg, "mlp", root / "mfcc.npz", root / "model")
    return root, cfg, arrays


def test_evaluate_command_writes_consistent_outputs(tiny_workflow):
    from sparsekws.cli import main

    root, cfg, arrays = tiny_workflow
    out = root / "model"
    settings = {key: cfg[key] for key in ("seed", "features", "evaluate")} | {
        "models": {"mlp": cfg["models"]["mlp"]}, "train": {"threads": 1}}  # what the workflow passes
    assert main(["evaluate", "--settings", json.dumps(settings), "--model", "mlp", "--checkpoint",
                 str(out / "model.pt"), "--features", str(root / "mfcc.npz"), "--dataset-dir", str(root / "dataset"),
                 "--out-dir", str(out), "--device", "cpu"]) == 0
    evaluation = json.loads((out / "evaluation.json").read_text())
    metrics = json.loads((out / "metrics.json").read_text())
    tests = len(arrays["y_test"])
    assert evaluation["test_samples"] == tests > 0
    assert evaluation["test_accuracy"] == pytest.approx(metrics["test_accuracy"])

    confusion = pd.read_csv(out / "confusion.csv")
    counts = confusion.drop(columns="true").to_numpy()
    assert counts.sum() == tests
    assert counts.sum(axis=1).tolist() == np.bincount(arrays["y_test"], minlength=12).tolist()
    assert np.trace(counts) / tests == pytest.approx(evaluation["test_accuracy"])

    noise = pd.read_csv(out / "noise_robustness.csv")
    assert noise["alpha"].tolist() == cfg["evaluate"]["noise_levels"]
    assert (noise["samples"] == tests).all()
    assert noise["accuracy"].iloc[0] == pytest.approx(evaluation["test_accuracy"])  # alpha 0 = the stored features
    assert evaluation["noise"]["features_recomputed_agreement"] == 1.0
    assert evaluation["noise"]["score"] == noise["correct"].sum()

    macs = evaluation["macs"]
    assert macs["dense"] == metrics["macs_dense"] and macs["weight_sparse"] == metrics["macs_weight_sparse"]
    assert 0 < macs["weight_activation_sparse"] <= macs["weight_sparse"] < macs["dense"]
    assert [a["kind"] for a in evaluation["activations"]] == ["QuantReLU"]
    assert 0 <= evaluation["activations"][0]["zero_fraction"] <= 1
    assert evaluation["nonzero_parameters"] < evaluation["total_parameters"]


def test_noise_robustness_is_seeded(tiny_workflow):
    from sparsekws.features.frontends import make_frontend

    root, cfg, arrays = tiny_workflow
    model, saved = evaluate.load_model(root / "model" / "model.pt")
    audio = evaluate.test_audio(root / "dataset", [str(f) for f in arrays["files_test"]])
    frontend = make_frontend("mfcc", cfg["features"])
    runs = [evaluate.noise_robustness(model, audio, arrays["y_test"], frontend, float(arrays["scale"]), (490,),
                                      torch.device("cpu"), seed, levels=(0.0, 0.3)) for seed in (1, 1)]
    pd.testing.assert_frame_equal(runs[0], runs[1])
