"""The base luigi task: output paths from parameters, whole outputs, completeness, bookkeeping.

Every task of the package derives from :class:`HgcalTask`.  Its outputs live below
``output_dir`` (``$OUTPUT_DIR``, default ``./output``) in folders named from the task's
physics parameters, so a path says what it holds (``mnist/conv_latent28_bce_seed0_e10``).
Each successful run appends one JSON line to ``<output_dir>/task_runs.jsonl`` (task id,
host, pid, seconds, and the batch job id inside a Slurm or HTCondor job), which tells which
worker ran what when several share the work.

A task is complete (:meth:`HgcalTask.complete`) when its outputs are whole
(:class:`~hgcal_ae.workflows.targets.WholeTarget`) and every requirement is complete in
turn.  Output paths derive from every setting a result depends on (law's rule: a study's
folder carries its preset's settings id, see :attr:`~hgcal_ae.workflows.study.StudyTask.config_id`),
so a whole output is the result of exactly that configuration: no file times and no saved
settings are compared.  luigi asks every task before anything runs, so a missing or broken
file upstream makes one run rebuild the chain below it.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import law
import luigi
from luigi.task import flatten

from hgcal_ae.atomic import ensure_dir
from hgcal_ae.workflows.targets import WholeTarget

__all__ = [
    "PROGRESS_ENV",
    "PROGRESS_TOTAL_ENV",
    "TASK_RUN_LOG",
    "THREADS_ENV",
    "HgcalTask",
    "completeness_pass",
    "default_output_dir",
    "task_label",
]

TASK_RUN_LOG = "task_runs.jsonl"
ERROR_LOG_ENV = "HGCAL_AE_ERROR_LOG"
# torch CPU threads of each task process; run_tasks sets it to cores // workers.  Without it,
# W workers each start a pool of all cores, and on 2 cores two trainings with 2 threads each
# took 2-50 s per epoch instead of 0.7-1.3 s (oversubscription; flush-to-zero of subnormals
# is set on the main thread only, so the extra pool threads also ran subnormal arithmetic).
THREADS_ENV = "HGCAL_AE_THREADS_PER_WORKER"
# Progress lines: run_tasks names a file (one line per finished task, shared by the forked
# worker processes) and the number of tasks the run has to do.  Unset: no progress lines.
PROGRESS_ENV = "HGCAL_AE_PROGRESS"
PROGRESS_TOTAL_ENV = "HGCAL_AE_PROGRESS_TOTAL"
# What a batch job knows of itself (Slurm's job id; the HTCondor cluster and process that
# law's wrapper exports), and its key in task_runs.jsonl.
BATCH_JOB_ENV = {
    "SLURM_JOB_ID": "slurm_job_id",
    "LAW_HTCONDOR_JOB_CLUSTER": "condor_cluster",
    "LAW_HTCONDOR_JOB_PROCESS": "condor_process",
}
LABEL_VALUE_CHARS = 24
LABEL_CHARS = 100


def default_output_dir() -> str:
    """``$OUTPUT_DIR`` if set (as ``setup.sh`` does), else ``./output``."""
    return os.environ.get("OUTPUT_DIR") or "output"


# Completeness answers by task id, only while a completeness_pass (or one top-level
# complete() call) is open; nothing is remembered between passes, so a later luigi.build
# in the same process sees the files as they are then.
_pass = threading.local()


@contextmanager
def completeness_pass() -> Iterator[None]:
    """Remember :meth:`HgcalTask.complete` answers by task id inside the block.

    Use it around a walk of the requirement graph during which no task runs (a task that
    runs changes the answers); nested passes share the outer one's answers.
    """
    if getattr(_pass, "memo", None) is not None:
        yield
        return
    _pass.memo = {}
    try:
        yield
    finally:
        _pass.memo = None


def _is_complete(task: luigi.Task) -> bool:
    memo: dict[str, bool] = _pass.memo
    if task.task_id not in memo:
        memo[task.task_id] = bool(task.complete())
    return memo[task.task_id]


class HgcalTask(law.Task):  # type: ignore[misc]  # law ships no type hints
    """Base of every hgcal-ae task: a law task (and so a luigi task).

    law adds only insignificant parameters (``--print-deps``, ``--log-file``, ...), so task
    ids and output paths are those of plain luigi tasks; it lets a task be a branch of a
    law workflow that runs on a batch system (:mod:`hgcal_ae.workflows.grid`).
    """

    output_dir = luigi.Parameter(
        default=default_output_dir(), description="root folder of all outputs ($OUTPUT_DIR)"
    )

    @property
    def root(self) -> Path:
        return Path(str(self.output_dir))

    def local_target(self, *parts: str) -> WholeTarget:
        """A target at ``output_dir/parts...`` that exists only when whole (by its suffix)."""
        return WholeTarget(str(self.root.joinpath(*parts)))

    def complete(self) -> bool:
        """Whether the outputs are whole and every requirement is complete (recursively).

        When an upstream task must run again (its output is missing or truncated), every
        task downstream of it is incomplete too, so one luigi run rebuilds the whole chain.
        Reads no data beyond the targets' wholeness checks.
        """
        with completeness_pass():
            if not super().complete():  # every output exists, i.e. is whole
                return False
            return all(_is_complete(task) for task in flatten(self.requires()))

    def report(self, fraction: float, message: str) -> None:
        """Tell the scheduler (and its web page) how far the task is.

        A no-op outside a luigi worker: luigi sets these callbacks to None until a worker
        runs the task, so a ``run()`` called by hand still works.
        """
        set_percentage: Callable[[int], None] | None = self.set_progress_percentage
        set_message: Callable[[str], None] | None = self.set_status_message
        if set_percentage is not None:
            set_percentage(round(100 * fraction))
        if set_message is not None:
            set_message(message)


def task_label(task: luigi.Task) -> str:
    """``Family(name=value, ...)``: the significant parameters that differ from their
    defaults, ``output_dir`` left out, long values and long labels cut short."""
    shown = [
        f"{name}={value if len(value) <= LABEL_VALUE_CHARS else value[: LABEL_VALUE_CHARS - 1] + '…'}"
        for name, value in task.to_str_params(only_significant=True).items()
        if name != "output_dir" and not _is_default(task, name, value)
    ]
    label = f"{task.get_task_family()}({', '.join(shown)})"
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 2] + "…)"


def _is_default(task: luigi.Task, name: str, value: str) -> bool:
    """Whether parameter ``name`` has its default (or configured) value ``value``."""
    param = dict(task.get_params())[name]
    family = task.get_task_family()
    if not param.has_task_value(family, name):
        return False
    return bool(param.serialize(param.task_value(family, name)) == value)


def _progress(verb: str, task: HgcalTask, finished: bool) -> None:
    """Print ``[done/total] verb task`` to stderr if run_tasks asked for progress lines.

    A finished task appends its id to the shared progress file and counts the lines there,
    under an exclusive lock that it holds while printing too, so the forked worker processes
    count one sequence and their lines never interleave.
    """
    path = os.environ.get(PROGRESS_ENV)
    if not path:
        return
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if finished:
            os.write(fd, (task.task_id + "\n").encode())
        with open(path, "rb") as fh:
            done = fh.read().count(b"\n")
        total = max(done, int(os.environ.get(PROGRESS_TOTAL_ENV) or 0))
        sys.stderr.write(f"[{done}/{total}] {verb.format(label=task_label(task))}\n")
        sys.stderr.flush()
    finally:
        os.close(fd)  # closing releases the lock


# Start times of the tasks this process runs, by task id (set by the START handler).
_STARTED: dict[str, float] = {}


def _seconds(task: HgcalTask) -> float:
    return time.time() - _STARTED.get(task.task_id, time.time())


@HgcalTask.event_handler(luigi.Event.START)
def _remember_start(task: HgcalTask) -> None:
    _STARTED[task.task_id] = time.time()
    _progress("start {label}", task, finished=False)
    threads = int(getattr(task, "threads", 0) or 0) or int(os.environ.get(THREADS_ENV) or 0)
    if threads > 0:
        import torch  # here, in the task's process: no torch thread pool in luigi's parent

        torch.set_num_threads(threads)


@HgcalTask.event_handler(luigi.Event.SUCCESS)
def _log_run(task: HgcalTask) -> None:
    record = {
        "task_id": task.task_id,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "seconds": round(_seconds(task), 3),
    }
    for name, key in BATCH_JOB_ENV.items():  # a batch job says which one it was
        if value := os.environ.get(name):
            record[key] = value
    ensure_dir(task.root)
    # One short line in O_APPEND mode: concurrent workers on one filesystem do not interleave.
    with open(task.root / TASK_RUN_LOG, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")
    _progress(f"done {{label}} in {_seconds(task):.1f} s", task, finished=True)


@HgcalTask.event_handler(luigi.Event.FAILURE)
def _log_failure(task: HgcalTask, exception: BaseException) -> None:
    """Write ``task: error`` to the file named by $HGCAL_AE_ERROR_LOG (set by the CLI)."""
    if path := os.environ.get(ERROR_LOG_ENV):
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(_failure_record(task, exception)) + "\n")


def _failure_record(task: HgcalTask, exception: BaseException) -> dict[str, Any]:
    return {
        "task": task.get_task_family(),
        "task_id": task.task_id,
        "type": type(exception).__name__,
        "message": str(exception).splitlines()[0] if str(exception) else type(exception).__name__,
    }
