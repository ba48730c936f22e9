"""luigi workflow of the merging study (``hgcal-ae merging``): how to merge cells and modules.

::

    TriggerCellData ─► TrainModuleAE (the study's) ──┬─► NeighbourMerging ─┐
                    └► TrainBorderAE (2 variants) ─┘                     │
    TcGrouping (hd8 showers) ────────────────────────────────────────────┴─► MergingReport

* :class:`TcGrouping`: cells against 2 x 2- and 3 x 3-cell trigger cells on the same showers
  (:mod:`hgcal_ae.study.grouping`).
* :class:`TrainBorderAE`: the encoder that also sees its neighbours' border TCs, and the
  shuffled-border control; with the module AE alone they form :class:`MergingGrid`, the law
  workflow that trains them locally or as batch jobs (``hgcal-ae merging --workflow``).
* :class:`NeighbourMerging`: each module compressed alone against the border AEs
  (:mod:`hgcal_ae.study.neighbours`),
  on the showers of ``hgcal-ae study`` with the same preset.  The data, the split and the
  module AE alone are the study's own (one file, one split rule, one trained model).
* :class:`MergingReport`: both figures, the tables (CSV and Markdown) and ``summary.json``.

::

    luigi --module hgcal_ae.workflows.merging MergingReport --preset smoke --local-scheduler
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import luigi

from hgcal_ae import __version__
from hgcal_ae.atomic import atomic_path, write_csv, write_json
from hgcal_ae.detector.setups import detector_setup
from hgcal_ae.models.border_ae import BorderTrainingConfig, load_border_ae, save_border_ae
from hgcal_ae.models.device import resolve_device
from hgcal_ae.models.module_training import load_module_ae
from hgcal_ae.plots.grouping import grouping_plot
from hgcal_ae.plots.neighbours import neighbour_plot
from hgcal_ae.study.grouping import grouping_study
from hgcal_ae.study.merging import answers, merging_markdown
from hgcal_ae.study.neighbours import BORDER_MODELS, neighbour_study, train_border_model
from hgcal_ae.workflows.base import HgcalTask
from hgcal_ae.workflows.grid import GridWorkflow
from hgcal_ae.workflows.study import StudyTask, TrainingTask, TrainModuleAE, TriggerCellData
from hgcal_ae.workflows.targets import WholeTarget

__all__ = ["MergingGrid", "MergingReport", "NeighbourMerging", "TcGrouping", "TrainBorderAE"]


class MergingTask(StudyTask):
    """Outputs under ``merging/<run_name>/<config_id>/``, as the study's under ``study/``."""

    def merging_target(self, *parts: str) -> WholeTarget:
        return self.local_target("merging", self.run_name, self.config_id, *parts)


class TcGrouping(MergingTask):
    """Cells, 2 x 2 and 3 x 3 TCs of the same simulated hd8 showers: resolutions, widths, bits.

    Always signal occupancy: a cell-level measure of the grouping, whatever ``occupancy`` says.
    """

    def output(self) -> luigi.LocalTarget:
        return self.merging_target("grouping.json")

    def run(self) -> None:
        result = grouping_study(
            self.spec().grouping_config(),
            on_batch=lambda done, total: self.report(done / total, f"{done}/{total} events"),
        )
        write_json(self.output().path, result.to_json())


class TrainBorderAE(MergingTask, TrainingTask):
    """One border AE of the neighbour study (``with_neighbours`` or the ``shuffled_border``
    control), at the preset's merging code size, on the study's training events."""

    variant = luigi.ChoiceParameter(choices=list(BORDER_MODELS))

    def requires(self) -> TriggerCellData:
        data: TriggerCellData = self.data_task()
        return data

    def output(self) -> WholeTarget:
        return self.merging_target("border_autoencoders", str(self.variant), "model.pt")

    def run(self) -> None:
        p = self.spec()
        config = p.training_config(*p.merging_latent)
        checkpoint = Path(self.output().path).with_name("checkpoint.pt")
        model, fit = train_border_model(
            self.rows(self.input()), detector_setup(p.geometry), str(self.variant), config,
            fractions=p.split, device=resolve_device(self.device), checkpoint=checkpoint,
            on_epoch=lambda r: self.report(r.epoch / config.epochs, f"epoch {r.epoch}: val {r.val_loss:.4f}"),
        )  # fmt: skip
        n_border = model.config.n_border
        save_border_ae(self.output().path, model,
                       BorderTrainingConfig.from_module(config, n_border), fit.history)  # fmt: skip
        checkpoint.unlink(missing_ok=True)


class MergingGrid(GridWorkflow, TrainingTask):
    """The merging study's trainings (the study's module AE alone at the merging code size,
    and both border AEs); a branch is one of them (``--workflow local|slurm|htcondor``)."""

    def points(self) -> list[HgcalTask]:
        latent_dim, latent_bits = self.spec().merging_latent
        alone = self.clone(TrainModuleAE, latent_dim=latent_dim, latent_bits=latent_bits)
        return [alone, *(self.clone(TrainBorderAE, variant=v) for v in BORDER_MODELS)]

    def grid_dir(self) -> Path:
        return self.root / "merging" / self.run_name / self.config_id


class NeighbourMerging(MergingTask, TrainingTask):
    """Module AE alone vs with its neighbours' border TCs (and a shuffled control), same code size."""

    def requires(self) -> dict[str, luigi.Task]:
        latent_dim, latent_bits = self.spec().merging_latent
        alone = self.clone(TrainModuleAE, latent_dim=latent_dim, latent_bits=latent_bits)
        borders = {v: self.clone(TrainBorderAE, variant=v) for v in BORDER_MODELS}
        return {"data": self.data_task(), "alone": alone, **borders}

    def output(self) -> luigi.LocalTarget:
        return self.merging_target("neighbours.json")

    def run(self) -> None:
        p = self.spec()
        latent_dim, latent_bits = p.merging_latent
        config = p.training_config(latent_dim, latent_bits)
        result = neighbour_study(
            self.rows(self.input()["data"]), detector_setup(p.geometry),
            alone=load_module_ae(self.input()["alone"].path), latent_dim=latent_dim,
            latent_bits=latent_bits, epochs=config.epochs, seed=config.seed, loss=config.loss,
            decoder_head=config.decoder_head, batch_size=config.batch_size,
            learning_rate=config.learning_rate, fractions=p.split,
            zero_suppress=p.ae_zero_suppress_mip, device=resolve_device(self.device),
            trained={v: load_border_ae(self.input()[v].path) for v in BORDER_MODELS},
        )  # fmt: skip
        write_json(self.output().path, result.summary)


class MergingReport(MergingTask):
    """Figures, tables and ``summary.json`` of the grouping and neighbour studies."""

    def requires(self) -> dict[str, luigi.Task]:
        return {"grouping": self.clone(TcGrouping), "neighbours": self.clone(NeighbourMerging)}

    def output(self) -> dict[str, luigi.LocalTarget]:
        names = ("grouping.png", "grouping.csv", "neighbours.png", "neighbours.csv", "table.md",
                 "summary.json")  # fmt: skip
        return {name: self.merging_target("report", name) for name in names}

    def run(self) -> None:
        grouping = _read_json(self.input()["grouping"])
        neighbours = _read_json(self.input()["neighbours"])
        out = {name: target.path for name, target in self.output().items()}
        grouping_plot(grouping["summary"], grouping["per_layer"], out["grouping.png"],
                      title="hd8 showers: cells vs 2x2 vs 3x3 trigger cells")  # fmt: skip
        neighbour_plot(neighbours, out["neighbours.png"])
        write_csv(out["grouping.csv"], grouping["summary"])
        write_csv(out["neighbours.csv"], neighbours["rows"])
        with atomic_path(out["table.md"]) as tmp:
            tmp.write_text(merging_markdown(grouping, neighbours), encoding="utf-8")
        write_json(out["summary.json"], {
            "workflow": "merging", "hgcal_ae_version": __version__, "preset": self.spec().as_dict(),
            "grouping": grouping, "neighbours": neighbours, "answers": answers(grouping, neighbours),
            "outputs": out,
        })  # fmt: skip


def _read_json(target: luigi.LocalTarget) -> Any:
    return json.loads(Path(target.path).read_text(encoding="utf-8"))
