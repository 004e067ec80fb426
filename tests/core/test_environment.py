"""The pinned environment: every stage's imports work, and the pins that matter hold."""

from sparsekws.core.environment import STAGE_IMPORTS, import_all
from sparsekws.core.provenance import package_versions


def test_every_stage_imports():
    assert import_all() == {}
    assert {"dataset", "features", "train", "export", "compile", "measure", "figures", "workflow"} <= set(STAGE_IMPORTS)


def test_pinned_versions():
    versions = package_versions()
    assert versions["torch"].startswith("2.13.0")
    assert versions["brevitas"] == "0.13.4"
    assert versions["finn-plus"] == "1.6.1"
    assert versions["qonnx"] == "1.0.0"
    assert versions["snakemake"].startswith("9.")


def test_brevitas_runs_on_this_torch():
    import torch
    from brevitas.nn import QuantLinear

    layer = QuantLinear(4, 2, bias=False, weight_bit_width=3)
    assert layer(torch.ones(1, 4)).shape == (1, 2)
