"""Command line: ``python -m sparsekws <command> [options]``; each stage is one command.

A command module provides ``add_arguments(parser)`` and ``run(args)``; it is imported only
when its command runs, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import logging
import sys

from sparsekws.errors import UserError

COMMANDS = {
    "check-env": ("sparsekws.envcheck", "import every stage's dependencies and report versions"),
    "dataset": ("sparsekws.data.build", "build a dataset in the Google Speech Commands layout"),
    "features": ("sparsekws.features", "extract quantised features for every split"),
    "dataset-card": ("sparsekws.dataset_card", "count samples per split and class, and rejected files"),
    "train-audio": ("sparsekws.augment", "save the train split's raw audio for on-the-fly augmentation"),
    "train": ("sparsekws.train", "train one model with Brevitas quantisation-aware training"),
    "evaluate": ("sparsekws.evaluate", "evaluate a trained model on the test split (confusion, noise, sparsity, MACs)"),
    "training-figures": ("sparsekws.plot_training", "draw training curves, confusion matrices and noise robustness"),
    "export": ("sparsekws.export", "export a trained model to QONNX and verify it"),
    "compile": ("sparsekws.hw.compile", "FINN dataflow build (estimates) of one model for one board"),
    "rtl": ("sparsekws.rtl.command", "simulate a model's layers in RTL (Verilator) and tabulate Yosys counts, dense vs sparse"),
    "vivado-build": ("sparsekws.hw.vivado_build", "stitched IP, synthesis, bitstream and deployment package "
                                                  "(needs Vivado) from a compile folder"),
    "measure": ("sparsekws.measure.command", "measure one model on one platform with every backend of it"),
    "measure-cpu": ("sparsekws.measure.cpu", "measure on the host CPU (old form of 'measure --platform cpu')"),
    "collect": ("sparsekws.measure.collect", "combine measurements, estimates and skipped backends into tables"),
    "figures": ("sparsekws.plots", "draw the figures and tables"),
    "publish": ("sparsekws.report", "make the report and publish it with the figures and tables"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sparsekws", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, description=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    if not argv or argv[0] not in COMMANDS:
        parser.parse_args(argv)  # prints help or the usage error
        return 2
    name, rest = argv[0], argv[1:]
    module_name, help_text = COMMANDS[name]
    module = importlib.import_module(module_name)
    sub = argparse.ArgumentParser(prog=f"sparsekws {name}", description=module.__doc__ or help_text)
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

