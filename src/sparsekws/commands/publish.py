"""Make the report (``snakemake --report``) and publish it with the figures and tables, checked in a browser."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from sparsekws.core.config import read_config
from sparsekws.report.publish import publish, report_metadata, snakemake_report

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, type=Path,
                        help="the effective config the workflow ran with (results/config/<dataset>.yaml)")
    parser.add_argument("--figures-dir", required=True, type=Path, help="the run's figures (results/figures/<dataset>)")
    parser.add_argument("--tables-dir", required=True, type=Path, help="the run's tables (results/tables/<dataset>)")
    parser.add_argument("--report", default="results/report.html", help="where snakemake writes the report")
    parser.add_argument("--out", default="results/publish", help="the folder to publish into")
    parser.add_argument("--skip-report", action="store_true",
                        help="do not run snakemake --report; publish the existing --report file")
    parser.add_argument("--no-check", action="store_true", help="do not open the report in headless Chromium")
    parser.add_argument("--nolock", action="store_true", help="pass --nolock to snakemake --report")
    parser.add_argument("--also", action="append", default=[], metavar="TARGET=FILE",
                        help="report on workflow target TARGET too when FILE exists (a target outside 'all' that "
                             "was run, e.g. cross_voice=results/tables/<dataset>/cross_voice.csv); repeatable")


def run(args: argparse.Namespace) -> None:
    config = read_config(args.config)
    report = Path(args.report)
    if not args.skip_report:
        extra = [target for target, path in (also.split("=", 1) for also in args.also) if Path(path).is_file()]
        snakemake_report(report, args.config, report_metadata(config), args.nolock, ["all", *extra] if extra else [])
    result = publish(config, report, args.figures_dir, args.tables_dir, Path(args.out), check=not args.no_check)
    log.info("published %s: %d figures, %d tables%s", result["out"], len(result["files"]["figures"]),
             len(result["files"]["tables"]), "" if result["check"] is None else ", checked in Chromium")
