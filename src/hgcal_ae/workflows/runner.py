"""Running tasks: luigi's embedded scheduler by default, a ``luigid`` when a host is given.

Failures inside tasks come back as the package's own exceptions with one-line messages, so
the CLI can print them; the full tracebacks stay in luigi's log (``--verbose``).

With the embedded scheduler, one run at a time writes into an output folder: a run holds an
exclusive lock on ``<output_dir>/.hgcal-ae.lock`` and a second run waits for it, then finds
the work done.  With a ``luigid`` the scheduler hands each task to one worker, and several
machines may share a folder, so no lock is taken.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import luigi
from luigi.execution_summary import LuigiStatusCode
from luigi.rpc import RemoteScheduler, RPCError
from luigi.task import flatten

from hgcal_ae import errors
from hgcal_ae.atomic import ensure_dir
from hgcal_ae.workflows.base import (
    ERROR_LOG_ENV,
    PROGRESS_ENV,
    PROGRESS_TOTAL_ENV,
    THREADS_ENV,
    HgcalTask,
    completeness_pass,
    task_label,
)

__all__ = [
    "LOCK_FILE",
    "RunReport",
    "check_scheduler",
    "count_tasks_to_run",
    "output_lock",
    "output_roots",
    "run_tasks",
]

CONNECT_TIMEOUT_S = 5.0
POLL_S = 1.0
SUCCEEDED = (LuigiStatusCode.SUCCESS, LuigiStatusCode.SUCCESS_WITH_RETRY)
LOCK_FILE = ".hgcal-ae.lock"


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


def _requirement_graph(tasks: Sequence[luigi.Task]) -> Iterator[luigi.Task]:
    """Every task of the static requirement graph (``requires()``), each once."""
    seen: set[str] = set()
    stack = list(tasks)
    while stack:
        task = stack.pop()
        if task.task_id in seen:
            continue
        seen.add(task.task_id)
        yield task
        stack.extend(flatten(task.requires()))


def output_roots(tasks: Sequence[luigi.Task]) -> list[Path]:
    """The ``output_dir`` folders of ``tasks`` and their requirements, resolved and sorted."""
    roots = {
        Path(str(task.output_dir)).resolve()
        for task in _requirement_graph(tasks)
        if isinstance(task, HgcalTask)
    }
    return sorted(roots)


def _lock_holder(fd: int) -> str:
    text = os.pread(fd, 200, 0).decode("utf-8", "replace").split()
    return f"pid {text[0]} on {text[1]}" if len(text) >= 2 else "another process"


@contextmanager
def _locked(root: Path) -> Iterator[None]:
    created = not root.exists()
    ensure_dir(root)
    path = root / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        # A POSIX record lock (lockf), not flock: it belongs to this process alone, so a
        # child forked while it is held (law's multiprocessing manager lives on after the
        # grid's workflow) does not hold the folder too and block this run's next step.
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EACCES, errno.EAGAIN):
                raise
            print(
                f"hgcal-ae: {path} is held by another run ({_lock_holder(fd)}); "
                "this run waits for it to finish",
                file=sys.stderr,
                flush=True,
            )
            fcntl.lockf(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {socket.gethostname()}\n".encode(), 0)
        yield
    finally:
        if created and _only_lock_file(root):
            # a run that wrote nothing (it failed first) leaves no folder behind
            path.unlink()
            shutil.rmtree(root)
        os.close(fd)  # releases the lock; the kernel does the same when the process dies


def _only_lock_file(root: Path) -> bool:
    """Whether the only file below ``root`` (folders aside) is its lock file."""
    files = [Path(folder, name) for folder, _, names in os.walk(root) for name in names]
    return files == [root / LOCK_FILE]


@contextmanager
def output_lock(roots: Sequence[Path]) -> Iterator[None]:
    """Hold an exclusive lock (``lockf``) on ``<root>/.hgcal-ae.lock`` of every root (sorted order).

    Waits, after one line on stderr naming the holder, while another run holds one.  The
    lock file keeps the holder's pid and host; the lock itself goes with the process.
    """
    with ExitStack() as stack:
        for root in sorted(roots):
            stack.enter_context(_locked(root))
        yield


def count_tasks_to_run(tasks: Sequence[luigi.Task]) -> int:
    """The number of :class:`HgcalTask` s a build of ``tasks`` will run: those that are
    incomplete, found from ``tasks`` down the requirements of incomplete tasks (as luigi
    schedules them).  A task whose ``complete()`` raises is not counted (luigi skips it)."""
    count = 0
    seen: set[str] = set()
    stack = list(tasks)
    with completeness_pass():
        while stack:
            task = stack.pop()
            if task.task_id in seen:
                continue
            seen.add(task.task_id)
            try:
                if task.complete():
                    continue
                stack.extend(flatten(task.requires()))
            except Exception:  # luigi reports it and runs nothing below it
                continue
            count += isinstance(task, HgcalTask)
    return count


def _await_other_workers(tasks: Sequence[luigi.Task], host: str, port: int) -> None:
    """Wait while another worker of the ``luigid`` runs one of ``tasks``; raise
    :class:`SchedulerError` if one is still incomplete when none runs any more.

    A luigi worker stops as soon as none of its tasks is left to start, even while another
    worker still runs a task it asked for; luigi then calls the run "not run" or even a
    success although the task's outputs are not there yet.
    """
    # Its RPC methods (task_list ...) are added to the class at import time: untyped.
    scheduler: Any = RemoteScheduler(f"http://{host}:{port}")
    while True:
        # Asked before the files: a task that is not running now has finished (its outputs
        # are there) or failed, never "finished just after we looked at the files".
        try:
            running = scheduler.task_list("RUNNING", "")
        except RPCError as exc:
            msg = f"lost the luigi scheduler at {host}:{port} while other workers ran ({exc})"
            raise errors.SchedulerError(msg) from exc
        waiting = [task for task in tasks if not task.complete()]
        if not waiting:
            return
        if not any(task.task_id in running for task in waiting):
            msg = (
                f"{task_label(waiting[0])} is not complete and no worker of the luigi scheduler "
                f"at {host}:{port} runs it any more (it failed on another worker or was stopped); "
                "see that worker's log or rerun"
            )
            raise errors.SchedulerError(msg)
        time.sleep(POLL_S)


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


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set ``values`` in ``os.environ`` (read by the task processes) and restore it after."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_tasks(
    tasks: Sequence[luigi.Task],
    *,
    workers: int = 1,
    scheduler_host: str | None = None,
    scheduler_port: int = 8082,
    verbose: bool = False,
    progress: bool = True,
) -> RunReport:
    """Build ``tasks`` and their requirements; raise if any of them failed.

    Parameters
    ----------
    workers
        Parallel worker processes of this call.
    scheduler_host, scheduler_port
        A running ``luigid``; ``None`` uses luigi's embedded local scheduler, and then the run
        holds the lock of every output folder (:func:`output_lock`) while it builds.  With a
        central scheduler, several calls (on one machine or on several sharing a
        filesystem) split the work, and each task runs exactly once.
    verbose
        Show luigi's own log (INFO level, with tracebacks).
    progress
        Print ``[done/total] start|done <task>`` lines to stderr as tasks start and end;
        ``total`` counts the tasks that were incomplete when the run started.
    """
    if workers < 1:
        msg = f"workers must be >= 1, got {workers}"
        raise errors.ConfigError(msg)
    if scheduler_host:
        check_scheduler(scheduler_host, scheduler_port)
        # Wait for tasks another worker is running instead of giving up on them.
        luigi.configuration.get_config().set("worker", "keep_alive", "true")
    lock_roots = [] if scheduler_host else output_roots(tasks)
    with tempfile.TemporaryDirectory(prefix="hgcal-ae-run-") as tmp, output_lock(lock_roots):
        error_log = Path(tmp) / "errors.jsonl"
        env = {ERROR_LOG_ENV: str(error_log)}
        if THREADS_ENV not in os.environ:  # the user's own choice wins
            env[THREADS_ENV] = str(max(1, (os.cpu_count() or 1) // workers))
        if progress:
            env[PROGRESS_ENV] = str(Path(tmp) / "progress.log")
            env[PROGRESS_TOTAL_ENV] = str(count_tasks_to_run(tasks))
        with _environment(env):
            result = luigi.build(
                list(tasks),
                workers=workers,
                local_scheduler=not scheduler_host,
                scheduler_host=scheduler_host or "localhost",
                scheduler_port=scheduler_port,
                detailed_summary=True,
                log_level="INFO" if verbose else "CRITICAL",
            )
        status = result.status
        failed = error_log.exists() and error_log.stat().st_size > 0
        if scheduler_host and not failed:
            # Tasks another worker runs count as "not run", or even as a success, and this
            # worker stops while they still run: wait until the requested outputs exist.
            _await_other_workers(tasks, scheduler_host, scheduler_port)
        elif status not in SUCCEEDED and (failed or not all(task.complete() for task in tasks)):
            _raise_first_failure(error_log, status.name)
    return RunReport(status=status.name, summary=result.summary_text)
