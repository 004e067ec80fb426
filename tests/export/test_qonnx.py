"""QONNX export: the graph equals the torch model, masks survive, tampering is caught."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from sparsekws.core.errors import UserError
from sparsekws.export import qonnx as export
from sparsekws.features.store import load_features
from sparsekws.models.sparse_weights import weight_layers
from sparsekws.training.model_file import load_trained_model
from sparsekws.training.trainer import train_model
from support.fixtures import make_features, tiny_config


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One tiny trained dense and sparse model on fake features."""
    root = tmp_path_factory.mktemp("export")
    features = make_features(root / "features.npz")
    cfg = tiny_config(epochs=2)
    for name in ("dense", "sparse"):
        train_model(cfg, name, features, root / name)
    return root, features, cfg


@pytest.mark.parametrize("name", ["dense", "sparse"])
def test_export_passes_and_writes_outputs(trained, tmp_path, name):
    root, features, cfg = trained
    out = tmp_path / "model.qonnx.onnx"
    check = export.export_model(cfg, name, root / name / "model.pt", features, out,
                                check_out=tmp_path / "check.json", reference_out=tmp_path / "ref.npz",
                                samples=16)
    assert check["passed"] and out.exists()
    on_disk = json.loads((tmp_path / "check.json").read_text())
    assert on_disk["samples"] == 16 and on_disk["argmax_agreement"] == 1.0
    assert on_disk["max_abs_diff"] <= on_disk["tolerance"]
    assert on_disk["node_types"].count("MatMul") == 3
    assert {"Quant", "MatMul", "BatchNormalization", "Relu"} == set(on_disk["node_types"])
    assert on_disk["input_datatype"] == "INT8"
    weights = on_disk["weight_initializers"]
    assert [w["shape"] for w in weights] == [[490, 16], [16, 16], [16, 12]]
    if name == "sparse":
        assert all(w["mask_zeros_preserved"] for w in weights)
        assert weights[0]["quantised_zero_fraction"] >= 1 - 122 / 490 - 1e-9
    else:
        assert all("mask_zeros_preserved" not in w for w in weights)

    ref = np.load(tmp_path / "ref.npz")
    assert ref["inputs"].shape == (16, 490) and ref["inputs"].dtype == np.float32
    assert ref["outputs"].shape == (16, 12)
    model, _ = load_trained_model(root / name / "model.pt")
    with torch.no_grad():
        np.testing.assert_array_equal(model(torch.from_numpy(ref["inputs"])).numpy(), ref["outputs"])

    from qonnx.core.datatype import DataType
    from qonnx.core.modelwrapper import ModelWrapper

    graph = ModelWrapper(str(out))
    assert graph.get_tensor_datatype(graph.graph.input[0].name) == DataType["INT8"]
    np.testing.assert_allclose(export.execute_graph(graph, ref["inputs"][:3]), ref["outputs"][:3],
                               rtol=0, atol=on_disk["tolerance"])


def test_sparse_export_keeps_exact_masked_zeros(trained, tmp_path):
    root, features, cfg = trained
    model, _ = load_trained_model(root / "sparse" / "model.pt")
    wrapper = export.export_qonnx_model(model, 490, 8, tmp_path / "m.onnx")
    for (_, _, sparse), weight in zip(weight_layers(model), export.exported_weights(wrapper)):
        masked = sparse.mask.numpy().T == 0
        assert np.all(weight["raw"][masked] == 0) and np.all(weight["quantised"][masked] == 0)
        assert np.all((weight["quantised"] != 0).sum(axis=0) <= sparse.fan_in)


def _tamper_weight(wrapper, value: float, masked_only: bool = False, mask=None):
    weight = export.exported_weights(wrapper)[0]
    raw = weight["raw"].copy()
    if masked_only:
        raw[mask == 0] = value
    else:
        raw[0, :] = value
    wrapper.set_initializer(weight["initializer"], raw)
    return wrapper


def test_check_fails_on_tampered_weights(trained, tmp_path):
    root, features, _ = trained
    model, _ = load_trained_model(root / "dense" / "model.pt")
    inputs = load_features(features).x["test"][:8].numpy()
    wrapper = export.export_qonnx_model(model, 490, 8, tmp_path / "m.onnx")
    assert export.check_export(wrapper, model, inputs)["passed"]
    bad = export.check_export(_tamper_weight(wrapper, 5.0), model, inputs)
    assert not bad["passed"] and bad["max_abs_diff"] > bad["tolerance"]


def test_check_fails_when_masked_weights_become_nonzero(trained, tmp_path):
    root, features, _ = trained
    model, _ = load_trained_model(root / "sparse" / "model.pt")
    inputs = load_features(features).x["test"][:4].numpy()
    wrapper = export.export_qonnx_model(model, 490, 8, tmp_path / "m.onnx")
    mask = weight_layers(model)[0][2].mask.numpy().T
    bad = export.check_export(_tamper_weight(wrapper, 1.0, masked_only=True, mask=mask), model, inputs)
    assert not bad["passed"]
    assert bad["weight_initializers"][0]["mask_zeros_preserved"] is False


def test_export_raises_and_writes_nothing_when_graph_is_wrong(trained, tmp_path, monkeypatch):
    root, features, cfg = trained
    real = export.export_qonnx_model

    def tampered(*args, **kwargs):
        return _tamper_weight(real(*args, **kwargs), 3.0)

    monkeypatch.setattr(export, "export_qonnx_model", tampered)
    out = tmp_path / "model.qonnx.onnx"
    with pytest.raises(UserError, match="does not match"):
        export.export_model(cfg, "dense", root / "dense" / "model.pt", features, out,
                            check_out=tmp_path / "check.json", reference_out=tmp_path / "ref.npz", samples=4)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_export_rejects_checkpoint_of_another_config(trained, tmp_path):
    root, features, cfg = trained
    cfg = {**cfg, "models": {**cfg["models"], "dense": {**cfg["models"]["dense"], "hidden_units": [8, 8]}}}
    with pytest.raises(UserError, match="retrain"):
        export.export_model(cfg, "dense", root / "dense" / "model.pt", features, tmp_path / "m.onnx")


def test_export_refuses_features_of_another_dataset(trained, tmp_path):
    root, _, cfg = trained
    other = make_features(tmp_path / "other.npz", seed=4)
    with pytest.raises(UserError, match="is not the one .*was trained on"):
        export.export_model(cfg, "sparse", root / "sparse" / "model.pt", other, tmp_path / "m.qonnx.onnx")
    assert not (tmp_path / "m.qonnx.onnx").exists()


def test_cli_export(trained, tmp_path):
    from sparsekws.cli import main

    root, features, cfg = trained
    settings = {"seed": cfg["seed"], "models": {"sparse": cfg["models"]["sparse"]}, "train": {"threads": 1}}
    assert main(["export", "--settings", json.dumps(settings), "--model", "sparse", "--checkpoint",
                 str(root / "sparse" / "model.pt"), "--features", str(features), "--out",
                 str(tmp_path / "m.qonnx.onnx"), "--check-out", str(tmp_path / "c.json"), "--samples", "8"]) == 0
    assert json.loads((tmp_path / "c.json").read_text())["passed"] is True


# --------------------------------------------------------------------------------------------
# the CNN with k-WTA custom nodes (a tiny one: 8 channels, 32 linear units)


def _cnn_checkpoint(root, mode: str = "global"):
    """A warmed-up tiny sparse CNN saved in the train stage's model.pt format, and its config."""
    from support.fixtures import cnn_config, warmed_up

    from sparsekws.models.zoo import build_model

    mcfg = cnn_config(kwinners_mode=mode)
    torch.manual_seed(0)
    model = warmed_up(build_model(mcfg, (1, 32, 32), 12, seed=11), (1, 32, 32))
    classes = ["_silence_", "_unknown_", "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]
    path = root / f"cnn-{mode}.pt"
    torch.save({"state_dict": model.state_dict(), "model_config": mcfg, "in_features": 1024,
                "feature_shape": [32, 32], "input_shape": [1, 32, 32], "classes": classes, "seed": 11}, path)
    return path, mcfg, model


@pytest.fixture(scope="module")
def cnn_features(tmp_path_factory):
    return make_features(tmp_path_factory.mktemp("cnn") / "features.npz", shape=(32, 32))


@pytest.mark.parametrize("mode", ["global", "local"])
def test_cnn_export_with_kwinners_equals_torch(tmp_path, cnn_features, mode):
    checkpoint, mcfg, model = _cnn_checkpoint(tmp_path, mode)
    cfg = tiny_config()
    cfg["models"]["cnn"] = mcfg
    check = export.export_model(cfg, "cnn", checkpoint, cnn_features, tmp_path / "m.qonnx.onnx",
                                reference_out=tmp_path / "ref.npz", samples=6)
    assert check["passed"] and check["max_abs_diff"] <= check["tolerance"]
    assert check["node_types"].count("KWinners") == 3 and check["node_types"].count("Conv") == 2
    assert check["custom_nodes"] == [{"op_type": "KWinners", "domain": "sparsekws.custom_op"}] * 3
    weights = check["weight_initializers"]
    assert [w["shape"] for w in weights] == [[8, 1, 5, 5], [8, 8, 5, 5], [200, 32], [32, 12]]
    assert all(w["mask_zeros_preserved"] for w in weights[:3]) and "mask_zeros_preserved" not in weights[3]
    assert weights[2]["quantised_zero_fraction"] >= 0.9 - 1e-9
    ref = np.load(tmp_path / "ref.npz")
    assert ref["inputs"].shape == (6, 1, 32, 32)

    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.custom_op.registry import getCustomOp

    graph = ModelWrapper(str(tmp_path / "m.qonnx.onnx"))
    nodes = [getCustomOp(n) for n in graph.graph.node if n.op_type == "KWinners"]
    kws = [m for m in model.modules() if type(m).__name__ == "KWinners"]
    assert [n.get_nodeattr("mode") for n in nodes] == [mode, mode, "global"]
    assert [n.get_nodeattr("k") for n in nodes] == [
        k.k(torch.zeros(1, k.channels, s, s) if s else torch.zeros(1, k.channels), training=False)
        for k, s in zip(kws, (14, 5, 0))]
    np.testing.assert_array_equal(np.float32(nodes[0].get_nodeattr("boost")), kws[0].boost_factors().numpy())


def test_cnn_check_fails_when_kwinners_node_is_changed(tmp_path):
    from qonnx.custom_op.registry import getCustomOp

    _, _, model = _cnn_checkpoint(tmp_path)
    inputs = torch.randint(-128, 128, (4, 1, 32, 32)).float().numpy()
    wrapper = export.export_qonnx_model(model, (1, 32, 32), 8, tmp_path / "m.onnx")
    assert export.check_export(wrapper, model, inputs)["passed"]
    node = next(n for n in wrapper.graph.node if n.op_type == "KWinners")
    op = getCustomOp(node)
    op.set_nodeattr("k", op.get_nodeattr("k") * 3)
    assert not export.check_export(wrapper, model, inputs)["passed"]


def test_cnn_check_fails_when_masked_conv_weights_become_nonzero(tmp_path):
    _, _, model = _cnn_checkpoint(tmp_path)
    inputs = torch.randint(-128, 128, (2, 1, 32, 32)).float().numpy()
    wrapper = export.export_qonnx_model(model, (1, 32, 32), 8, tmp_path / "m.onnx")
    weight = export.exported_weights(wrapper)[1]
    assert weight["op_type"] == "Conv"
    mask = weight_layers(model)[1][2].mask.numpy()
    raw = weight["raw"].copy()
    raw[mask == 0] = 0.5
    wrapper.set_initializer(weight["initializer"], raw)
    bad = export.check_export(wrapper, model, inputs)
    assert not bad["passed"] and bad["weight_initializers"][1]["mask_zeros_preserved"] is False
