import math

from sparsekws.figures.compile_table import COLUMNS, compile_table


def _estimate(model, board, copies, stock_copies, fits=True):
    return {"model": model, "board": board, "status": "estimated", "estimator": "finn-estimate+sparsekws-model",
            "fps": 1000.0, "max_cycles": 100, "latency": {"ms": 0.5}, "networks_per_chip": copies,
            "full_chip_fps": 1000.0 * copies,
            "fit": {"fits": fits, "binding_resource": "LUT", "used": {"LUT": 10.0, "BRAM36": 2.0, "URAM": 0.0, "DSP": 1.0}},
            "stock": {"fps": 500.0, "networks_per_chip": stock_copies, "binding_resource": "BRAM36",
                      "full_chip_fps": 500.0 * stock_copies}}


def test_tuned_beside_stock_and_unbuildable_models_keep_their_reason():
    table = compile_table([_estimate("sparse", "u250", 4, 2), _estimate("dense", "ultra96", 0, 0, fits=False),
                           {"model": "cnn", "board": "u250", "status": "not-mappable", "reason": "no k-WTA layer"}])
    assert list(table.columns) == COLUMNS and list(table["model"]) == ["cnn", "dense", "sparse"]
    sparse = table.set_index("model").loc["sparse"]
    assert sparse["full_chip_fps"] == 4000 and sparse["stock_full_chip_fps"] == 1000
    assert sparse["tuned_over_stock_full_chip"] == 4 and sparse["LUT"] == 10
    dense = table.set_index("model").loc["dense"]
    assert dense["full_chip_fps"] == 0 and math.isnan(dense["tuned_over_stock_full_chip"])
    assert "no folding fits" in dense["note"]
    assert table.set_index("model").loc["cnn", "note"] == "no k-WTA layer"
