"""Options and helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import luigi

from hgcal_ae.errors import ConfigError, DataError

if TYPE_CHECKING:
    from hgcal_ae.workflows.grid import GridWorkflow

__all__ = [
    "add_run_options",
    "check_epochs",
    "check_run_options",
    "csv_floats",
    "csv_items",
    "read_summary",
    "run_workflow",
    "task_parameters",
]


def csv_items(text: str, option: str) -> list[str]:
    """The items of a comma-separated option value; at least one."""
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        msg = f"{option} needs a comma-separated list, got {text!r}"
        raise ConfigError(msg)
    return items


def check_epochs(epochs: int) -> int:
    """``--epochs`` of ``study`` and ``scaling``: >= 0, where 0 means the preset's."""
    if epochs < 0:
        msg = f"--epochs must be >= 0 (0: the preset's), got {epochs}"
        raise ConfigError(msg)
    return epochs


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


def add_batch_options(p: argparse.ArgumentParser) -> None:
    """``--workflow`` and its settings: the autoencoder grid as a law workflow."""
    g = p.add_argument_group("batch jobs (the autoencoder grid as a law workflow)")
    g.add_argument(
        "--workflow",
        default=None,
        help="train the grid's autoencoders as law's local workflow or as batch jobs: local, "
        "slurm or htcondor (default: plain luigi tasks on this machine)",
    )
    g.add_argument(
        "--tasks-per-job", type=int, default=1, help="grid points per batch job (default 1)"
    )
    g.add_argument(
        "--retries", type=int, default=1, help="resubmissions of a failed job (default 1)"
    )
    g.add_argument(
        "--poll-interval",
        type=float,
        default=30.0,
        help="seconds between two looks at the batch jobs' states (default 30)",
    )


def batch_parameters(args: argparse.Namespace) -> dict[str, Any]:
    """The law workflow parameters of ``--workflow`` and its settings, checked; ``{}``
    without ``--workflow``."""
    if args.workflow is None:
        return {}
    from hgcal_ae.workflows.grid import check_workflow

    check_workflow(args.workflow)
    if args.tasks_per_job < 1:
        msg = f"--tasks-per-job must be >= 1, got {args.tasks_per_job}"
        raise ConfigError(msg)
    if args.retries < 0:
        msg = f"--retries must be >= 0, got {args.retries}"
        raise ConfigError(msg)
    if not args.poll_interval > 0:
        msg = f"--poll-interval must be > 0 seconds, got {args.poll_interval}"
        raise ConfigError(msg)
    return {
        "workflow": args.workflow,
        "tasks_per_job": args.tasks_per_job,
        "retries": args.retries,
        "poll_interval": args.poll_interval / 60.0,  # law's unit: minutes
    }


def check_run_options(args: argparse.Namespace) -> None:
    if args.workers < 1:
        msg = f"--workers must be >= 1, got {args.workers}"
        raise ConfigError(msg)


def task_parameters(args: argparse.Namespace, *names: str) -> dict[str, Any]:
    """``output_dir`` (as an absolute path) and the options ``names``, as task parameters."""
    return {
        "output_dir": str(Path(args.output_dir).resolve()),
        **{name: getattr(args, name) for name in names},
    }


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


def run_grid(grid: GridWorkflow, args: argparse.Namespace) -> None:
    """Run the law workflow ``grid`` (a :class:`~hgcal_ae.workflows.grid.GridWorkflow`) as
    :func:`run_workflow` does; a failed batch job is named with its id and log file."""
    from hgcal_ae.errors import HgcalAeError
    from hgcal_ae.workflows.grid import failed_jobs, law_command_line

    with law_command_line(grid.get_task_family()):
        try:
            run_workflow([grid], args)
        except HgcalAeError as exc:
            failed = failed_jobs(grid)
            if not failed:
                raise
            job = failed[0]
            msg = (
                f"{args.workflow} job {job['job_id']} (grid points {job['branches']}) failed "
                f"{job['submissions']} time(s); its log: {job['log'] or 'none was written'} "
                f"(law's record: {job['record']})"
            )
            raise type(exc)(msg) from exc


def read_summary(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``summary.json`` at ``path``, as the commands print from it.

    Raises
    ------
    DataError
        If the file cannot be read, is not JSON or holds no JSON object; the message names
        the file.  A run rewrites a summary that is not whole, so rerunning the command
        repairs it.
    """
    try:
        summary = json.loads(Path(path).read_bytes())
    except OSError as exc:
        msg = f"cannot read summary {str(path)!r} ({exc.strerror or exc}); rerun the command"
        raise DataError(msg) from exc
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        msg = (
            f"summary {str(path)!r} is not valid JSON ({exc}); rerun the command to write it again"
        )
        raise DataError(msg) from exc
    if not isinstance(summary, dict):
        msg = f"summary {str(path)!r} holds a JSON {type(summary).__name__}, expected an object"
        raise DataError(msg)
    return summary
