"""Shared fixtures: a small exported sparse MLP, an uninterrupted run of the smoke config, and a
check of every figure a test saves as a reader would see it (no text under ``style.MIN_FONT_PT``,
at most twice as wide as tall)."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import CONFIG_DIR
from support.fixtures import write_mlp_fixture


@pytest.fixture(autouse=True)
def legible_figures(monkeypatch):
    import matplotlib.figure

    from sparsekws.figures.style import small_texts

    save = matplotlib.figure.Figure.savefig

    def checked(fig, *args, **kwargs):
        assert small_texts(fig) == []
        box = fig.get_tightbbox(fig.canvas.get_renderer())
        assert box.width <= 2.0 * box.height, f"figure {box.width:.1f} x {box.height:.1f} in: wider than 2:1"
        return save(fig, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", checked)


@pytest.fixture(scope="session")
def tiny_qonnx(tmp_path_factory):
    """(qonnx path, reference_io path) of a small sparse MLP with 20 reference words."""
    return write_mlp_fixture(tmp_path_factory.mktemp("tiny"), 0.5, hidden=(16, 16), samples=20)


@pytest.fixture(scope="session")
def smoke_reference(tmp_path_factory) -> Path:
    """A folder with an uninterrupted run of config/smoke.yaml up to every file two runs must
    agree on (``workflow_runs.compared_targets``); the fault and SLURM tests compare with it."""
    import yaml

    from support.workflow_runs import compared_targets, copy_workflow, run_snakemake

    smoke = CONFIG_DIR / "smoke.yaml"
    workdir = copy_workflow(tmp_path_factory.mktemp("smoke_reference"), smoke)
    result = run_snakemake(workdir, ["--cores", "2", *compared_targets(yaml.safe_load(smoke.read_text()))])
    assert result.returncode == 0, f"the smoke run failed:\n{(result.stdout + result.stderr)[-4000:]}"
    return workdir
