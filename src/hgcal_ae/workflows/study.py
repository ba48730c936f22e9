"""luigi workflow of the compression study (``hgcal-ae study``).

::

    TriggerCellData ─► TrainModuleAE (latent dim × bits) ─► EvaluateCompression ─► StudyReport

    luigi --module hgcal_ae.workflows.study StudyReport --preset smoke --local-scheduler

Every task only wires: its parameters name the preset, the occupancy and the AE; its run
loads its inputs, calls :mod:`hgcal_ae.study` (and :mod:`hgcal_ae.plots`) and writes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import luigi
import numpy as np

from hgcal_ae import __version__
from hgcal_ae.atomic import atomic_path, write_csv, write_json
from hgcal_ae.datasets.module_rows import ModuleRows
from hgcal_ae.datasets.splits import split_rows
from hgcal_ae.datasets.trigger_cells import read_trigger_cells
from hgcal_ae.detector.setups import detector_setup
from hgcal_ae.metrics.emd_loss import exact_emd_image_loss
from hgcal_ae.models.device import resolve_device
from hgcal_ae.models.module_ae import CONDITIONS
from hgcal_ae.models.module_training import (
    load_module_ae,
    save_module_ae,
    train_module_autoencoder,
)
from hgcal_ae.plots.bandwidth import bandwidth_plot
from hgcal_ae.plots.occupancy import occupancy_validation_plot
from hgcal_ae.plots.study import emd_occupancy_plot, pareto_plot, trigger_cell_display
from hgcal_ae.study.displays import compression_panels, display_layer, layer_positions
from hgcal_ae.study.evaluate import evaluate_all
from hgcal_ae.study.occupancy_pu200 import (
    PUBLISHED,
    occupancy_validation,
    row_conditions,
    rows_abs_eta,
)
from hgcal_ae.study.presets import PRESETS, STUDY_LOSSES, StudyPreset, study_preset
from hgcal_ae.study.report import (
    HGCAL_SI_MODULES,
    QUANTITIES,
    ae_versus_baselines,
    reference_label,
    smallest_latent_dim,
    smallest_latent_dim_by_shape,
    table_markdown,
)
from hgcal_ae.study.showers import OCCUPANCIES, make_trigger_dataset
from hgcal_ae.trigger.bandwidth import bandwidth_table, standard_entries, write_table_csv
from hgcal_ae.workflows.base import HgcalTask
from hgcal_ae.workflows.targets import WholeTarget

__all__ = [
    "EvaluateCompression",
    "StudyReport",
    "StudyTask",
    "TrainModuleAE",
    "TrainingTask",
    "TriggerCellData",
]


class StudyTask(HgcalTask):
    """Parameters and folders shared by the study's tasks (and the merging study's)."""

    preset = luigi.ChoiceParameter(choices=list(PRESETS), default="default")
    occupancy = luigi.ChoiceParameter(
        choices=list(OCCUPANCIES), default="signal",
        description="module occupancy of the trigger data (TriggerDatasetConfig.occupancy)",
    )  # fmt: skip
    quantised_weights = luigi.BoolParameter(
        default=False,
        description="train the module AEs with 6-bit encoder weights (on-chip format)",
    )
    loss = luigi.ChoiceParameter(
        choices=list(STUDY_LOSSES), default="telescope",
        description="training loss of the module AEs (StudyPreset.loss_schedule)",
    )  # fmt: skip
    # the showers (StudyPreset.particle, energies_gev, eta_range, pileup_scale); empty: the
    # preset's.  They enter the dataset config, so other values give another output folder.
    particle = luigi.Parameter(default="", description="signal particle: e-, e+ or gamma")
    energies = luigi.TupleParameter(default=(), description="signal energies [GeV]")
    eta_range = luigi.TupleParameter(default=(), description="pu200: the showers' |eta| range")
    pileup_scale = luigi.FloatParameter(default=1.0, description="pu200: 1 = 200 pile-up")
    conditional = luigi.BoolParameter(
        default=False, description="module AEs with the conditional decoder (ECON_CAE)"
    )
    train_epochs = luigi.IntParameter(
        default=0,
        description="training epochs of the module AEs (0: the preset's; another value enters the config id)",
    )

    @property
    def run_name(self) -> str:
        """``<preset>``, or ``<preset>_<occupancy>`` for noise or toy pile-up occupancy;
        ``_qw`` appended when the AEs have quantisation-aware weights, ``_cond`` when their
        decoders are conditional, ``_emd`` when they are fine-tuned with the exact EMD."""
        name = self.preset if self.occupancy == "signal" else f"{self.preset}_{self.occupancy}"
        name = f"{name}_qw" if self.quantised_weights else name
        name = f"{name}_cond" if self.conditional else name
        return f"{name}_emd" if self.loss == "telescope+emd" else name

    @property
    def config_id(self) -> str:
        """Eight hex digits naming every setting of the run: the resolved preset (with the
        loss and weight options) and the showers' configuration.

        A preset is a name for settings written in code; its id puts those settings into the
        output paths, so a complete output means "this exact configuration exists" and a
        changed preset writes beside the old results instead of over them.
        """
        settings = {"preset": self.spec().as_dict(),
                    "dataset": asdict(self.spec().dataset_config(self.occupancy))}  # fmt: skip
        text = json.dumps(settings, sort_keys=True, default=list)
        return hashlib.sha256(text.encode()).hexdigest()[:8]

    @property
    def study_dir(self) -> Path:
        """``study/<run_name>/<config_id>``: the folder of every output of the study run."""
        return self.root / "study" / self.run_name / self.config_id

    def study_target(self, *parts: str) -> WholeTarget:
        """A whole target at ``study_dir/parts...``."""
        return self.local_target("study", self.run_name, self.config_id, *parts)

    def spec(self) -> StudyPreset:
        p, eta = study_preset(self.preset), self.eta_range
        preset = replace(
            p, loss_schedule=self.loss, pileup_scale=self.pileup_scale,
            particle=self.particle or p.particle,
            energies_gev=tuple(map(float, self.energies)) or p.energies_gev,
            eta_range=(float(eta[0]), float(eta[1])) if eta else p.eta_range,
        )  # fmt: skip
        preset = replace(preset, conditions=tuple(CONDITIONS)) if self.conditional else preset
        preset = replace(preset, epochs=int(self.train_epochs)) if self.train_epochs else preset
        return replace(preset, quantised_weights=True) if self.quantised_weights else preset

    def conditions(self, rows: ModuleRows) -> dict[str, np.ndarray] | None:
        """The conditional decoder's conditions of ``rows``; None when the AEs have none."""
        p = self.spec()
        if not p.conditions:
            return None
        setup = detector_setup(p.geometry)
        return row_conditions(rows, setup, eta_range=p.eta_range, seed=p.seed)

    def data_task(self) -> TriggerCellData:
        """The trigger-cell data of this run: that of the plain variant (telescope loss, float
        weights, no conditions, the preset's epochs), which every variant of the same showers
        shares."""
        data: TriggerCellData = self.clone(
            TriggerCellData, loss="telescope", quantised_weights=False, conditional=False,
            train_epochs=0,
        )  # fmt: skip
        return data

    def abs_eta(self, rows: ModuleRows) -> np.ndarray | None:
        """Each row's module |η| under occupancy ``pu200``; None under the others."""
        if self.occupancy != "pu200":
            return None
        p = self.spec()
        return rows_abs_eta(rows, detector_setup(p.geometry), eta_range=p.eta_range, seed=p.seed)

    def rows(self, target: luigi.LocalTarget) -> ModuleRows:
        """The module rows of the trigger-cell file ``target``."""
        return read_trigger_cells(target.path)[0]

    def splits(self, rows: ModuleRows) -> tuple[np.ndarray, ...]:
        """Train / validation / test rows: the one split rule, with the preset's fractions."""
        p = self.spec()
        return split_rows(rows.event, p.split, seed=p.seed)


class TrainingTask(StudyTask):
    """A study task that trains: the device and its CPU threads do not change the result."""

    device = luigi.Parameter(default="auto", significant=False)
    threads = luigi.IntParameter(default=0, significant=False)


class TriggerCellData(StudyTask):
    """Simulated showers at random positions and angles, as module trigger cells (HDF5)."""

    def output(self) -> luigi.LocalTarget:
        return self.study_target("trigger_cells.h5")

    def run(self) -> None:
        make_trigger_dataset(
            self.spec().dataset_config(self.occupancy),
            self.output().path,
            on_batch=lambda done, total: self.report(done / total, f"{done}/{total} events"),
        )


class TrainModuleAE(TrainingTask):
    """One module autoencoder of the grid, trained on the training events' modules."""

    latent_dim = luigi.IntParameter()
    latent_bits = luigi.IntParameter()
    train_seed = luigi.IntParameter(
        default=-1,
        description="seed of the AE's initialisation and data order (-1: the preset's); the "
        "showers and their split stay the preset's",
    )

    def requires(self) -> TriggerCellData:
        return self.data_task()

    @property
    def seed(self) -> int:
        """The training seed: ``train_seed``, or the preset's seed for -1."""
        return self.spec().seed if self.train_seed < 0 else int(self.train_seed)

    def output(self) -> luigi.LocalTarget:
        name = f"latent{self.latent_dim}_bits{self.latent_bits}"
        name = name if self.seed == self.spec().seed else f"{name}_seed{self.seed}"
        return self.study_target("autoencoders", name, "model.pt")

    def run(self) -> None:
        rows = self.rows(self.input())
        train, val, _ = self.splits(rows)
        config = self.spec().training_config(self.latent_dim, self.latent_bits)
        config = replace(config, seed=self.seed)
        checkpoint = Path(self.output().path).with_name("checkpoint.pt")
        model, fit = train_module_autoencoder(
            config, rows.tc[train], rows.tc[val], device=resolve_device(self.device),
            train_conditions=self.conditions(rows.select_rows(train)),
            val_conditions=self.conditions(rows.select_rows(val)),
            checkpoint=checkpoint, finetune_loss=exact_emd_image_loss,
            on_epoch=lambda r: self.report(r.epoch / config.epochs, f"epoch {r.epoch}: val {r.val_loss:.4f}"),
        )  # fmt: skip
        save_module_ae(self.output().path, model, config, fit.history)
        checkpoint.unlink(missing_ok=True)
        checkpoint.with_name(f"finetune_{checkpoint.name}").unlink(missing_ok=True)


class EvaluateCompression(StudyTask):
    """Every algorithm at every e-link setting on the test events: the study table."""

    def requires(self) -> dict[str, Any]:
        grid = {f"ae_{d}_{b}": self.clone(TrainModuleAE, latent_dim=d, latent_bits=b)
                for d, b in self.spec().ae_grid()}  # fmt: skip
        return {"data": self.data_task(), **grid}

    def output(self) -> luigi.LocalTarget:
        return self.study_target("evaluation.json")

    def run(self) -> None:
        p = self.spec()
        rows, meta = read_trigger_cells(self.input()["data"].path)
        _, _, test = self.splits(rows)
        modules = rows.select_rows(test)
        models = {(t.latent_dim, t.latent_bits): load_module_ae(t.output().path)
                  for k, t in self.requires().items() if k.startswith("ae_")}  # fmt: skip
        table = evaluate_all(
            modules, detector_setup(p.geometry), models, elinks=p.elinks,
            thresholds=p.thresholds_mip, lsb=p.tc_lsb_mip, zero_suppress=p.ae_zero_suppress_mip,
            conditions=self.conditions(modules), abs_eta=self.abs_eta(modules),
        )  # fmt: skip
        write_json(self.output().path, {"preset": p.as_dict(), "n_test_events": modules.n_events,
                                        "n_test_modules": modules.n_rows, "tc_lsb_mip": p.tc_lsb_mip,
                                        "dataset": meta.get("config"), "rows": table})  # fmt: skip


REPORT_FILES = ("table.csv", "table.md", "bandwidth.csv", "bandwidth.png", "event_display.png",
                "emd_vs_occupancy.png", "summary.json")  # fmt: skip


class StudyReport(StudyTask):
    """Pareto plots, table, bandwidth, displays and the answers, with ``summary.json``."""

    def requires(self) -> dict[str, luigi.Task]:
        return {"evaluation": self.clone(EvaluateCompression), "data": self.data_task()}

    def output(self) -> dict[str, WholeTarget]:
        targets = {
            f"pareto_{q}": self.study_target("report", f"pareto_{q}.png") for q in QUANTITIES
        }
        if self.occupancy == "pu200":  # the occupancy model's validation figure
            targets["occupancy_pu200.png"] = self.study_target("report", "occupancy_pu200.png")
        return targets | {name: self.study_target("report", name) for name in REPORT_FILES}

    def run(self) -> None:
        p = self.spec()
        evaluation = json.loads(Path(self.input()["evaluation"].path).read_text(encoding="utf-8"))
        table = evaluation["rows"]
        out = {name: target.path for name, target in self.output().items()}
        reference = next(r for r in table if r["algorithm"] == "repeater")
        for q, (label, lower, _) in QUANTITIES.items():
            pareto_plot(table, q, out[f"pareto_{q}"], label=label, lower_is_better=lower,
                        reference=reference.get(q), reference_label=reference_label(reference))  # fmt: skip
        nested = (
            "per_energy",
            "emd_by_occupancy",
            "emd_by_eta",
        )  # lists: in summary.json, not in a CSV cell
        write_csv(out["table.csv"], table, [c for c in table[0] if c not in nested] + ["latent_dim", "latent_bits"])  # fmt: skip
        with atomic_path(out["table.md"]) as tmp:
            tmp.write_text(table_markdown(table), encoding="utf-8")
        rows = self.rows(self.input()["data"])
        tc = np.asarray(rows.tc[:20000], dtype=np.float64)
        entries = standard_entries(
            tc, n_elinks=p.elinks, thresholds=p.thresholds_mip, lsb=p.tc_lsb_mip
        )
        bandwidth = bandwidth_table(entries, n_modules=HGCAL_SI_MODULES)
        write_table_csv(bandwidth, out["bandwidth.csv"])
        bandwidth_plot(bandwidth, out["bandwidth.png"])
        self._event_display(rows, table, out["event_display.png"])
        emd_occupancy_plot(table, out["emd_vs_occupancy.png"], n_elinks=min(p.elinks))
        validation = None
        if self.occupancy == "pu200":
            setup = detector_setup(p.geometry)
            validation, samples = occupancy_validation(
                rows, setup, seed=p.seed, eta_range=p.eta_range
            )
            occupancy_validation_plot(samples, validation, PUBLISHED, out["occupancy_pu200.png"])
        write_json(out["summary.json"], {
            "workflow": "study", "hgcal_ae_version": __version__, "preset": p.as_dict(),
            "occupancy": self.occupancy, "occupancy_validation": validation,
            "n_test_events": evaluation["n_test_events"], "n_test_modules": evaluation["n_test_modules"],
            "smallest_latent_dim": smallest_latent_dim(table, p.resolution_tolerance),
            "smallest_latent_dim_by_shape": smallest_latent_dim_by_shape(table, p.shape_tolerance),
            "ae_versus_baselines": ae_versus_baselines(table),
            "bandwidth": {"modules_in_total_rate": HGCAL_SI_MODULES, "rows": bandwidth},
            "rows": table, "outputs": out,
        })  # fmt: skip

    def _event_display(self, rows: ModuleRows, table: list[dict[str, Any]], path: str) -> None:
        p = self.spec()
        test = rows.select_rows(self.splits(rows)[2])
        shown, event, layer = display_layer(test)
        panels = compression_panels(
            np.asarray(test.tc[shown], dtype=np.float64), table, lsb=p.tc_lsb_mip,
            zero_suppress=p.ae_zero_suppress_mip, conditions=self.conditions(test.select_rows(shown)),
            load_model=lambda d, b: load_module_ae(self.clone(TrainModuleAE, latent_dim=d, latent_bits=b).output().path),
        )  # fmt: skip
        x, y = layer_positions(test.module[shown], detector_setup(p.geometry))
        title = f"{test.true_energy_gev[event]:.0f} GeV {p.particle}, layer {layer}: trigger cells before and after compression"
        trigger_cell_display({k: v.ravel() for k, v in panels.items()}, x, y, path, title=title)
