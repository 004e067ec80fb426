"""A single-node SLURM cluster on this machine, to run the workflow's SLURM profile for real.

``single_node_cluster`` writes a munge key and a minimal ``slurm.conf`` into a fresh folder,
starts ``munged`` (as user munge), ``slurmctld`` and ``slurmd`` in the foreground, waits until
the node takes jobs and yields the environment (``SLURM_CONF``) that points the client
commands (sbatch, squeue, scancel) at it. On leaving the block, on an error and on SIGTERM,
it stops exactly the daemons it started, by PID. Needs root, Debian's ``slurm-wlm`` and
``munge`` (``install`` puts them in with apt-get) and no SLURM configuration of the machine's
own: ``/etc/slurm/slurm.conf`` links to the cluster's file while it runs (the executor's job
step hides ``SLURM_CONF`` from srun). Accounting (slurmdbd) is left out, so the executor
plugin is told to poll ``squeue`` and to submit without an account.

``python -m support.slurm_cluster`` from tests/ (``scripts/slurm_test.sh``) runs the tiny config through
the SLURM profile and checks its results against a local run (``workflow_runs.differences``).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import yaml

from sparsekws.core.errors import UserError
from support import REPO_ROOT
from support.workflow_runs import compared_targets, copy_workflow, differences, run_snakemake

log = logging.getLogger(__name__)
DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "sinfo", "scancel")
PACKAGES = ("slurm-wlm", "munge")
DEFAULT_CONF = Path("/etc/slurm/slurm.conf")  # where srun looks without SLURM_CONF


def missing_programs() -> list[str]:
    """The SLURM and munge programs that are not on PATH (or in /usr/sbin)."""
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    return [name for name in (*DAEMONS, *CLIENTS) if shutil.which(name, path=path) is None]


def install() -> None:
    """Install Debian's ``slurm-wlm`` and ``munge`` with apt-get unless they are already there."""
    if not missing_programs():
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise UserError(f"{', '.join(missing_programs())} missing; install them as root: "
                        f"apt-get install {' '.join(PACKAGES)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *PACKAGES]):
        log.info("running %s", " ".join(command))
        if subprocess.run(command, env=env).returncode != 0:
            raise UserError(f"'{' '.join(command)}' failed; install {' '.join(PACKAGES)} by hand and rerun")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _memory_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    raise UserError("cannot read MemTotal from /proc/meminfo")


def slurm_conf(folder: Path, munge_socket: Path, node: str, cpus: int, memory_mb: int) -> str:
    """A minimal ``slurm.conf``: one node, one default partition, munge, no accounting, no cgroups."""
    ctld_port, slurmd_port = _free_port(), _free_port()
    return "\n".join([
        "ClusterName=sparsekws",
        f"SlurmctldHost={node}",
        f"SlurmctldPort={ctld_port}",
        f"SlurmdPort={slurmd_port}",
        "AuthType=auth/munge",
        "CredType=cred/munge",
        f"AuthInfo=socket={munge_socket}",
        "SlurmUser=root",
        "SlurmdUser=root",
        f"StateSaveLocation={folder / 'state'}",
        f"SlurmdSpoolDir={folder / 'spool'}",
        f"SlurmctldPidFile={folder / 'slurmctld.pid'}",
        f"SlurmdPidFile={folder / 'slurmd.pid'}",
        f"SlurmctldLogFile={folder / 'slurmctld.log'}",
        f"SlurmdLogFile={folder / 'slurmd.log'}",
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "MpiDefault=none",
        "SchedulerType=sched/backfill",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_Core_Memory",
        "AccountingStorageType=accounting_storage/none",
        "JobAcctGatherType=jobacct_gather/none",
        "JobCompType=jobcomp/none",
        "ReturnToService=2",
        "SchedulerParameters=sched_interval=2",
        f"NodeName={node} CPUs={cpus} RealMemory={memory_mb} State=UNKNOWN",
        f"PartitionName=main Nodes={node} Default=YES MaxTime=INFINITE State=UP",
        "",
    ])


class Cluster:
    """The running daemons (name -> process) and the files that describe them."""

    def __init__(self, folder: Path, munge_dir: Path):
        self.folder = folder
        self.conf = folder / "slurm.conf"
        self.munge_dir = munge_dir
        self.munge_socket = munge_dir / "munge.socket"
        self.processes: dict[str, subprocess.Popen] = {}

    @property
    def env(self) -> dict[str, str]:
        """The environment for client commands and for Snakemake's SLURM executor."""
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def pids(self) -> dict[str, int]:
        return {name: process.pid for name, process in self.processes.items()}

    def start(self, name: str, command: list[str], user: str | None = None) -> None:
        log_file = open(self.folder / f"{name}.out", "w")
        self.processes[name] = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, user=user,
                                                env=self.env, start_new_session=True)
        log_file.close()
        log.info("started %s (PID %d)", name, self.processes[name].pid)
        (self.folder / "daemons.yaml").write_text(yaml.safe_dump(self.pids()))  # to check later that they are gone
        time.sleep(0.5)
        if self.processes[name].poll() is not None:
            raise UserError(f"{name} exited at once (status {self.processes[name].returncode}); "
                            f"see {self.folder / f'{name}.out'}")

    def stop(self) -> None:
        """Cancel the cluster's jobs, then stop every daemon it started, by PID, the last started first."""
        if "slurmctld" in self.processes and self.processes["slurmctld"].poll() is None:
            subprocess.run(["scancel", "--full", "--quiet", "--user", pwd.getpwuid(os.geteuid()).pw_name],
                           env=self.env, capture_output=True)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and subprocess.run(
                    ["squeue", "-h", "-o", "%i"], env=self.env, capture_output=True, text=True).stdout.strip():
                time.sleep(1)
        for name, process in reversed(list(self.processes.items())):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            log.info("stopped %s (PID %d)", name, process.pid)

    def wait_for_node(self, timeout: float = 60) -> None:
        """Wait until the node is idle (takes jobs); ``UserError`` with the logs' location if not."""
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise UserError(f"{name} stopped (status {process.returncode}); see {self.folder}/{name}.out "
                                    f"(and {self.folder}/{name}.log for the SLURM daemons)")
            result = subprocess.run(["sinfo", "-h", "-N", "-o", "%T"], capture_output=True, text=True, env=self.env)
            state = result.stdout.strip() or result.stderr.strip()
            if state.startswith("idle"):
                return
            time.sleep(1)
        raise UserError(f"the SLURM node did not become idle in {timeout:.0f} s (state: {state!r}); "
                        f"see the logs in {self.folder}")


def _running(pid: int, name: str) -> bool:
    """Whether process ``pid`` runs and is the program ``name``."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == name[:15]
    except OSError:
        return False


def left_by_dead_cluster(link: Path) -> bool:
    """Whether ``link`` is a link to a test cluster's ``slurm.conf`` (one beside its ``daemons.yaml``,
    or gone) whose daemons all stopped: a cluster killed before it could remove the link."""
    if not link.is_symlink():
        return False
    target = link.resolve()
    if not target.exists():
        return True
    daemons = target.parent / "daemons.yaml"
    if not daemons.is_file():
        return False  # not a test cluster's file
    pids = yaml.safe_load(daemons.read_text()) or {}
    return not any(_running(pid, name) for name, pid in pids.items())


@contextlib.contextmanager
def single_node_cluster(folder: str | os.PathLike | None = None) -> Iterator[Cluster]:
    """Start munged, slurmctld and slurmd configured in ``folder`` (default: a new temporary one),
    yield the ``Cluster`` and stop its daemons by PID however the block ends (SIGTERM included)."""
    if os.geteuid() != 0:
        raise UserError("a local SLURM cluster needs root (slurmd runs jobs as their user); run as root")
    if missing_programs():
        raise UserError(f"{', '.join(missing_programs())} not installed: apt-get install {' '.join(PACKAGES)}")
    if left_by_dead_cluster(DEFAULT_CONF):
        log.info("removing %s, left by a test cluster that was killed", DEFAULT_CONF)
        DEFAULT_CONF.unlink()
    if DEFAULT_CONF.exists() or DEFAULT_CONF.is_symlink():
        raise UserError(f"{DEFAULT_CONF} exists: this machine has its own SLURM configuration, which a test "
                        "cluster would shadow; run the SLURM test on a machine without one (or, if it is a "
                        "link left by a killed test cluster, remove it)")
    folder = Path(folder or tempfile.mkdtemp(prefix="sparsekws-slurm-"))
    for sub in ("state", "spool"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    # munged runs as user munge, which must reach its folder: a short one in the system's temporary
    # folder (``folder`` may sit below private ones, and a socket path has at most 107 bytes)
    munge_dir = Path(tempfile.mkdtemp(prefix="sparsekws-munge-"))
    cluster = Cluster(folder, munge_dir)
    key = munge_dir / "munge.key"
    key.write_bytes(os.urandom(1024))
    munge = pwd.getpwnam("munge")
    for path in (munge_dir, key):
        os.chown(path, munge.pw_uid, munge.pw_gid)
    munge_dir.chmod(0o700)
    key.chmod(0o400)
    node = socket.gethostname()
    cluster.conf.write_text(slurm_conf(folder, cluster.munge_socket, node, os.cpu_count() or 1,
                                       int(_memory_mb() * 0.9)))
    (folder / "daemons.yaml").write_text(yaml.safe_dump({}))  # marks the folder as a test cluster's
    # The executor's job step drops SLURM_CONF from the environment of the srun it starts inside
    # each job, so srun reads the default path (checked above): point it at this cluster's file.
    DEFAULT_CONF.parent.mkdir(parents=True, exist_ok=True)
    DEFAULT_CONF.symlink_to(cluster.conf)
    stops = (signal.SIGTERM, signal.SIGHUP)
    previous = {signum: signal.getsignal(signum) for signum in stops}

    def terminate(signum, frame):
        raise KeyboardInterrupt(f"stopped by signal {signal.Signals(signum).name}")

    for signum in stops:
        signal.signal(signum, terminate)
    try:
        cluster.start("munged", ["munged", "--foreground", "--force", f"--socket={cluster.munge_socket}",
                                 f"--key-file={key}", f"--pid-file={munge_dir / 'munged.pid'}",
                                 f"--log-file={munge_dir / 'munged.log'}", f"--seed-file={munge_dir / 'munged.seed'}"],
                      user="munge")
        cluster.start("slurmctld", ["slurmctld", "-D", "-i", "-f", str(cluster.conf)])
        cluster.start("slurmd", ["slurmd", "-D", "-N", node, "-f", str(cluster.conf)])
        cluster.wait_for_node()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(munge_dir, ignore_errors=True)
        if DEFAULT_CONF.is_symlink() and DEFAULT_CONF.resolve() == cluster.conf.resolve():
            DEFAULT_CONF.unlink()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def snakemake(workdir: Path, args: list[str], env: dict[str, str] | None = None) -> None:
    """Run Snakemake in ``workdir``; ``UserError`` with the tail of its output if it fails."""
    log.info("in %s: snakemake %s", workdir, " ".join(args))
    result = run_snakemake(workdir, args, env)
    (workdir / "snakemake.out").write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        raise UserError(f"snakemake failed in {workdir} (full output in {workdir / 'snakemake.out'}):\n"
                        f"{(result.stdout + result.stderr)[-3000:]}")


def slurm_args(cluster: Cluster) -> list[str]:
    """Snakemake arguments for a run through the SLURM profile on ``cluster``."""
    return ["--workflow-profile", "workflow/profiles/slurm",
            "--slurm-init-seconds-before-status-checks", "2", "--seconds-between-status-checks", "2",
            "--slurm-keep-successful-logs"]


def run_test(config_file: Path, work: Path, reference: Path | None = None) -> list[str]:
    """Run ``config_file`` through SLURM (and locally unless ``reference`` holds a finished local
    run); return the differences between the two (empty: equal)."""
    config = yaml.safe_load(config_file.read_text())
    targets = compared_targets(config)
    if reference is None:
        reference = copy_workflow(work / "local", config_file)
        snakemake(reference, ["--cores", str(os.cpu_count() or 1), *targets])
    remote = copy_workflow(work / "slurm", config_file)
    with single_node_cluster(work / "cluster") as cluster:  # the compared files: every job but figures and timings
        snakemake(remote, [*slurm_args(cluster), *targets], env=cluster.env)
    return differences(reference, remote, config)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m support.slurm_cluster", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=REPO_ROOT / "config" / "smoke.yaml",
                        help="workflow config to run (default: the tiny config/smoke.yaml)")
    parser.add_argument("--work-dir", type=Path, default=None,
                        help="folder for the two runs and the cluster's files (default: a new temporary one)")
    parser.add_argument("--reference", type=Path, default=None,
                        help="folder of a finished local run of the same config (skips the local run)")
    parser.add_argument("--no-install", action="store_true", help="do not apt-get install slurm-wlm and munge")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="sparsekws-slurm-test-"))
    try:
        if not args.no_install:
            install()
        found = run_test(args.config.resolve(), work.resolve(), args.reference)
    except (UserError, KeyboardInterrupt) as exc:
        print(f"slurm test: error: {exc}", file=sys.stderr)
        return 1
    if found:
        print("slurm test: FAILED: the SLURM run differs from the local run:\n  " + "\n  ".join(found),
              file=sys.stderr)
        return 1
    print(f"slurm test: passed: the SLURM run of {args.config.name} equals the local run "
          f"(datasets, features, weights, metrics, estimates; timings excluded); files in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
