"""luigi workflow of the data-scaling study (``hgcal-ae scaling``).

::

    TriggerCellData (the study's) ─► TrainScalingAE (one per training-set size) ─► ScalingReport

The study's showers, split and AE (the merging code size, 16 x 3 bits) trained on nested
subsets of the training events (:mod:`hgcal_ae.study.scaling`), each judged on the study's
test modules at 2 e-links beside Best Choice and STC 2 x 2.  ``schedule`` ``steps`` (the
default) trains every size for the optimiser steps of ``epochs`` epochs over the largest
size; ``epochs``, every size for ``epochs`` epochs.  ``ScalingGrid`` runs the
trainings as a law workflow (``--workflow local|slurm|htcondor``).

::

    luigi --module hgcal_ae.workflows.scaling ScalingReport --preset full \\
        --sizes '[16000, 50000, 150000, 480000]' --local-scheduler
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import luigi
import numpy as np
import numpy.typing as npt
import torch

from hgcal_ae import __version__
from hgcal_ae.atomic import write_csv, write_json
from hgcal_ae.detector.setups import detector_setup
from hgcal_ae.models.device import resolve_device
from hgcal_ae.models.module_ae import ModuleAutoencoder
from hgcal_ae.models.module_losses import module_loss
from hgcal_ae.models.module_training import (
    ModuleTrainingConfig,
    load_module_ae,
    module_inputs,
    read_model_file,
    save_module_ae,
    train_module_autoencoder,
)
from hgcal_ae.plots.scaling import scaling_plot
from hgcal_ae.study.scaling import (
    SCALING_ELINKS,
    SCALING_VAL_MODULES,
    SCHEDULES,
    equal_step_epochs,
    scaling_answer,
    scaling_rows,
    training_subsets,
)
from hgcal_ae.workflows.base import HgcalTask
from hgcal_ae.workflows.grid import GridWorkflow
from hgcal_ae.workflows.study import StudyTask, TrainingTask, TriggerCellData
from hgcal_ae.workflows.targets import WholeTarget

__all__ = ["ScalingGrid", "ScalingReport", "TrainScalingAE"]

REPORT_FILES = ("scaling.png", "scaling.csv", "summary.json")


def _non_empty(tc: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """The modules the training keeps (a non-zero encoder scale, as train_module_autoencoder)."""
    return np.asarray(module_inputs(tc)[1] > 0)


def _validation_rows(
    val: npt.NDArray[np.int64], keep: npt.NDArray[np.bool_]
) -> npt.NDArray[np.int64]:
    """The trainings' validation rows: the first SCALING_VAL_MODULES non-empty (``keep``)
    of the split's, the same for every size."""
    return val[keep[val]][:SCALING_VAL_MODULES]


def _validation_loss(model: ModuleAutoencoder, loss: str, tc: npt.ArrayLike) -> float:
    """The training loss ``loss`` of ``model`` on the non-empty modules of ``tc``, as the
    training loop's validation loss (batches of 4096)."""
    images, scale = module_inputs(tc)
    images, fn = images[scale > 0], module_loss(loss)
    with torch.no_grad():
        total = sum(float(fn(b, model(b))) * len(b) for b in torch.split(images, 4096))
    return total / len(images)


def _largest(sizes: tuple[int, ...]) -> int:
    """The largest of the training-set sizes (0: every training module)."""
    return 0 if 0 in map(int, sizes) else max(map(int, sizes))


class ScalingTask(StudyTask):
    """Outputs under ``scaling/<run_name>/<config_id>/``; ``epochs`` 0: the preset's."""

    epochs = luigi.IntParameter(
        default=0,
        description="training epochs (0: the preset's); under schedule 'steps', of the largest size",
    )
    schedule = luigi.ChoiceParameter(
        choices=SCHEDULES, default="steps",
        description="steps: every size trains the optimiser steps of the largest; epochs: every size the same epochs",
    )  # fmt: skip

    def scaling_config(self) -> ModuleTrainingConfig:
        """The AE's training: the preset's at its merging code size, ``epochs`` if given."""
        p = self.spec()
        config = p.training_config(*p.merging_latent)
        return replace(config, epochs=int(self.epochs)) if self.epochs else config

    def scaling_target(self, *parts: str) -> WholeTarget:
        return self.local_target("scaling", self.run_name, self.config_id, *parts)

    @property
    def scaling_dir(self) -> Path:
        return self.root / "scaling" / self.run_name / self.config_id


class TrainScalingAE(ScalingTask, TrainingTask):
    """The AE trained on about ``n_train`` modules of the study's training events."""

    n_train = luigi.IntParameter(
        description="training modules (whole events, at least this many); 0: all of them"
    )
    largest = luigi.IntParameter(
        default=0,
        description="under schedule 'steps': the size whose steps every size takes (0: all)",
    )

    def requires(self) -> TriggerCellData:
        data: TriggerCellData = self.data_task()
        return data

    def output(self) -> WholeTarget:
        c = self.scaling_config()
        name = f"ae{c.latent_dim}x{c.latent_bits}_n{self.n_train or 'all'}_e{c.epochs}"
        # under 'steps' the largest size trains as under 'epochs': one model for both
        if self.schedule == "steps" and int(self.n_train) != int(self.largest):
            name += f"_steps-of-n{self.largest or 'all'}"
        return self.scaling_target("autoencoders", name, "model.pt")

    def run(self) -> None:
        rows = self.rows(self.input())
        train, val, _ = self.splits(rows)
        n, largest = int(self.n_train) or train.size, int(self.largest) or train.size
        subsets = training_subsets(rows.event, train, sorted({n, largest}), seed=self.spec().seed)
        chosen = subsets[n]
        config = self.scaling_config()
        keep = _non_empty(rows.tc)
        if self.schedule == "steps":  # the optimiser steps of `epochs` over the largest set
            kept, kept_largest = (int(keep[subsets[m]].sum()) for m in (n, largest))
            epochs = equal_step_epochs(kept, kept_largest, config.epochs, config.batch_size)
            config = replace(config, epochs=epochs)
        val = _validation_rows(val, keep)
        checkpoint = Path(self.output().path).with_name("checkpoint.pt")
        model, fit = train_module_autoencoder(
            config, rows.tc[chosen], rows.tc[val], device=resolve_device(self.device),
            checkpoint=checkpoint,
            on_epoch=lambda r: self.report(r.epoch / config.epochs, f"epoch {r.epoch}: val {r.val_loss:.4f}"),
        )  # fmt: skip
        save_module_ae(self.output().path, model, config, fit.history)
        checkpoint.unlink(missing_ok=True)


class ScalingGrid(GridWorkflow, ScalingTask, TrainingTask):
    """The scaling study's trainings; a branch is one training-set size."""

    sizes = luigi.TupleParameter(description="training-set sizes [modules]")

    def points(self) -> list[HgcalTask]:
        largest = _largest(self.sizes)
        return [self.clone(TrainScalingAE, n_train=int(n), largest=largest) for n in self.sizes]

    def grid_dir(self) -> Path:
        return self.scaling_dir


class ScalingReport(ScalingTask):
    """The AE's mean EMD against its training-set size, with the baselines: figure, table,
    ``summary.json``."""

    sizes = luigi.TupleParameter(description="training-set sizes [modules]")

    def requires(self) -> dict[str, luigi.Task]:
        largest = _largest(self.sizes)
        trainings = {f"n{n}": self.clone(TrainScalingAE, n_train=int(n), largest=largest)
                     for n in self.sizes}  # fmt: skip
        return {"data": self.data_task(), **trainings}

    def output(self) -> dict[str, WholeTarget]:
        sizes = "_".join(str(int(n) or "all") for n in self.sizes)
        name = f"report_n{sizes}_e{self.scaling_config().epochs}"
        if self.schedule == "steps":
            name += "_steps"
        return {f: self.scaling_target(name, f) for f in REPORT_FILES}

    def run(self) -> None:
        p = self.spec()
        rows = self.rows(self.input()["data"])
        train, val, test = self.splits(rows)
        modules = rows.select_rows(test)
        requested = [int(n) or train.size for n in self.sizes]  # 0: every training module
        subsets = training_subsets(rows.event, train, requested, seed=p.seed)
        paths = {int(subsets[r].size): self.input()[f"n{int(n)}"].path
                 for n, r in zip(self.sizes, requested, strict=True)}  # fmt: skip
        models = {size: load_module_ae(path) for size, path in paths.items()}
        ae_rows, baselines = scaling_rows(
            modules, detector_setup(p.geometry), models, lsb=p.tc_lsb_mip,
            zero_suppress=p.ae_zero_suppress_mip,
        )  # fmt: skip
        config = self.scaling_config()
        keep = _non_empty(rows.tc)
        val = _validation_rows(val, keep)
        for row, n in zip(ae_rows, sorted(requested), strict=True):
            row["n_train_requested"] = n  # whole events: n_train_modules >= this
            size = row["n_train_modules"]
            history = read_model_file(paths[size], lambda f: f["history"])
            kept = int(keep[subsets[n]].sum())
            row.update(epochs=len(history), n_train_non_empty=kept,
                       n_steps=len(history) * -(-kept // config.batch_size),
                       train_loss=history[-1]["train_loss"],
                       val_loss=_validation_loss(models[size], config.loss, rows.tc[val]))  # fmt: skip
        out = {name: target.path for name, target in self.output().items()}
        steps = ae_rows[-1]["n_steps"]
        schedule = (f"about {steps:,} steps each" if self.schedule == "steps"
                    else f"{config.epochs} epochs each")  # fmt: skip
        title = (f"{ae_rows[0]['label']} at {SCALING_ELINKS} e-links, {schedule}\n"
                 f"preset {p.name}, {modules.n_rows:,} test modules")  # fmt: skip
        scaling_plot(ae_rows, baselines, out["scaling.png"], title=title)
        columns = ["n_train_modules", "n_train_requested", "epochs", "n_steps", "train_loss",
                   "val_loss", "label", "setting", "bits", "emd_mean_cm", "emd_sem_cm",
                   "emd_median_cm", "resolution_ratio_mean", "position_shift_rms_cm"]  # fmt: skip
        table = [{c: r.get(c) for c in columns} for r in (*ae_rows, *baselines)]
        write_csv(out["scaling.csv"], table, columns)
        strip = ("per_energy", "emd_by_occupancy")
        write_json(out["summary.json"], {
            "workflow": "scaling", "hgcal_ae_version": __version__, "preset": p.as_dict(),
            "occupancy": self.occupancy, "n_elinks": SCALING_ELINKS,
            "n_test_events": modules.n_events, "n_test_modules": modules.n_rows,
            "n_train_modules_available": int(train.size),
            "training": {"latent_dim": config.latent_dim, "latent_bits": config.latent_bits,
                         "schedule": self.schedule, "epochs": config.epochs,
                         "n_val_modules": int(val.size), "batch_size": config.batch_size,
                         "learning_rate": config.learning_rate, "seed": config.seed},
            "rows": [{k: v for k, v in r.items() if k not in strip} for r in ae_rows],
            "baselines": [{k: v for k, v in b.items() if k not in strip} for b in baselines],
            "answer": scaling_answer(ae_rows, baselines), "outputs": out,
        })  # fmt: skip
