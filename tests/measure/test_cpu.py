"""CPU backends on a tiny exported MLP: records schema, output checks, skips, missing power."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from sparsekws.measure import RECORD_COLUMNS, SKIPPED_COLUMNS
from sparsekws.measure.backends import BACKENDS, backend_classes
from sparsekws.measure.workload import measure_platform
from sparsekws.measure.records import Workload

SETTINGS = {"backends": ["onnxruntime-float32", "onnxruntime-int8", "torch", "sparse"], "batch_sizes": [1, 8],
            "warmup_runs": 1, "repeats": 2, "duration_s": 0.01, "threads": 1, "pin_cores": True}


def tiny_workload(tmp_path, model_cfg, qonnx=None, n=24, seed=3):
    from support.fixtures import warmed_up

    from sparsekws.models.zoo import build_model

    shape = (490,) if model_cfg["family"] == "mlp" else (1, 32, 32)
    torch.manual_seed(0)
    model = warmed_up(build_model(model_cfg, shape, 12, seed=5), shape)
    inputs = np.random.default_rng(seed).integers(-128, 128, (n, *shape)).astype(np.float32)
    with torch.no_grad():
        reference = model(torch.from_numpy(inputs)).numpy()
    labels = reference.argmax(1)
    return Workload(model="tiny", model_config=model_cfg, inputs=inputs, labels=labels, reference=reference,
                    provenance={"config_hash": "c", "git_revision": "g"}, qonnx=qonnx, work_dir=tmp_path,
                    extras={"torch_model": model})


@pytest.fixture(scope="module")
def mlp_workload(tiny_qonnx, tmp_path_factory):
    """The conftest tiny MLP (same seeds as its QONNX export) as a workload on its reference words."""
    from support.fixtures import mlp_config, random_mlp

    from sparsekws.training.model_file import load_trained_model  # noqa: F401  (import cost outside the timing)

    model, _ = random_mlp(0.5, (16, 16))  # the same network as the tiny_qonnx fixture
    ref = np.load(tiny_qonnx[1])
    with torch.no_grad():
        assert np.allclose(model(torch.from_numpy(ref["inputs"])).numpy(), ref["outputs"], atol=1e-5)
    top2 = np.sort(ref["outputs"], axis=1)[:, -2:]
    clear = (top2[:, 1] - top2[:, 0]) > 1e-3  # words without a tie for the top class
    return Workload(model="tiny", model_config=mlp_config(0.5, (16, 16)), inputs=ref["inputs"][clear],
                    labels=ref["outputs"][clear].argmax(1), reference=ref["outputs"][clear],
                    provenance={"config_hash": "c", "git_revision": "g"}, qonnx=tiny_qonnx[0],
                    work_dir=tmp_path_factory.mktemp("work"), extras={"torch_model": model})


def test_every_cpu_backend_gives_tidy_checked_records(mlp_workload):
    records, skipped = measure_platform(mlp_workload, "cpu", SETTINGS)
    assert list(records.columns) == RECORD_COLUMNS and list(skipped.columns) == SKIPPED_COLUMNS
    assert skipped.empty
    assert sorted(set(records["backend"])) == sorted(SETTINGS["backends"])
    assert set(records["platform"]) == {"cpu"} and set(records["source"]) == {"measured"}
    assert sorted(records["batch_size"].unique()) == [1, 8] and len(records) == 8
    assert (records["throughput_words_per_s"] > 0).all() and (records["throughput_iqr_words_per_s"] >= 0).all()
    assert (records["latency_p50_ms"] <= records["latency_p95_ms"]).all()
    assert (records["latency_p95_ms"] <= records["latency_p99_ms"]).all()
    assert (records["repeats"] == 2).all() and (records["threads"] == 1).all()
    assert records["device"].str.contains("pinned to cores").all()
    exact = records[records["backend"] != "onnxruntime-int8"]
    assert exact["outputs_match_model"].all()
    assert (exact["accuracy_on_measured"] == exact["model_accuracy_on_measured"]).all()
    assert (exact["accuracy_on_measured"] == 1.0).all()  # labels are the model's own untied predictions
    assert records["power_w"].isna().all() and records["energy_per_word_j"].isna().all()  # no sensor: NaN, not 0
    assert (records["n_measured"] == len(mlp_workload.labels)).all()


def test_backend_selection_and_wrong_model_is_refused(mlp_workload):
    from sparsekws.core.errors import UserError

    records, _ = measure_platform(mlp_workload, "cpu", {**SETTINGS, "backends": ["sparse"], "batch_sizes": [3]})
    assert list(records["backend"]) == ["sparse"]
    wrong = Workload(**{**mlp_workload.__dict__, "reference": np.roll(mlp_workload.reference, 1, axis=1)})
    with pytest.raises(UserError, match="differ from the model's"):
        measure_platform(wrong, "cpu", {**SETTINGS, "backends": ["onnxruntime-float32"]})


def test_onnxruntime_skips_a_graph_with_kwinners_and_says_why(tmp_path):
    from support.fixtures import cnn_config

    from sparsekws.export.qonnx import export_qonnx_model

    workload = tiny_workload(tmp_path, cnn_config(), n=4)
    qonnx = tmp_path / "cnn.qonnx.onnx"
    export_qonnx_model(workload.extras["torch_model"], (1, 32, 32), 8, qonnx)
    workload.qonnx = qonnx
    records, skipped = measure_platform(workload, "cpu", {**SETTINGS, "batch_sizes": [2],
                                                          "backends": ["onnxruntime-float32", "sparse"]})
    assert list(records["backend"]) == ["sparse"] and records["outputs_match_model"].all()
    assert list(skipped["backend"]) == ["onnxruntime-float32"]
    assert "KWinners" in skipped["reason"].iloc[0]


def test_cuda_is_skipped_with_a_reason_without_a_gpu(mlp_workload):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    records, skipped = measure_platform(mlp_workload, "cuda", {"device": 0, "batch_sizes": [1], "warmup_runs": 0,
                                                               "repeats": 1, "duration_s": 0.01,
                                                               "power_interval_s": 0.01})
    assert records.empty and list(skipped["platform"]) == ["cuda"]
    assert "torch.cuda.is_available() is False" in skipped["reason"].iloc[0]


def test_registry_lists_importable_backends():
    for platform in BACKENDS:
        for cls in backend_classes(platform):
            assert cls.platform == platform and cls.name


def test_cli_writes_records_and_skipped(tmp_path, tiny_qonnx):
    import yaml
    from support.fixtures import make_features, mlp_config

    from sparsekws.cli import main
    from support import REPO_ROOT

    config = yaml.safe_load((REPO_ROOT / "config" / "smoke.yaml").read_text())
    config["models"] = {"tiny": mlp_config(0.5, (16, 16))}
    config["measure"]["cpu"] = {"backends": ["onnxruntime-float32", "sparse"], "batch_sizes": [4], "warmup_runs": 0,
                                "repeats": 1, "duration_s": 0.01}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    features = make_features(tmp_path / "f.npz")
    model = tiny_workload(tmp_path, mlp_config(0.5, (16, 16))).extras["torch_model"]
    torch.save({"model_config": config["models"]["tiny"], "state_dict": model.state_dict(), "classes": list("abcdefghijkl"),
                "seed": 5, "in_features": 490, "input_shape": [490]}, tmp_path / "model.pt")
    from sparsekws.export.qonnx import export_qonnx_model

    export_qonnx_model(model, 490, 8, tmp_path / "m.qonnx.onnx")
    args = ["--config", str(tmp_path / "c.yaml"), "--model", "tiny", "--features", str(features),
            "--checkpoint", str(tmp_path / "model.pt"), "--qonnx", str(tmp_path / "m.qonnx.onnx"),
            "--work-dir", str(tmp_path / "w"), "--out", str(tmp_path / "o.csv"), "--skipped-out", str(tmp_path / "s.csv")]
    assert main(["measure", "--platform", "cpu", *args]) == 0
    table = pd.read_csv(tmp_path / "o.csv")
    assert list(table.columns) == RECORD_COLUMNS and set(table["backend"]) == {"onnxruntime-float32", "sparse"}
    assert table["outputs_match_model"].all() and table["power_w"].isna().all()
    assert (table["n_measured"] == 48).all()  # the whole test split of the fake features
    assert main(["measure", "--platform", "pynq", *args]) == 0
    skipped = pd.read_csv(tmp_path / "s.csv")
    assert list(skipped["platform"]) == ["pynq"] and "measure.pynq.deployment is not set" in skipped["reason"][0]
    assert pd.read_csv(tmp_path / "o.csv").empty
    assert not math.isnan(table["throughput_words_per_s"].min())
