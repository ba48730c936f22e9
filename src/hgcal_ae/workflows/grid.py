"""Grids of trainings as law workflows: one branch per training, run here or as batch jobs
on Slurm or HTCondor.

::

    hgcal-ae study --preset default --workflow slurm --tasks-per-job 2 --retries 1
    hgcal-ae mnist-scan --latent-dims 2,4,8,16 --workflow htcondor
    law run TrainGrid --preset smoke --workflow local --local-scheduler

A :class:`GridWorkflow`'s branch ``i`` runs the task ``points()[i]`` and writes exactly its
files: :class:`TrainGrid`'s branches are the study's
:class:`~hgcal_ae.workflows.study.TrainModuleAE` (latent dim × bits),
:class:`TrainScanGrid`'s the MNIST scan's
:class:`~hgcal_ae.workflows.mnist.TrainAutoencoder` (arch × latent dim).  What follows
(evaluation, report, scan plot) finds them complete whichever way they were trained.  What
the points require (the trigger-cell file, the prepared images) is the workflow's
requirement: it is made here, before any job starts.

Batch jobs run law's own job script (``law run <branch>`` on the node).  The job script,
its logs and law's submission record (job ids, states, attempts) live below
``<grid folder>/jobs/<workflow>/``, which must be on a filesystem the nodes share.  The
package's law settings are in ``hgcal_ae/workflows/law.cfg`` (see :mod:`hgcal_ae.workflows`).
"""

from __future__ import annotations

import json
import shutil
import sys
from abc import abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import law
import luigi
from luigi.cmdline_parser import CmdlineParser
from luigi.task import flatten

from hgcal_ae import errors
from hgcal_ae.metrics.emd_loss import exact_emd_image_loss
from hgcal_ae.models.device import resolve_device
from hgcal_ae.models.grid_training import train_module_grid
from hgcal_ae.models.module_training import save_module_ae
from hgcal_ae.workflows.base import HgcalTask
from hgcal_ae.workflows.mnist import LatentScan, TrainAutoencoder
from hgcal_ae.workflows.study import TrainingTask, TrainModuleAE, TriggerCellData

law.contrib.load("slurm", "htcondor")

__all__ = [
    "BATCH_COMMANDS",
    "WORKFLOWS",
    "GridWorkflow",
    "TrainGrid",
    "TrainModuleAEChunk",
    "TrainScanGrid",
    "check_workflow",
    "failed_jobs",
    "grid_points",
    "law_command_line",
]

WORKFLOWS = ("local", "slurm", "htcondor")
"""What ``--workflow`` accepts: law's local workflow, or batch jobs."""

BATCH_COMMANDS = {"slurm": "sbatch", "htcondor": "condor_submit"}
"""The command each batch workflow submits with; without it the run stops before it starts."""

# law's submission records: <jobs dir>/<workflow>_jobs_<branches>.json
_SUBMISSION_GLOB = "*_jobs_*.json"


def check_workflow(workflow: str) -> str:
    """Refuse an unknown workflow, or a batch workflow whose submit command is not on PATH."""
    if workflow not in WORKFLOWS:
        msg = f"unknown workflow {workflow!r}; expected one of {', '.join(WORKFLOWS)}"
        raise errors.ConfigError(msg)
    command = BATCH_COMMANDS.get(workflow)
    if command and shutil.which(command) is None:
        msg = (
            f"--workflow {workflow} submits with '{command}', which is not on PATH; "
            f"run where {workflow} is installed, or use --workflow local"
        )
        raise errors.ConfigError(msg)
    return workflow


class GridWorkflow(
    law.LocalWorkflow,  # type: ignore[misc]  # law ships no type hints: its classes are Any
    law.slurm.SlurmWorkflow,  # type: ignore[misc]
    law.htcondor.HTCondorWorkflow,  # type: ignore[misc]
):
    """A law workflow whose branch ``i`` runs the task :meth:`points` ``[i]``.

    A concrete grid lists its first base before the task whose parameters it takes, e.g.
    ``class TrainGrid(GridWorkflow, TrainingTask)``, so that these methods win over the
    task's own.  The workflow requires what the points require (made before any job).
    """

    @abstractmethod
    def points(self) -> list[HgcalTask]:
        """The tasks the branches stand for, in branch order."""

    @abstractmethod
    def grid_dir(self) -> Path:
        """The folder the grid's results go to; law's files go to ``<grid_dir>/jobs/<workflow>``."""

    def create_branch_map(self) -> dict[int, str]:
        return {i: point.task_id for i, point in enumerate(self.points())}

    def point(self) -> HgcalTask:
        """The task this branch stands for."""
        return self.points()[self.branch]

    def workflow_requires(self) -> Any:
        requirements = super().workflow_requires()
        needed = {t.task_id: t for p in self.points() for t in flatten(p.requires())}
        requirements.update({f"needs_{i}": task for i, task in enumerate(needed.values())})
        return requirements

    def requires(self) -> Any:
        return self.point().requires()

    def output(self) -> Any:
        return self.point().output()

    def complete(self) -> bool:
        # A workflow's complete() is law's (every branch's outputs); this is a branch's.
        return bool(self.point().complete())

    def run(self) -> None:
        self.point().run()

    # -- batch jobs -------------------------------------------------------------------------

    def jobs_dir(self) -> Path:
        """``<grid_dir>/jobs/<workflow>``: job files, logs and law's submission records."""
        return self.grid_dir() / "jobs" / str(self.effective_workflow)

    def _job_config(self, config: Any) -> Any:
        """Run the job with this interpreter's law and put its log beside the records."""
        bindir = Path(sys.executable).parent
        config.render_variables["law_exe"] = str(bindir / "law")
        config.render_variables["python_exe"] = sys.executable
        # law's job script calls `law` by name before it runs anything: put it on PATH.
        config.render_variables["bootstrap_command"] = f"export PATH={bindir}:$PATH"
        return config

    def slurm_use_local_scheduler(self) -> bool:
        return True  # a job runs its branch with an embedded scheduler, not a luigid

    def htcondor_use_local_scheduler(self) -> bool:
        return True

    def slurm_output_directory(self) -> law.LocalDirectoryTarget:
        return law.LocalDirectoryTarget(str(self.jobs_dir()))

    def slurm_create_job_file_factory(self, **kwargs: Any) -> Any:
        # Job files where the nodes see them (law's default is this machine's /tmp).
        return super().slurm_create_job_file_factory(
            **{"dir": str(self.jobs_dir() / "files"), "mkdtemp": False, **kwargs}
        )

    def slurm_job_config(self, config: Any, job_num: int, branches: list[int]) -> Any:
        config = self._job_config(config)
        config.stdout = config.stderr = "job-%j.log"  # law adds _<branches> before the suffix
        return config

    def htcondor_output_directory(self) -> law.LocalDirectoryTarget:
        return law.LocalDirectoryTarget(str(self.jobs_dir()))

    def htcondor_create_job_file_factory(self, **kwargs: Any) -> Any:
        return super().htcondor_create_job_file_factory(
            **{"dir": str(self.jobs_dir() / "files"), "mkdtemp": False, **kwargs}
        )

    def htcondor_job_config(self, config: Any, job_num: int, branches: list[int]) -> Any:
        config = self._job_config(config)
        config.log = "condor.log"
        config.stdout = "job.out"
        config.stderr = "job.err"
        # the whole environment of the submitting shell (the venv, $OUTPUT_DIR), as sbatch does
        config.custom_content.append(("getenv", "true"))
        return config


class TrainModuleAEChunk(TrainingTask):
    """Several grid points of the study trained together as one vectorised model
    (:func:`~hgcal_ae.models.grid_training.train_module_grid`).

    Its outputs are exactly the points' :class:`~hgcal_ae.workflows.study.TrainModuleAE`
    model files, so the evaluation finds them complete; a rerun trains only the points whose
    model is missing, each resuming from its own per-epoch checkpoint.
    """

    latent_points = luigi.TupleParameter(description="(latent dim, bits) pairs to train together")

    def members(self) -> list[TrainModuleAE]:
        return [self.clone(TrainModuleAE, latent_dim=int(d), latent_bits=int(b))
                for d, b in self.latent_points]  # fmt: skip

    def requires(self) -> TriggerCellData:
        data: TriggerCellData = self.data_task()
        return data

    def output(self) -> dict[str, Any]:
        return {f"{m.latent_dim}x{m.latent_bits}": m.output() for m in self.members()}

    def run(self) -> None:
        todo = [m for m in self.members() if not m.output().exists()]
        if not todo:
            return
        if self.spec().conditions:
            msg = "conditional AEs train one per task: run without --grid-chunk"
            raise errors.ConfigError(msg)
        rows = self.rows(self.input())
        train, val, _ = self.splits(rows)
        configs = [self.spec().training_config(m.latent_dim, m.latent_bits) for m in todo]
        checkpoints = [Path(m.output().path).with_name("checkpoint.pt") for m in todo]
        epochs = sum(c.epochs + c.finetune_epochs for c in configs)
        done = [0]

        def on_epoch(k: int, record: Any) -> None:
            done[0] += 1
            self.report(
                done[0] / epochs,
                f"{todo[k].latent_dim}x{todo[k].latent_bits}: epoch {record.epoch}",
            )

        trained = train_module_grid(
            configs, rows.tc[train], rows.tc[val], checkpoints=checkpoints,
            finetune_loss=exact_emd_image_loss, device=resolve_device(self.device),
            on_epoch=on_epoch,
        )  # fmt: skip
        for member, config, checkpoint, (model, fit) in zip(todo, configs, checkpoints, trained,
                                                             strict=True):  # fmt: skip
            save_module_ae(member.output().path, model, config, fit.history)
            checkpoint.unlink(missing_ok=True)
            checkpoint.with_name(f"finetune_{checkpoint.name}").unlink(missing_ok=True)


class TrainGrid(GridWorkflow, TrainingTask):
    """The study preset's grid of module autoencoders; a branch is one (latent dim, bits), or
    with ``grid_chunk`` N > 1 a chunk of N consecutive points trained together
    (:class:`TrainModuleAEChunk`)."""

    grid_chunk = luigi.IntParameter(
        default=1, description="grid points per branch, trained as one vectorised model"
    )

    def points(self) -> list[HgcalTask]:
        return grid_points(self, int(self.grid_chunk))

    def grid_dir(self) -> Path:
        return self.study_dir


class TrainScanGrid(GridWorkflow, LatentScan):
    """The MNIST latent scan's trainings (every arch × latent dim); a branch is one of them."""

    def points(self) -> list[HgcalTask]:
        return [
            self.clone(TrainAutoencoder, arch=arch, latent_dim=int(dim))
            for arch in self.archs
            for dim in self.latent_dims
        ]

    def grid_dir(self) -> Path:
        return self.scan_dir


def grid_points(task: TrainingTask, chunk: int) -> list[HgcalTask]:
    """The study grid of ``task``'s preset as tasks: one :class:`TrainModuleAE` per point,
    or with ``chunk`` > 1 one :class:`TrainModuleAEChunk` per ``chunk`` consecutive points."""
    grid = task.spec().ae_grid()
    if chunk < 1:
        msg = f"--grid-chunk must be >= 1, got {chunk}"
        raise errors.ConfigError(msg)
    if chunk == 1:
        return [task.clone(TrainModuleAE, latent_dim=d, latent_bits=b) for d, b in grid]
    return [
        task.clone(TrainModuleAEChunk, latent_points=tuple(grid[i : i + chunk]))
        for i in range(0, len(grid), chunk)
    ]


def failed_jobs(task: GridWorkflow) -> list[dict[str, Any]]:
    """The failed jobs in law's submission records of ``task``: job id, branches, submissions,
    law's error text and the job's log file (where the batch system wrote it)."""
    failed = []
    for record in sorted(task.jobs_dir().glob(_SUBMISSION_GLOB)):
        data = json.loads(record.read_text(encoding="utf-8"))
        for job_num, job in data.get("jobs", {}).items():
            if job.get("status") != "failed":
                continue
            branches = job["branches"]
            postfix = f"_{branches[0]}To{branches[-1] + 1}"  # law's name for the job's branches
            logs = sorted(task.jobs_dir().glob(f"job-{job['job_id']}{postfix}.log"))  # Slurm
            logs += sorted(task.jobs_dir().glob(f"job{postfix}.err"))  # HTCondor (its stderr)
            failed.append({
                "job_num": int(job_num), "job_id": job["job_id"], "branches": job["branches"],
                "submissions": 1 + data.get("attempts", {}).get(job_num, 0), "error": job.get("error"),
                "log": str(logs[0]) if logs else None, "record": str(record),
            })  # fmt: skip
    return failed


@contextmanager
def law_command_line(*args: str) -> Iterator[None]:
    """Run law workflows from Python as ``law run`` would.

    law builds each job's command from the command line of the process that submits
    (luigi's ``CmdlineParser``); ``luigi.build`` from Python has none.  Inside this block it
    is ``<args> --local-scheduler``: the jobs run their branch with an embedded scheduler.
    """
    with CmdlineParser.global_instance([*args, "--local-scheduler"]):
        yield
