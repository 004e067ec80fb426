import subprocess
import sys

import pytest

from sparsekws.cli import COMMANDS, command_module, main
from support import SCHEMA


def test_every_command_has_help():
    from concurrent.futures import ThreadPoolExecutor

    def help_of(name):  # a process each (the real entry point), two at a time
        return subprocess.run([sys.executable, "-m", "sparsekws", name, "--help"], capture_output=True, text=True)

    with ThreadPoolExecutor(2) as pool:
        for name, result in zip(COMMANDS, pool.map(help_of, COMMANDS)):
            assert result.returncode == 0, (name, result.stderr)
            assert "usage: sparsekws " + name in result.stdout


def test_top_level_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert all(name in out for name in COMMANDS)


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["frobnicate"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_user_errors_print_one_line_without_traceback(tmp_path):
    bad = tmp_path / "c.yaml"
    bad.write_text("seed: -1\n")
    result = subprocess.run([sys.executable, "-m", "sparsekws", "measure", "--platform", "cpu", "--config", str(bad),
                             "--schema", str(SCHEMA), "--model", "x", "--features", "x", "--checkpoint", "x",
                             "--work-dir", "x", "--out", "x", "--skipped-out", "x"],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "error: invalid configuration" in result.stderr
    assert "config key 'seed'" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_command_is_the_module_of_its_name():
    for name in COMMANDS:
        module = command_module(name)
        assert module.__name__ == "sparsekws.commands." + name.replace("-", "_")
        assert callable(module.add_arguments) and callable(module.run)


def test_bad_settings_json_is_one_line_error():
    result = subprocess.run([sys.executable, "-m", "sparsekws", "dataset", "--settings", "{not json", "--out", "x"],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "error: --settings is not valid JSON" in result.stderr and "Traceback" not in result.stderr
