"""The leave-one-family-out table (``training.cross_voice``): accuracy of each cross-voice model
on its held-out voice family, beside its in-family test accuracy, and the held-out confusions."""

from __future__ import annotations

import argparse
import logging

from sparsekws.core.files import write_csv
from sparsekws.training.cross_voice import cross_voice_rows

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", nargs=5, action="append", required=True,
                        metavar=("MODEL", "FAMILY", "CHECKPOINT", "METRICS", "HELD_OUT"),
                        help="one cross-voice model: its name, held-out family, model.pt, metrics.json and the "
                             "family's samples (.npz of family-split --only); repeat per model and family")
    parser.add_argument("--csv", required=True, help="output table (model, held_out, accuracy, n, in-family)")
    parser.add_argument("--confusion", required=True, help="output: held-out confusions (model, held_out, true, "
                                                           "predicted, count)")


def run(args: argparse.Namespace) -> None:
    runs = [dict(zip(("model", "held_out", "checkpoint", "metrics", "held_out_features"), r)) for r in args.run]
    table, confusion = cross_voice_rows(runs)
    write_csv(args.csv, table)
    write_csv(args.confusion, confusion)
    for row in table.itertuples():
        log.info("%s without %s: %.4f on the held-out family (n %d), %.4f in-family", row.model, row.held_out,
                 row.accuracy, row.n, row.in_family_accuracy)
