"""The workflow's form: Snakemake's linter and snakefmt are content, and every job rule has a log and a benchmark."""

from __future__ import annotations

import re
import subprocess
import sys

from support import REPO_ROOT

#: Rules that only name targets (no job of their own).
TARGET_RULES = {"all", "rtl_reports", "vivado", "cross_voice", "ablation", "netsim"}


def rules() -> dict[str, str]:
    """Every rule's text by name."""
    found = {}
    for path in [REPO_ROOT / "Snakefile", *sorted((REPO_ROOT / "rules").glob("*.smk"))]:
        for match in re.finditer(r"^rule (\w+):\n(.*?)(?=^\S|\Z)", path.read_text(), re.M | re.S):
            found[match.group(1)] = match.group(2)
    return found


def test_snakemake_lint_is_clean():
    result = subprocess.run([sys.executable, "-m", "snakemake", "--lint"], cwd=REPO_ROOT, capture_output=True,
                            text=True)
    assert result.returncode == 0 and "Lints for" not in result.stdout + result.stderr, result.stdout[-3000:]


def test_snakefmt_check_is_clean():
    result = subprocess.run([sys.executable, "-m", "snakefmt", "--check", "Snakefile", "rules"], cwd=REPO_ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_job_rule_has_a_log_a_benchmark_and_the_environment():
    jobs = {name: text for name, text in rules().items() if name not in TARGET_RULES}
    assert len(jobs) >= 30
    for name, text in jobs.items():
        assert "    log:" in text and "    benchmark:" in text, name
        assert 'conda:\n        "../envs/sparsekws.yaml"' in text, name


def test_commands_read_their_settings_from_params():
    """No rule passes a config file to a command: each command gets its sections from the rule's params."""
    for name, text in rules().items():
        assert "--config " not in text.replace("--config {input.config}", ""), name
