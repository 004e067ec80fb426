"""What produced a run's figures: config hash, git revision, time, Python and package versions."""

from __future__ import annotations

import platform as _platform

import pandas as pd

from sparsekws.core.provenance import git_revision, package_versions, utc_now


def provenance_table(config_hash: str) -> pd.DataFrame:
    """What produced these figures: config hash, git revision, time, Python and package versions."""
    rows = [("config hash", config_hash), ("git revision", git_revision()), ("generated (UTC)", utc_now()),
            ("python", _platform.python_version()), ("platform", _platform.platform())]
    rows += [(f"package {name}", version) for name, version in package_versions().items()]
    return pd.DataFrame(rows, columns=["item", "value"])
