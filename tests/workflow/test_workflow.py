"""The real workflow, run by Snakemake on the tiny config in a temporary directory."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sparsekws.core.files import read_json
from support import REPO_ROOT, named_config, workflow_runs
from support.workflow_runs import run_snakemake

#: The figure and table jobs of a run, one each.
REPORT_JOBS = dict.fromkeys(["effective_config", "figure_class_balance", "figure_training_curves", "figure_confusion",
                             "figure_noise_robustness", "table_accuracy", "figure_accuracy", "figure_accuracy_vs_macs",
                             "figure_throughput", "figure_host_throughput", "figure_full_chip", "figure_energy",
                             "table_race", "figure_race", "table_table1", "table_headline", "figure_answer",
                             "table_compile", "table_provenance"], 1)
#: The ones that read the measurement table or the compile stage's estimates.
THROUGHPUT_JOBS = dict.fromkeys(["figure_throughput", "figure_host_throughput", "figure_full_chip", "figure_energy",
                                 "table_race", "figure_race", "table_table1", "table_headline", "figure_answer"], 1)


def snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = run_snakemake(workdir, ["--cores", "2", *args])
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


def job_counts(output: str) -> dict[str, int]:
    """The 'Job stats' table of a Snakemake run or dry run."""
    table = output.split("Job stats:")[1].strip().split("\n\n")[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M) if m.group(1) != "total"}


def device_platforms(config: dict) -> list[str]:
    """The measurement platforms that get one job per model besides the CPU one."""
    return [p for p in config["measure"]["platforms"] if p not in ("cpu", "finn-estimate")]


def copy_workflow(root: Path, config_name: str) -> Path:
    """Copy the workflow into ``root`` (no results) with ``config/<config_name>`` as its default."""
    return workflow_runs.copy_workflow(root, REPO_ROOT / "config" / config_name)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A copy of the workflow with the smoke config as its default."""
    return copy_workflow(tmp_path_factory.mktemp("workflow"), "smoke.yaml")


@pytest.fixture(scope="module")
def finished(workdir, smoke_reference):
    """The smoke workflow run to the end, then its report: from a copy of the uninterrupted run up to
    the files two runs must agree on (``smoke_reference``, results and job records), so those jobs
    do not run twice in the test suite."""
    shutil.copytree(smoke_reference / "results", workdir / "results", symlinks=True)
    shutil.copytree(smoke_reference / ".snakemake" / "metadata", workdir / ".snakemake" / "metadata")
    snakemake(workdir)
    snakemake(workdir, "--report", "results/report.html")
    return workdir


def test_dry_run_of_the_default_config_lists_every_stage(tmp_path):
    result = snakemake(copy_workflow(tmp_path, "config.yaml"), "-n")
    config = named_config("config.yaml")
    models, boards = len(config["models"]), len(config["compile"]["boards"])
    hardware = sum(entry.get("hardware", True) for entry in config["models"].values())
    assert config["sweep"]["base"] is None and models == hardware  # the sweep is config/sweep.yaml's
    frontends = len({entry["frontend"] for entry in config["models"].values()})
    counts = job_counts(result.stdout + result.stderr)
    assert not config["cross_voice"]["in_default_run"]  # its own target (test below)
    assert counts == {"dataset": 1, "dataset_card": 1, "features": frontends, "augment": frontends,
                      "train_seed": models * config["train"]["seeds"], "train": models, "evaluate": models,
                      "export": models, "compile": hardware * boards, "measure_cpu": hardware,
                      "measure_device": hardware * len(device_platforms(config)), "collect_measurements": 1,
                      "rtl": 1, "all": 1, **REPORT_JOBS}  # the RTL report of the model with sparse layers


@pytest.mark.parametrize("name", sorted(path.name for path in (REPO_ROOT / "config").glob("*.yaml")))
def test_a_named_config_runs_exactly_its_models(tmp_path, name):
    """``snakemake --configfile config/<name>.yaml`` as the README says, in a copy whose default
    config is the shipped one: only the named config's models, boards and dataset are planned."""
    workdir = workflow_runs.copy_workflow(tmp_path, REPO_ROOT / "config" / "config.yaml")
    result = snakemake(workdir, "-n", "--configfile", f"config/{name}")
    config = named_config(name)
    hardware = [m for m, entry in config["models"].items() if entry.get("hardware", True)]
    counts = job_counts(result.stdout + result.stderr)
    assert counts["train"] == counts["export"] == len(config["models"])
    assert counts["compile"] == len(hardware) * len(config["compile"]["boards"])
    assert counts["measure_cpu"] == len(hardware)
    dataset = config["dataset"]["name"]
    planned = set(re.findall(r"results/models/([^/\s]+)/([^/\s]+)/model\.pt", result.stdout))
    assert planned == {(dataset, model) for model in config["models"]}


def test_the_documented_targets_plan_what_the_readme_says(tmp_path):
    """``publish`` (the whole run, then the report), ``rtl_reports`` (the RTL report of every
    hardware model, dense ones too), ``vivado`` (no build where Vivado is not installed) and
    ``cross_voice`` (the leave-one-family-out test alone) and ``ablation`` (the recipe ablation alone)."""
    workdir = copy_workflow(tmp_path, "config.yaml")
    config = named_config("config.yaml")
    hardware = [m for m, entry in config["models"].items() if entry.get("hardware", True)]
    publish = job_counts(snakemake(workdir, "-n", "publish").stdout)
    assert publish["publish"] == 1 and publish["train"] == len(config["models"]) and "all" not in publish
    assert job_counts(snakemake(workdir, "-n", "rtl_reports").stdout)["rtl"] == len(hardware)
    assert "vivado_build" not in job_counts(snakemake(workdir, "-n", "vivado").stdout)
    assert not {"family_split", "cross_voice_train"} & set(publish)
    cross = config["cross_voice"]["models"]
    families = [f for f, share in config["dataset"]["synthetic"]["families"].items() if share > 0]
    planned = job_counts(snakemake(workdir, "-n", "cross_voice").stdout)
    assert len(cross) == 2 and len(families) == 3
    assert planned["cross_voice_train"] == len(cross) * len(families) and planned["table_cross_voice"] == 1
    assert planned["cross_voice_train_seed"] == len(cross) * len(families) * config["train"]["seeds"]
    assert planned["family_split"] == len({config["models"][m]["frontend"] for m in cross}) * len(families)
    assert planned["augment"] == 1 and "compile" not in planned  # only what the test needs
    # the ablation of config/ablation.yaml: its variants and their bases trained, the table, nothing else
    ablation = named_config("ablation.yaml")
    rows = ablation["ablation"]["rows"]
    trained = set(rows) | {row["base"] for row in rows.values()}
    planned = job_counts(snakemake(workdir, "-n", "ablation", "--configfile", "config/ablation.yaml").stdout)
    assert planned["train"] == len(trained) and planned["train_seed"] == len(trained) * ablation["train"]["seeds"]
    assert planned["table_ablation"] == 1 and not {"compile", "export", "evaluate"} & set(planned)


def test_a_config_without_a_required_key_is_refused_not_filled_from_another_file(tmp_path):
    workdir = workflow_runs.copy_workflow(tmp_path, REPO_ROOT / "config" / "config.yaml")
    config = yaml.safe_load((REPO_ROOT / "config" / "smoke.yaml").read_text())
    del config["dataset"]["name"]
    (workdir / "nameless.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(workdir, "-n", "--configfile", "nameless.yaml", check=False)
    assert result.returncode != 0
    assert "config key 'dataset': 'name' is a required property" in result.stdout + result.stderr


def test_a_dry_run_writes_nothing(tmp_path):
    workdir = copy_workflow(tmp_path, "smoke.yaml")
    snakemake(workdir, "-n")
    assert not (workdir / "results").exists()


def test_invalid_config_fails_before_any_job(workdir, tmp_path):
    config = yaml.safe_load((workdir / "config" / "config.yaml").read_text())
    config["models"]["sparse"]["weight_density"] = 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(config))
    result = snakemake(workdir, "-n", "--configfile", str(bad), check=False)
    assert result.returncode != 0
    assert "config key 'models.sparse.weight_density'" in result.stdout + result.stderr
    assert "Job stats" not in result.stdout + result.stderr


def test_outputs_have_real_content(finished):
    config = yaml.safe_load((finished / "config" / "config.yaml").read_text())
    name = config["dataset"]["name"]
    results = finished / "results"

    dataset = results / "datasets" / name
    assert (dataset / "validation_list.txt").read_text().strip()
    assert (dataset / "testing_list.txt").read_text().strip()
    assert any((dataset / "_background_noise_").glob("*.wav"))

    features = np.load(results / "features" / name / "mfcc.npz")
    assert features["x_train"].dtype == np.int8 and features["x_train"].shape[1:] == (49, 10)
    assert len(features["classes"]) == len(config["task"]["words"]) + 2

    for model, entry in config["models"].items():
        metrics = read_json(results / "models" / name / model / "metrics.json")
        assert 0.0 <= metrics["test_accuracy"] <= 1.0
        for layer in metrics["layers"]:  # fixed fan-in: the density rounded to whole inputs per unit
            assert layer["mask_density"] == pytest.approx(entry["weight_density"], abs=0.5 / layer["shape"][1] + 1e-9)
        assert read_json(results / "models" / name / model / "export_check.json")["passed"] is True

    table = pd.read_csv(results / "measurements" / name / "throughput.csv")
    assert set(table["source"]) == {"measured", "estimated"}
    assert set(table.loc[table["platform"] == "cpu", "source"]) == {"measured"}
    boards = set(config["compile"]["boards"])
    assert set(table.loc[table["source"] == "estimated", "platform"]) == boards
    assert set(table["model"]) == set(config["models"])
    assert (table["throughput_words_per_s"] > 0).all()

    for stem in ("throughput", "accuracy"):
        for suffix in ("png", "svg"):
            assert (results / "figures" / name / f"{stem}.{suffix}").stat().st_size > 1000
    report = (results / "report.html").read_text(errors="replace")
    assert "throughput.png" in report and "accuracy.png" in report


def test_deleting_one_qonnx_reruns_only_its_dependents(finished):
    config = yaml.safe_load((finished / "config" / "config.yaml").read_text())
    name, boards = config["dataset"]["name"], config["compile"]["boards"]
    model_dir = finished / "results" / "models" / name / "sparse"
    trained = (model_dir / "model.pt").stat().st_mtime_ns
    other = (finished / "results" / "models" / name / "dense" / "model.qonnx.onnx").stat().st_mtime_ns
    (model_dir / "model.qonnx.onnx").unlink()
    run = snakemake(finished)
    counts = job_counts(run.stdout + run.stderr)
    assert counts == {"export": 1, "compile": len(boards), "measure_cpu": 1,
                      "measure_device": len(device_platforms(config)), "collect_measurements": 1, "table_compile": 1,
                      "rtl": 1, "all": 1, **THROUGHPUT_JOBS}  # the sparse model's RTL report reads its trained weights
    assert (model_dir / "model.qonnx.onnx").exists()
    assert (model_dir / "model.pt").stat().st_mtime_ns == trained
    assert (finished / "results" / "models" / name / "dense" / "model.qonnx.onnx").stat().st_mtime_ns == other


def test_dataset_card_in_results_and_report(finished):
    config = yaml.safe_load((finished / "config" / "config.yaml").read_text())
    name = config["dataset"]["name"]
    results = finished / "results"
    card = pd.read_csv(results / "tables" / name / "dataset_card.csv")
    assert list(card.columns) == ["section", "split", "class", "count"]
    features = np.load(results / "features" / name / "mfcc.npz")
    task = card[card.section == "task"]
    for split in ("train", "validation", "test"):
        counts = np.bincount(features[f"y_{split}"], minlength=len(features["classes"]))
        shown = task[task.split == split].set_index("class")["count"]
        assert shown.to_dict() == dict(zip(features["classes"].tolist(), counts.tolist()))
    for suffix in ("png", "svg"):
        assert (results / "figures" / name / f"class_balance.{suffix}").stat().st_size > 1000
    report = (results / "report.html").read_text(errors="replace")
    assert "class_balance.png" in report and "dataset_card.csv" in report


def test_figures_tables_and_a_published_report_a_reader_can_see(finished):
    """Graphs 1-4, Table 1 and the headline table exist; `snakemake publish` writes the report,
    figures, tables and README; Chromium shows every figure (screenshot kept as a CI artefact)."""
    import json

    from sparsekws.figures.style import DPI
    from sparsekws.figures.table1 import platform_name
    from sparsekws.report.publish import find_chromium

    config = yaml.safe_load((finished / "config" / "config.yaml").read_text())
    name = config["dataset"]["name"]
    tables = finished / "results" / "tables" / name
    table1 = pd.read_csv(tables / "table1.csv")
    ours = table1[table1["origin"] == "this run"]
    assert set(ours["platform"]) == {platform_name(board) for board in config["compile"]["boards"]}
    assert set(ours["source"]) == {"estimated"} and set(table1["source"]) == {"estimated", "reported"}
    headline = pd.read_csv(tables / "headline.csv")
    assert {"claim", "blog_value", "our_value", "source", "note"} <= set(headline.columns)
    blank = headline[headline["blog_value"].notna() & headline["our_value"].isna()]
    assert blank["note"].str.len().min() > 10  # every claim we cannot compute says why

    snakemake(finished, "publish")
    publish = finished / "results" / "publish"
    for stem in ("throughput", "race", "full_chip", "energy", "accuracy_vs_macs"):
        for suffix in ("png", "svg"):
            assert (publish / "figures" / f"{stem}.{suffix}").stat().st_size > 1000
    assert (publish / "tables" / "headline.csv").read_text() == (tables / "headline.csv").read_text()
    assert "report.html" in (publish / "README.md").read_text()
    if find_chromium() is None:
        pytest.skip("Chromium is not installed (Debian package 'chromium', in envs/apt-packages.txt): "
                    "the report was published but not opened in a browser")
    check = json.loads((publish / "report_check.json").read_text())
    shown = {Path(path).name for path, f in check["figures"].items() if f["shown"] and f["width"] > 0}
    assert {"answer.png", "throughput.png", "host_throughput.png", "race.png", "full_chip.png", "energy.png",
            "accuracy_vs_macs.png"} <= shown
    assert shown == {Path(path).name for path in check["figures"]}
    # each figure whole on screen, captioned, with a screenshot of its page
    assert [path for path, f in check["figures"].items() if not (f["uncropped"] and f["caption"] > 0)] == []
    # legible as shown: a figure's 9 pt text is at least 9 pt on screen (96 CSS pixels per inch)
    assert [path for path, f in check["figures"].items() if f["scale"] * DPI < 96] == []
    assert set(check["screenshots"]) == set(check["figures"])
    landing = check["landing_text"]  # the report opens on the answer, then says what it is
    assert "git revision" in landing and landing.index("The answer.") < landing.index("About this report.")
    assert (publish / "screenshots" / "landing.png").stat().st_size > 5000
    artefacts = REPO_ROOT / "results" / "ci" / "screenshots"
    shutil.rmtree(artefacts, ignore_errors=True)
    shutil.copytree(publish / "screenshots", artefacts)


def test_another_config_on_the_same_dataset_changes_nothing_until_it_runs(finished, tmp_path):
    """A second run on the same dataset name with other settings (here: dry, or refused by the
    lock) writes nothing: every job of a run reads its settings from its own rule's params."""
    results = finished / "results"
    before = {path: path.stat().st_mtime_ns for path in results.rglob("*") if path.is_file()}
    config = yaml.safe_load((finished / "config" / "config.yaml").read_text())
    config["train"]["epochs"] += 1
    (tmp_path / "other.yaml").write_text(yaml.safe_dump(config))
    snakemake(finished, "-n", "--configfile", str(tmp_path / "other.yaml"))
    after = {path: path.stat().st_mtime_ns for path in results.rglob("*") if path.is_file()}
    assert after == before


def test_a_changed_measurement_table_reruns_only_the_figures(finished):
    config = yaml.safe_load((finished / "config" / "config.yaml").read_text())
    table = finished / "results" / "measurements" / config["dataset"]["name"] / "throughput.csv"
    records = pd.read_csv(table)
    records.loc[records["platform"] == "cpu", "throughput_words_per_s"] *= 2  # a new measurement
    records.to_csv(table, index=False)
    counts = job_counts(snakemake(finished, "-n").stdout)
    assert counts == {"all": 1, **THROUGHPUT_JOBS}


def test_measure_stage_records_every_cpu_backend_and_skips_absent_hardware_with_reasons(finished):
    config = yaml.safe_load((finished / "config" / "config.yaml").read_text())
    name = config["dataset"]["name"]
    table = pd.read_csv(finished / "results" / "measurements" / name / "throughput.csv")
    cpu = table[table["platform"] == "cpu"]
    for model in config["models"]:
        assert set(cpu.loc[cpu["model"] == model, "backend"]) == {"onnxruntime-float32", "onnxruntime-int8",
                                                                   "torch", "sparse"}
    exact = cpu[cpu["backend"] != "onnxruntime-int8"]
    assert exact["outputs_match_model"].all()
    assert cpu["power_w"].isna().all() or (cpu["power_w"] > 0).all()  # missing, never 0
    skipped = pd.read_csv(finished / "results" / "measurements" / name / "skipped.csv")
    assert {"pynq", "alveo"} <= set(skipped["platform"])
    assert skipped["reason"].str.len().gt(10).all()


def test_evaluation_outputs_and_training_figures_are_in_results_and_report(finished):
    config = yaml.safe_load((finished / "config" / "config.yaml").read_text())
    name = config["dataset"]["name"]
    results = finished / "results"
    for model in config["models"]:
        folder = results / "models" / name / model
        evaluation = read_json(folder / "evaluation.json")
        metrics = read_json(folder / "metrics.json")
        assert evaluation["test_accuracy"] == pytest.approx(metrics["test_accuracy"])
        assert evaluation["noise"]["features_recomputed_agreement"] == 1.0
        noise = pd.read_csv(folder / "noise_robustness.csv")
        assert noise["alpha"].tolist() == config["evaluate"]["noise_levels"]
        assert pd.read_csv(folder / "confusion.csv").drop(columns="true").to_numpy().sum() == evaluation["test_samples"]
        assert evaluation["macs"]["weight_activation_sparse"] <= evaluation["macs"]["weight_sparse"] <= evaluation["macs"]["dense"]
    report = (results / "report.html").read_text(errors="replace")
    for stem in ("training_curves", "confusion", "noise_robustness"):
        for suffix in ("png", "svg"):
            assert (results / "figures" / name / f"{stem}.{suffix}").stat().st_size > 1000
        assert f"{stem}.png" in report


def test_cross_voice_table_figure_and_report(finished):
    """The smoke config's leave-one-family-out test: one row per held-out family, the held-out
    samples are that family's words from every split, the in-family count its test split."""
    config = yaml.safe_load((finished / "config" / "config.yaml").read_text())
    name = config["dataset"]["name"]
    results = finished / "results"
    table = pd.read_csv(results / "tables" / name / "cross_voice.csv")
    assert table["held_out"].tolist() == ["espeak-ng", "flite", "festival"]
    assert set(table["model"]) == set(config["cross_voice"]["models"])
    info = read_json(results / "datasets" / name / "dataset_info.json")
    families = {s["id"]: s["family"] for s in info["source_info"]["speakers"]}
    for row in table.itertuples():
        only = np.load(results / "cross_voice" / name / "features" / f"mfcc_only_{row.held_out}.npz")
        assert len(only["y"]) == row.n and {families[f.split("/")[1][:8]] for f in only["files"]} == {row.held_out}
        without = np.load(results / "cross_voice" / name / "features" / f"mfcc_without_{row.held_out}.npz")
        assert len(without["y_test"]) == row.in_family_n
        assert row.held_out not in {families.get(f.split("/")[1][:8]) for f in without["files_train"]}
    assert (results / "figures" / name / "cross_voice.png").stat().st_size > 1000
    assert "cross_voice.png" in (results / "report.html").read_text(errors="replace")


def test_two_runs_from_scratch_give_identical_results(finished, smoke_reference):
    """Same config, two fresh directories (this module's run and the shared reference run):
    identical dataset bytes, features, weights, metrics and FINN estimates (timings excluded)."""
    from support.workflow_runs import differences

    config = yaml.safe_load((finished / "config" / "config.yaml").read_text())
    assert differences(finished, smoke_reference, config) == []
