"""Faults and bad input, end to end on the tiny config.

A run killed during the dataset and the training jobs and then rerun ends with the same
results as an uninterrupted run; partial outputs never count as done. Each bad input (wrong
config types, an unknown model family or board, a truncated archive, a missing tool, a full
disk) fails with one clear message naming the problem, and leaves the earlier results intact.
One uninterrupted run (``smoke_reference`` in conftest.py) serves every test.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from support import REPO_ROOT
from sparsekws.core.files import read_json
from support.workflow_runs import compared_targets, copy_workflow, differences, run_snakemake

SMOKE = REPO_ROOT / "config" / "smoke.yaml"
CONFIG = yaml.safe_load(SMOKE.read_text())
NAME = CONFIG["dataset"]["name"]
TARGETS = compared_targets(CONFIG)
CORES = ["--cores", "2"]


def snakemake(workdir: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    result = run_snakemake(workdir, [*CORES, *args], env=env, timeout=600)
    assert result.returncode == 0, f"snakemake {' '.join(args)} failed:\n{(result.stdout + result.stderr)[-4000:]}"
    return result


def failing(workdir: Path, *args: str, env: dict | None = None) -> str:
    """The output of a Snakemake run that must fail. (Targets go before ``--configfile``, which
    would take them as further config files.)"""
    result = run_snakemake(workdir, [*CORES, *args], env=env, timeout=600)
    assert result.returncode != 0, f"snakemake {' '.join(args)} succeeded:\n{result.stdout[-3000:]}"
    return result.stdout + result.stderr


def failed_logs(output: str, workdir: Path) -> str:
    """The text of every log that Snakemake's failure report names (``log: <path> (check log ...``)."""
    paths = re.findall(r"^\s*log: (\S+) \(check log file", output, re.M)
    assert paths, f"no log path printed with the failure:\n{output[-3000:]}"
    return "".join((workdir / path).read_text() for path in paths)


def snapshot(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root/results``."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((root / "results").rglob("*")) if p.is_file()}


def assert_kept(before: dict[str, str], root: Path) -> None:
    """Every file of ``before`` is still there with the same content (new files may exist)."""
    after = snapshot(root)
    changed = [path for path, digest in before.items() if after.get(path) != digest]
    assert not changed, f"earlier results lost or changed: {changed[:10]}"


def variant(tmp_path: Path, name: str, **changes) -> Path:
    """The smoke config under another dataset name with top-level sections replaced; its path."""
    config = yaml.safe_load(SMOKE.read_text())
    config["dataset"]["name"] = name
    for key, value in changes.items():
        config[key] = value
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def path_without(tmp_path: Path, *tools: str) -> dict[str, str]:
    """The environment with PATH replaced by one folder linking every program on PATH but ``tools``."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for directory in os.environ["PATH"].split(os.pathsep):
        if not os.path.isdir(directory):
            continue
        for entry in os.scandir(directory):
            target = folder / entry.name
            if entry.name not in tools and not target.exists() and not target.is_symlink():
                target.symlink_to(entry.path)
    env = {k: v for k, v in os.environ.items() if k != "XILINX_VIVADO"}
    env["PATH"] = str(folder)
    return env


def start(workdir: Path, *args: str) -> subprocess.Popen:
    """Snakemake in the background, in its own process group (as a terminal would run it)."""
    out = open(workdir / "run.out", "a")
    # SIGINT handled as in a terminal even when the tests run in a background shell (which ignores it)
    restore = lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)  # noqa: E731
    return subprocess.Popen([sys.executable, "-m", "snakemake", *CORES, *args], cwd=workdir, stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=restore)


def kill_when(process: subprocess.Popen, ready, sig: int, workdir: Path, what: str, timeout: float = 300) -> None:
    """Send ``sig`` to the process group of ``process`` as soon as ``ready()`` holds."""
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the run ended (or took too long) before {what}:\n{(workdir / 'run.out').read_text()[-3000:]}")
        time.sleep(0.05)
    os.killpg(process.pid, sig)
    process.wait(timeout=120)


def planned(workdir: Path, *targets: str) -> str:
    """The dry-run output for ``targets``."""
    return snakemake(workdir, "-n", *targets).stdout


@pytest.fixture(scope="module")
def reference(smoke_reference):
    """An uninterrupted run of the smoke config up to every file two runs must agree on."""
    return smoke_reference


def test_runs_killed_during_dataset_and_training_resume_to_the_same_results(reference, tmp_path):
    work = copy_workflow(tmp_path / "work", SMOKE)
    datasets = work / "results" / "datasets"

    # Ctrl-C while the dataset is being written: Snakemake stops the job and keeps no output.
    run = start(work, *TARGETS)
    kill_when(run, lambda: any(datasets.glob(f".{NAME}.*.tmp")), signal.SIGINT, work, "the dataset job wrote")
    assert not (datasets / NAME).exists()
    assert "rule dataset:" in planned(work, *TARGETS)

    # SIGKILL (a crash) after the first training epoch's checkpoint: outputs are incomplete.
    model_dir = work / "results" / "models" / NAME
    run = start(work, *TARGETS)
    checkpoints = lambda: list(model_dir.glob("*/runs/seed0.checkpoint.pt"))  # noqa: E731
    kill_when(run, lambda: bool(checkpoints()), signal.SIGKILL, work, "a training checkpoint was written")
    interrupted = {p.parts[-3] for p in checkpoints()}  # the models killed mid-training (checkpoint kept)
    assert interrupted
    assert (datasets / NAME / "dataset_info.json").is_file()
    snakemake(work, "--unlock")
    plan = planned(work, *TARGETS)
    for model in interrupted:
        assert not (model_dir / model / "model.pt").exists()
        assert f"results/models/{NAME}/{model}/model.pt" in plan

    snakemake(work, *TARGETS)
    for model in interrupted:
        assert "resuming" in (work / "results" / "logs" / "train" / f"{NAME}_{model}_seed0.log").read_text()
    assert not list(model_dir.glob("*/runs"))
    assert differences(reference, work, CONFIG) == []


def test_config_errors_name_the_key_and_run_nothing(reference, tmp_path):
    before = snapshot(reference)
    train = {**CONFIG["train"], "epochs": "two"}
    models = {**CONFIG["models"], "dense": {**CONFIG["models"]["dense"], "family": "transformer"}}
    compile_ = {**CONFIG["compile"], "boards": ["zcu104", "nosuchboard"]}
    cases = {"train.epochs": ({"train": train}, "config key 'train.epochs': 'two' is not of type 'integer'"),
             "family": ({"models": models}, "config key 'models.dense.family': 'transformer' is not one of"),
             "board": ({"compile": compile_}, "unknown board 'nosuchboard' in config key 'compile.boards'"),
             "ablation": ({"ablation": {"rows": {"dense-x": {"base": "dense", "change": "x",
                                                              "model": {"weight_scaling": "per_row"}}}}},
                          "config key 'models.dense-x.weight_scaling': 'per_row' is not one of"),
             "placement": ({"models": {**CONFIG["models"], "c": {"family": "cnn", "frontend": "logmel", "kwinners": True,
                                                                  "kwinners_placement": "before_pool"}}},
                           "models c: kwinners_placement before_pool has no hardware mapping")}
    for case, (changes, message) in cases.items():
        output = failing(reference, *TARGETS, "--configfile", str(variant(tmp_path, NAME, **changes)))
        assert message in output, case
        assert "Job stats" not in output, case
    assert_kept(before, reference)


def test_truncated_archive_fails_naming_it_and_keeps_nothing(reference, tmp_path):
    before = snapshot(reference)
    archive = tmp_path / "speech_commands.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(reference / "results" / "datasets" / NAME, arcname="speech_commands")
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    config = variant(tmp_path, "truncated", dataset={"name": "truncated", "source": "gsc",
                                                     "gsc": {"archive": str(archive)}})
    datasets = sorted((reference / "results" / "datasets").iterdir())
    output = failing(reference, "results/features/truncated/mfcc.npz", "--configfile", str(config))
    assert f"sparsekws dataset: error: cannot extract {archive}: " in failed_logs(output, reference)
    assert sorted((reference / "results" / "datasets").iterdir()) == datasets  # no partial or temporary folder
    assert_kept(before, reference)


def test_corrupt_wavs_are_rejected_by_name_and_left_out(reference, tmp_path):
    source = tmp_path / "corrupt"
    shutil.copytree(reference / "results" / "datasets" / NAME, source)
    (source / "dataset_info.json").unlink()
    word = CONFIG["task"]["words"][0]
    garbage, truncated = sorted((source / word).glob("*.wav"))[:2]
    garbage.write_bytes(b"this is not a wav file")
    truncated.write_bytes(truncated.read_bytes()[:1000])
    config = variant(tmp_path, "corrupt", dataset={"name": "corrupt", "source": "gsc", "gsc": {"archive": str(source)}})
    snakemake(reference, "results/features/corrupt/mfcc.npz", "--configfile", str(config))
    info = read_json(reference / "results" / "datasets" / "corrupt" / "dataset_info.json")
    rejected = {r["path"]: r["reason"] for r in info["rejected"]}
    assert set(rejected) == {f"{word}/{garbage.name}", f"{word}/{truncated.name}"}
    assert "not a valid PCM WAV file" in rejected[f"{word}/{garbage.name}"]
    assert "truncated" in rejected[f"{word}/{truncated.name}"]
    log = (reference / "results" / "logs" / "dataset" / "corrupt.log").read_text()
    assert f"rejected {word}/{garbage.name}" in log and f"rejected {word}/{truncated.name}" in log
    with np.load(reference / "results" / "features" / "corrupt" / "mfcc.npz") as features:
        used = {str(f) for split in ("train", "validation", "test") for f in features[f"files_{split}"]}
    assert used and not used & {f"{word}/{garbage.name}", f"{word}/{truncated.name}"}


def test_missing_espeak_fails_with_its_name_and_the_log_path(reference, tmp_path):
    before = snapshot(reference)
    env = path_without(tmp_path, "espeak-ng", "espeak")
    output = failing(reference, "results/datasets/noespeak", "--configfile", str(variant(tmp_path, "noespeak")),
                     env=env)
    assert "log: results/logs/dataset/noespeak.log" in output  # where to look, printed with the failure
    assert ("sparsekws dataset: error: espeak-ng is not installed; the synthetic dataset's 'espeak-ng' voice "
            "family needs it: apt-get install espeak-ng") in failed_logs(output, reference)
    assert not (reference / "results" / "datasets" / "noespeak").exists()
    assert_kept(before, reference)


def test_without_vivado_compile_records_why_and_stops_at_estimates(reference):
    if shutil.which("vivado") or os.environ.get("XILINX_VIVADO"):
        pytest.skip("Vivado is installed here; the no-Vivado path is not reachable")
    for board in CONFIG["compile"]["boards"]:
        estimate = read_json(reference / "results" / "hw" / NAME / "sparse" / board / "estimate.json")
        assert estimate["vivado"]["available"] is False
        assert "vivado" in estimate["vivado"]["reason"].lower()
        assert estimate["bitstream"] is None


@pytest.fixture
def small_disk(reference, tmp_path):
    """A copy of the reference run on a tmpfs with about 1 MB to spare (root only)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    used = sum(-(-p.stat().st_size // 4096) * 4 + 4 for p in reference.rglob("*"))  # KiB in 4 KiB pages
    command = ["mount", "-t", "tmpfs", "-o", f"size={used + 1024}k", "tmpfs", str(mount)]
    if os.geteuid() != 0 or subprocess.run(command, capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root and mount permission) to simulate a full disk")
    try:
        shutil.copytree(reference, mount / "run", symlinks=True)
        yield mount / "run"
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_full_disk_fails_with_a_clear_error_and_keeps_earlier_results(small_disk, tmp_path):
    before = snapshot(small_disk)
    datasets = sorted((small_disk / "results" / "datasets").iterdir())
    output = failing(small_disk, "results/datasets/full", "--configfile", str(variant(tmp_path, "full")))
    assert "sparsekws dataset: error: disk full (No space left on device" in failed_logs(output, small_disk)
    assert sorted((small_disk / "results" / "datasets").iterdir()) == datasets  # no partial or temporary folder
    assert_kept(before, small_disk)

