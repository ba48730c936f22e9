"""The base luigi task: output paths from parameters, atomic targets, run bookkeeping.

Every task of the package derives from :class:`HgcalTask`.  Its outputs live below
``output_dir`` (``$OUTPUT_DIR``, default ``./output``) in folders named from the task's
physics parameters, so a path says what it holds (``mnist/conv_latent28_bce_seed0_e10``).
Each successful run appends one JSON line to ``<output_dir>/task_runs.jsonl`` (task id,
host, pid, seconds), which tells which worker ran what when several share the work.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

import luigi

from hgcal_ae.atomic import ensure_dir

__all__ = ["TASK_RUN_LOG", "THREADS_ENV", "HgcalTask", "default_output_dir"]

TASK_RUN_LOG = "task_runs.jsonl"
ERROR_LOG_ENV = "HGCAL_AE_ERROR_LOG"
# torch CPU threads of each task process; run_tasks sets it to cores // workers.  Without it,
# W workers each start a pool of all cores, and on 2 cores two trainings with 2 threads each
# took 2-50 s per epoch instead of 0.7-1.3 s (oversubscription; flush-to-zero of subnormals
# is set on the main thread only, so the extra pool threads also ran subnormal arithmetic).
THREADS_ENV = "HGCAL_AE_THREADS_PER_WORKER"


def default_output_dir() -> str:
    """``$OUTPUT_DIR`` if set (as ``setup.sh`` does), else ``./output``."""
    return os.environ.get("OUTPUT_DIR") or "output"


class HgcalTask(luigi.Task):
    """Base of every hgcal-ae task."""

    output_dir = luigi.Parameter(
        default=default_output_dir(), description="root folder of all outputs ($OUTPUT_DIR)"
    )

    @property
    def root(self) -> Path:
        return Path(str(self.output_dir))

    def local_target(self, *parts: str) -> luigi.LocalTarget:
        """A target at ``output_dir/parts...``."""
        return luigi.LocalTarget(str(self.root.joinpath(*parts)))

    def report(self, fraction: float, message: str) -> None:
        """Tell the scheduler (and its web page) how far the task is."""
        self.set_progress_percentage(round(100 * fraction))
        self.set_status_message(message)


@HgcalTask.event_handler(luigi.Event.START)
def _remember_start(task: HgcalTask) -> None:
    task._started = time.time()
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
        "seconds": round(time.time() - getattr(task, "_started", time.time()), 3),
    }
    ensure_dir(task.root)
    # One short line in O_APPEND mode: concurrent workers on one filesystem do not interleave.
    with open(task.root / TASK_RUN_LOG, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")


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
