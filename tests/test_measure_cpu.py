import math

import numpy as np
import pandas as pd
import pytest

from sparsekws.errors import UserError
from sparsekws.measure import RECORD_COLUMNS
from sparsekws.measure.cpu import cpu_description, measure_model, read_cpu_power_w, time_batches, to_onnxruntime_model


@pytest.fixture(scope="module")
def ort_model(tiny_qonnx, tmp_path_factory):
    path, reference_io = tiny_qonnx
    out = tmp_path_factory.mktemp("ort") / "tiny.qcdq.onnx"
    to_onnxruntime_model(path, out)
    reference = np.load(reference_io)
    return out, reference["inputs"], reference["outputs"]


def test_lowered_model_matches_torch_for_any_batch(ort_model):
    from sparsekws.measure.cpu import make_session

    path, inputs, reference = ort_model
    session = make_session(path, threads=1)
    name = session.get_inputs()[0].name
    for batch in (1, 7, 20):
        out = session.run(None, {name: inputs[:batch]})[0]
        np.testing.assert_allclose(out, reference[:batch], rtol=1e-4, atol=1e-4)


def test_time_batches_times_every_batch_and_respects_duration():
    calls = []
    batches = [np.full(2, i) for i in range(3)]
    outputs, latencies, seconds = time_batches(lambda b: calls.append(int(b[0])) or int(b[0]), batches,
                                               warmup_runs=2, duration_s=0.0)
    assert calls[:2] == [0, 1]  # warm-up
    assert outputs == [0, 1, 2] and len(latencies) == 3 and seconds >= 0
    _, latencies, seconds = time_batches(lambda b: None, batches, warmup_runs=0, duration_s=0.05)
    assert seconds >= 0.05 and len(latencies) > 3


def test_measure_model_records_and_checks(ort_model):
    path, inputs, reference = ort_model
    top2 = np.sort(reference, axis=1)[:, -2:]
    clear = (top2[:, 1] - top2[:, 0]) > 1e-3  # words without a tie for the top class
    inputs, reference = inputs[clear], reference[clear]
    labels = reference.argmax(1)
    records = measure_model(path, inputs, labels, reference, [1, 32], warmup_runs=1, duration_s=0.01, threads=1)
    assert [r["batch_size"] for r in records] == [1, 32]
    for r in records:
        assert r["throughput_words_per_s"] > 0
        assert 0 < r["latency_p50_ms"] <= r["latency_p95_ms"]
        assert r["accuracy_on_measured"] == 1.0  # labels are the reference's own (untied) predictions
        assert r["n_measured"] == len(inputs) > 10
        assert math.isnan(r["power_w"])  # no power sensor: missing, not zero
    wrong_labels = (labels + 1) % reference.shape[1]
    records = measure_model(path, inputs, wrong_labels, None, [3], warmup_runs=0, duration_s=0.0, threads=1)
    assert records[0]["accuracy_on_measured"] == 0.0


def test_measure_model_refuses_outputs_that_disagree(ort_model):
    path, inputs, reference = ort_model
    wrong = np.roll(reference, 1, axis=1)
    with pytest.raises(UserError, match="differ from the reference"):
        measure_model(path, inputs, wrong.argmax(1), wrong, [1], warmup_runs=0, duration_s=0.0, threads=1)


def test_power_is_missing_not_zero_and_device_is_described():
    assert math.isnan(read_cpu_power_w())
    assert "logical cores" in cpu_description()


def test_cli_writes_tidy_records(ort_model, tiny_qonnx, tmp_path):
    import yaml
    from conftest import make_features, mlp_config

    from sparsekws.cli import main
    from sparsekws.config import REPO_ROOT

    config = yaml.safe_load((REPO_ROOT / "config" / "smoke.yaml").read_text())
    config["models"] = {"tiny": mlp_config(0.5, (16, 16))}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    features = make_features(tmp_path / "f.npz")
    out = tmp_path / "cpu.csv"
    assert main(["measure-cpu", "--config", str(tmp_path / "c.yaml"), "--model", "tiny", "--qonnx", str(tiny_qonnx[0]),
                 "--features", str(features), "--onnx-out", str(tmp_path / "m.onnx"), "--out", str(out)]) == 0
    table = pd.read_csv(out)
    assert list(table.columns) == RECORD_COLUMNS
    assert set(table["source"]) == {"measured"} and set(table["platform"]) == {"cpu"}
    assert table["power_w"].isna().all()
    assert sorted(table["batch_size"]) == [1, 8]
