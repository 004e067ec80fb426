"""Command line: ``python -m sparsekws <command> [options]``; each stage is one command.

A command is a module of ``sparsekws.commands`` named like the command (``dataset-card`` ->
``commands/dataset_card.py``) that provides ``add_arguments(parser)`` and ``run(args)``; it is
imported only when its command runs, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import logging
import sys

from sparsekws.core.errors import UserError

COMMANDS = {
    "check-env": "import every stage's dependencies and report versions",
    "dataset": "build a dataset in the Google Speech Commands layout",
    "features": "extract quantised features for every split",
    "dataset-card": "count samples per split and class, and rejected files",
    "augment": "make augmented copies of the train split's features (Numenta's GSC recipe)",
    "train": "train one model with Brevitas quantisation-aware training",
    "family-split": "split a features file for one held-out voice family (the cross-voice test)",
    "cross-voice": "tabulate the leave-one-family-out test",
    "evaluate": "evaluate a trained model on the test split (confusion, noise, sparsity, MACs)",
    "export": "export a trained model to QONNX and verify it",
    "compile": "FINN dataflow build (estimates) of one model for one board",
    "rtl": "simulate a model's layers in RTL (Verilator) and tabulate Yosys counts, dense vs sparse",
    "netsim": "simulate a compiled network as a whole in RTL (Verilator) on many words",
    "vivado-build": "stitched IP, synthesis, bitstream and deployment package (needs Vivado) from a compile folder",
    "measure": "measure one model on one platform with every backend of it",
    "collect": "combine measurements, estimates and skipped backends into tables",
    "figures": "draw one figure from result files",
    "tables": "write one table from result files",
    "config": "write the effective configuration the workflow runs with",
    "publish": "make the report and publish it with the figures and tables",
}


def command_module(name: str):
    """The module of command ``name``."""
    return importlib.import_module(f"sparsekws.commands.{name.replace('-', '_')}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sparsekws", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, help_text in COMMANDS.items():
        sub.add_parser(name, help=help_text, description=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    if not argv or argv[0] not in COMMANDS:
        parser.parse_args(argv)  # prints help or the usage error
        return 2
    name, rest = argv[0], argv[1:]
    module = command_module(name)
    sub = argparse.ArgumentParser(prog=f"sparsekws {name}", description=module.__doc__ or COMMANDS[name])
    module.add_arguments(sub)
    args = sub.parse_args(rest)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    try:
        module.run(args)
    except UserError as exc:
        print(f"sparsekws {name}: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        where = f" writing {exc.filename}" if exc.filename else ""
        print(f"sparsekws {name}: error: disk full ({exc.strerror}{where}); free space on that file system "
              "and rerun (outputs are written atomically: no partial file was kept)", file=sys.stderr)
        return 1
    return 0
