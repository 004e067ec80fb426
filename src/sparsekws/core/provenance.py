"""Where a number came from: git revision, config hash, package versions, time."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("sparsekws", "torch", "brevitas", "qonnx", "finn-plus", "onnx", "onnxruntime",
            "numpy", "pandas", "seaborn", "snakemake")


def config_hash(config: Any) -> str:
    """Short sha256 of a config (or any JSON-able part of one), independent of key order."""
    blob = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def git_revision(path: str | Path = ".") -> str:
    """The checkout's commit (with ``-dirty`` if it has uncommitted changes), or ``unknown``."""
    try:
        rev = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=path, capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=path,
                               capture_output=True, text=True, check=True).stdout.strip()
        return rev + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def stamp(config: Any) -> dict[str, str]:
    """The provenance fields every result record carries."""
    return {"config_hash": config_hash(config), "git_revision": git_revision()}
