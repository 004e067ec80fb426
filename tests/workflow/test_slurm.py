"""The SLURM profile and the single-node test cluster (``tests/support/slurm_cluster.py``).

The end-to-end test runs ``scripts/slurm_test.sh``: the tiny config through Snakemake's SLURM
executor on a cluster started here, compared with a local run. It needs root and apt-get (it
installs slurm-wlm and munge) and is skipped with the reason otherwise.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from support import REPO_ROOT
from sparsekws.core.errors import UserError
from support.slurm_cluster import left_by_dead_cluster, missing_programs, single_node_cluster, slurm_conf


def conf_entries(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith(("NodeName", "Part")))


def test_slurm_conf_describes_one_node_without_accounting_or_cgroups(tmp_path):
    text = slurm_conf(tmp_path, tmp_path / "munge.socket", "node1", 4, 8000)
    entries = conf_entries(text)
    assert entries["SlurmctldHost"] == "node1"
    assert entries["AuthInfo"] == f"socket={tmp_path / 'munge.socket'}"
    assert entries["AccountingStorageType"] == "accounting_storage/none"
    assert entries["ProctrackType"] == "proctrack/linuxproc" and entries["TaskPlugin"] == "task/none"
    assert entries["SelectTypeParameters"] == "CR_Core_Memory"
    assert all(Path(entries[k]).parent == tmp_path for k in ("SlurmctldPidFile", "SlurmdPidFile", "SlurmdLogFile"))
    assert entries["SlurmctldPort"] != entries["SlurmdPort"]
    assert "NodeName=node1 CPUs=4 RealMemory=8000 State=UNKNOWN" in text.splitlines()
    assert "PartitionName=main Nodes=node1 Default=YES MaxTime=INFINITE State=UP" in text.splitlines()


def test_slurm_profile_polls_squeue_and_submits_without_account():
    profile = yaml.safe_load((REPO_ROOT / "workflow" / "profiles" / "slurm" / "config.yaml").read_text())
    assert profile["executor"] == "slurm"
    assert profile["slurm-status-command"] == "squeue"  # sacct never answers without slurmdbd
    assert profile["slurm-no-account"] is True
    assert profile["rerun-incomplete"] is True
    assert profile["default-resources"]["mem_mb"] >= 500  # smaller jobs were OOM-killed under cgroup limits
    rules = {m for f in (REPO_ROOT / "rules").glob("*.smk") for m in re.findall(r"^rule (\w+):", f.read_text(), re.M)}
    assert set(profile["set-threads"]) | set(profile["set-resources"]) <= rules
    # a cluster run has no total core count: rules taking all of them need a fixed count here
    for path in (REPO_ROOT / "rules").glob("*.smk"):
        for name, body in re.findall(r"^rule (\w+):\n((?:[ \t].*\n|\n)*)", path.read_text(), re.M):
            if "workflow.cores" in body:
                assert name in profile["set-threads"], name


def test_a_link_is_stale_only_when_its_test_cluster_has_no_live_daemon(tmp_path):
    cluster = tmp_path / "cluster"
    cluster.mkdir()
    (cluster / "slurm.conf").write_text("ClusterName=test\n")
    link = tmp_path / "slurm.conf"
    link.symlink_to(cluster / "slurm.conf")
    assert not left_by_dead_cluster(link)  # no daemons.yaml: not a test cluster's file
    (cluster / "daemons.yaml").write_text(yaml.safe_dump({"slurmd": 2**22 + 7}))
    assert left_by_dead_cluster(link)  # its daemon is gone
    live = subprocess.Popen(["sleep", "30"])
    comm = Path(f"/proc/{live.pid}/comm")
    for _ in range(200):  # Popen can return before the kernel renames the child (vfork): wait for the exec
        if comm.read_text().strip() == "sleep":
            break
        time.sleep(0.01)
    try:
        (cluster / "daemons.yaml").write_text(yaml.safe_dump({"slurmd": 2**22 + 7, "sleep": live.pid}))
        assert not left_by_dead_cluster(link)  # one daemon still runs
    finally:
        live.kill()
        live.wait()
    (cluster / "slurm.conf").unlink()
    assert left_by_dead_cluster(link)  # its folder is gone
    assert not left_by_dead_cluster(tmp_path / "absent") and not left_by_dead_cluster(cluster / "daemons.yaml")


def test_cluster_refuses_clearly_without_root_or_programs(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(shutil, "which", lambda *a, **k: None)
    assert set(missing_programs()) >= {"munged", "slurmctld", "slurmd", "sbatch", "squeue"}
    with pytest.raises(UserError, match="root|apt-get install slurm-wlm munge"):
        with single_node_cluster():
            pass


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if text in cmdline:
                found.append(f"{entry.name}: {cmdline}")
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("apt-get") is None,
                    reason="the SLURM test needs root and apt-get (it installs slurm-wlm and munge and starts "
                           "their daemons); run scripts/slurm_test.sh as root on a Debian machine")
def test_smoke_config_on_slurm_equals_a_local_run_and_leaves_no_daemon(smoke_reference, tmp_path):
    result = subprocess.run(["bash", str(REPO_ROOT / "scripts" / "slurm_test.sh"), "--work-dir", str(tmp_path),
                             "--reference", str(smoke_reference)], capture_output=True, text=True, timeout=1500)
    output = result.stdout + result.stderr
    started = tmp_path / "cluster" / "daemons.yaml"
    pids = yaml.safe_load(started.read_text()) if started.exists() else {}
    assert set(pids) == {"munged", "slurmctld", "slurmd"}, output[-4000:]
    assert not [name for name, pid in pids.items() if _alive(pid)], "a daemon is left running"
    assert not _processes_mentioning(str(tmp_path)), "a process of the test cluster is left running"
    assert result.returncode == 0, output[-4000:]
    assert "slurm test: passed" in result.stdout
    run = (tmp_path / "slurm" / "snakemake.out").read_text()
    jobs = len(re.findall(r"^rule \w+:$", run, re.M))  # every job but the local ones (all)
    assert jobs > 10 and run.count("has been submitted with SLURM jobid") == jobs
