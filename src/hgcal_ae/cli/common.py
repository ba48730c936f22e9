"""Options and helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

import luigi

from hgcal_ae.errors import ConfigError

__all__ = ["add_run_options", "csv_items", "run_workflow"]


def csv_items(text: str, option: str) -> list[str]:
    """The items of a comma-separated option value; at least one."""
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        msg = f"{option} needs a comma-separated list, got {text!r}"
        raise ConfigError(msg)
    return items


def csv_floats(text: str, option: str) -> list[float]:
    """Comma-separated numbers, e.g. energies."""
    values = []
    for item in csv_items(text, option):
        try:
            values.append(float(item))
        except ValueError:
            msg = f"{option} takes numbers, got {item!r}"
            raise ConfigError(msg) from None
    return values


def add_run_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("running")
    g.add_argument(
        "--output-dir",
        default=os.environ.get("OUTPUT_DIR") or "output",
        help="root of all outputs (default $OUTPUT_DIR or ./output)",
    )
    g.add_argument("--workers", type=int, default=1, help="parallel worker processes (default 1)")
    g.add_argument(
        "--scheduler-host",
        default=None,
        help="host of a running luigid (default: embedded local scheduler)",
    )
    g.add_argument(
        "--scheduler-port", type=int, default=8082, help="port of the luigid (default 8082)"
    )
    g.add_argument("-v", "--verbose", action="store_true", help="show luigi's log")
    g.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print no progress lines ([done/total] start|done <task>) on stderr",
    )


def check_run_options(args: argparse.Namespace) -> None:
    if args.workers < 1:
        msg = f"--workers must be >= 1, got {args.workers}"
        raise ConfigError(msg)


def run_workflow(tasks: Sequence[luigi.Task], args: argparse.Namespace) -> None:
    """Run ``tasks`` with the scheduler and workers the options name."""
    from hgcal_ae.workflows.runner import run_tasks

    run_tasks(
        tasks,
        workers=args.workers,
        scheduler_host=args.scheduler_host,
        scheduler_port=args.scheduler_port,
        verbose=args.verbose,
        progress=not args.quiet,
    )
