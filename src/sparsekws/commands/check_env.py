"""Check the environment: every stage's imports work, and say which optional tools exist."""

from __future__ import annotations

import argparse

from sparsekws.core.environment import import_all, tool_status
from sparsekws.core.errors import UserError
from sparsekws.core.provenance import package_versions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", action="store_true", help="print only failures")


def run(args: argparse.Namespace) -> None:
    failures = import_all()
    if not args.quiet:
        for name, version in package_versions().items():
            print(f"{name:12s} {version}")
        for tool, (found, why) in tool_status().items():
            print(f"{tool:12s} {'found' if found else 'missing'} ({why})")
    if failures:
        raise UserError("imports failed:\n" + "\n".join(f"  {m}: {e}" for m, e in failures.items()))
    print("check-env: every stage's imports work")
