"""The package's shape: imports run in one direction (docs/architecture.md), no file-level import
cycle, commands imported only by the command line, ``units`` without FINN, Brevitas or torch."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "sparsekws"
#: The layers, lowest first: a module may import its own package and the packages before it.
LAYERS = ["core", "data", "features", "models", "custom_op", "training", "export", "units", "rtl", "finn",
          "cpu_engine", "measure", "figures", "report", "commands", "cli", "__main__"]


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}


def imported_modules(path: Path) -> set[str]:
    """The project's modules a file imports, anywhere in it (a name imported from a package is
    its submodule where one of that name exists)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("sparsekws")}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("sparsekws"):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in MODULES else node.module)
    return {name for name in found if name in MODULES}


GRAPH = {name: imported_modules(path) - {name} for name, path in MODULES.items()}


def layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 else 0


def test_every_module_belongs_to_a_layer():
    assert {m.split(".")[1] for m in MODULES if "." in m} <= set(LAYERS)


def test_no_module_imports_a_higher_layer():
    upward = [f"{m} -> {target}" for m, targets in GRAPH.items() for target in targets if layer(target) > layer(m)]
    assert not upward, "imports against the layer order:\n" + "\n".join(sorted(upward))


def import_cycles(graph: dict[str, set[str]]) -> list[str]:
    """Every cycle a depth-first walk of ``graph`` closes, as ``a -> b -> a``."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles, path = [], []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append(" -> ".join(path[path.index(target):] + [target]))
            elif target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    return cycles


def test_the_cycle_check_finds_a_cycle():
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a -> b -> c -> a"]


def test_no_import_cycle():
    cycles = import_cycles(GRAPH)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_commands_are_imported_only_by_the_command_line():
    users = {m for m, targets in GRAPH.items() for t in targets
             if t.startswith("sparsekws.commands.") and t != "sparsekws.commands.common"
             and not m.startswith("sparsekws.commands")}
    assert not users, f"command modules imported by the library: {sorted(users)}"
    assert not any(t.startswith("sparsekws.commands.") and t != "sparsekws.commands.common"
                   for m, targets in GRAPH.items() if m.startswith("sparsekws.commands.") for t in targets)


@pytest.mark.parametrize("package", ["units", "core", "models.spec"])
def test_low_layers_import_without_finn_brevitas_or_torch(package):
    modules = sorted(m for m in MODULES if m == f"sparsekws.{package}" or m.startswith(f"sparsekws.{package}."))
    blocker = ("import sys\n"
               "class Block:\n"
               "    def find_spec(self, name, path=None, target=None):\n"
               "        if name.split('.')[0] in ('finn', 'brevitas', 'torch', 'qonnx'):\n"
               "            raise ImportError(f'{name} is blocked')\n"
               "sys.meta_path.insert(0, Block())\n"
               f"import importlib\nfor m in {modules!r}:\n    importlib.import_module(m)\n")
    result = subprocess.run([sys.executable, "-c", blocker], capture_output=True, text=True, env={"PYTHONPATH": str(SRC)})
    assert result.returncode == 0, result.stderr[-2000:]
