"""Running tasks: luigi's embedded scheduler by default, a ``luigid`` when a host is given.

Failures inside tasks come back as the package's own exceptions with one-line messages, so
the CLI can print them; the full tracebacks stay in luigi's log (``--verbose``).
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import luigi
from luigi.execution_summary import LuigiStatusCode

from hgcal_ae import errors
from hgcal_ae.workflows.base import ERROR_LOG_ENV, THREADS_ENV

__all__ = ["RunReport", "check_scheduler", "run_tasks"]

CONNECT_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class RunReport:
    """What a run did, in luigi's words."""

    status: str
    summary: str


def check_scheduler(host: str, port: int) -> None:
    """Raise :class:`SchedulerError` unless a TCP connection to ``host:port`` opens."""
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        msg = (
            f"cannot reach the luigi scheduler at {host}:{port} ({exc.strerror or exc}); "
            "start it with 'luigid --port PORT' or drop --scheduler-host to use the embedded scheduler"
        )
        raise errors.SchedulerError(msg) from exc


def _raise_first_failure(log: Path, status: str) -> None:
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    if not lines:
        msg = f"the workflow did not finish ({status}); rerun with --verbose for luigi's log"
        raise errors.HgcalAeError(msg)
    first = json.loads(lines[0])
    cls = getattr(errors, first["type"], None)
    if not (isinstance(cls, type) and issubclass(cls, errors.HgcalAeError)):
        cls = errors.HgcalAeError
        first["message"] = f"{first['type']}: {first['message']}"
    raise cls(f"{first['task']} failed: {first['message']}")


def run_tasks(
    tasks: Sequence[luigi.Task],
    *,
    workers: int = 1,
    scheduler_host: str | None = None,
    scheduler_port: int = 8082,
    verbose: bool = False,
) -> RunReport:
    """Build ``tasks`` and their requirements; raise if any of them failed.

    Parameters
    ----------
    workers
        Parallel worker processes of this call.
    scheduler_host, scheduler_port
        A running ``luigid``; ``None`` uses luigi's embedded local scheduler.  With a central
        scheduler, several calls (on one machine or on several sharing a filesystem) split the
        work, and each task runs exactly once.
    verbose
        Show luigi's own log (INFO level, with tracebacks).
    """
    if workers < 1:
        msg = f"workers must be >= 1, got {workers}"
        raise errors.ConfigError(msg)
    if scheduler_host:
        check_scheduler(scheduler_host, scheduler_port)
        # Wait for tasks another worker is running instead of giving up on them.
        luigi.configuration.get_config().set("worker", "keep_alive", "true")
    with tempfile.TemporaryDirectory(prefix="hgcal-ae-run-") as tmp:
        error_log = Path(tmp) / "errors.jsonl"
        previous = os.environ.get(ERROR_LOG_ENV)
        os.environ[ERROR_LOG_ENV] = str(error_log)
        threads_given = THREADS_ENV in os.environ  # the user's own choice wins
        if not threads_given:
            os.environ[THREADS_ENV] = str(max(1, (os.cpu_count() or 1) // workers))
        try:
            result = luigi.build(
                list(tasks),
                workers=workers,
                local_scheduler=not scheduler_host,
                scheduler_host=scheduler_host or "localhost",
                scheduler_port=scheduler_port,
                detailed_summary=True,
                log_level="INFO" if verbose else "CRITICAL",
            )
        finally:
            if not threads_given:
                os.environ.pop(THREADS_ENV, None)
            if previous is None:
                os.environ.pop(ERROR_LOG_ENV, None)
            else:
                os.environ[ERROR_LOG_ENV] = previous
        status = result.status
        ok = status in (LuigiStatusCode.SUCCESS, LuigiStatusCode.SUCCESS_WITH_RETRY)
        # Under a central scheduler, tasks another worker ran count as "not run" here; what
        # matters is that nothing failed and every requested output now exists.
        if not ok and not (error_log.exists() and error_log.stat().st_size):
            ok = all(task.complete() for task in tasks)
        if not ok:
            _raise_first_failure(error_log, status.name)
    return RunReport(status=status.name, summary=result.summary_text)
