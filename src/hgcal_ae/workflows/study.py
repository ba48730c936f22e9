"""luigi workflow of the compression study (``hgcal-ae study``).

::

    TriggerCellData ─► TrainModuleAE (latent dim × bits) ─► EvaluateCompression ─► StudyReport

    luigi --module hgcal_ae.workflows.study StudyReport --preset smoke --local-scheduler
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import luigi
import numpy as np
import torch

from hgcal_ae import __version__
from hgcal_ae.atomic import atomic_path, write_csv, write_json
from hgcal_ae.detector.setups import detector_setup
from hgcal_ae.models.device import resolve_device
from hgcal_ae.models.module_ae import ModuleAEConfig, ModuleAutoencoder
from hgcal_ae.models.module_training import (
    ModuleTrainingConfig,
    decode_modules,
    train_module_autoencoder,
)
from hgcal_ae.plots.bandwidth import bandwidth_plot
from hgcal_ae.plots.study import emd_occupancy_plot, pareto_plot, trigger_cell_display
from hgcal_ae.study.evaluate import evaluate_all, test_modules
from hgcal_ae.study.presets import PRESETS, StudyPreset, study_preset
from hgcal_ae.study.report import (
    ae_versus_baselines,
    smallest_latent_dim,
    smallest_latent_dim_by_shape,
    table_markdown,
)
from hgcal_ae.trigger.bandwidth import bandwidth_table, standard_entries, write_table_csv
from hgcal_ae.trigger.baselines import best_choice, super_trigger_cells
from hgcal_ae.trigger.cells import trigger_cell_map
from hgcal_ae.trigger.dataset import (
    TriggerDatasetConfig,
    make_trigger_dataset,
    read_trigger_dataset,
    split_rows,
    tc_lsb_mip,
)
from hgcal_ae.workflows.base import HgcalTask

__all__ = ["OCCUPANCIES", "EvaluateCompression", "StudyReport", "TrainModuleAE", "TriggerCellData"]

# Total data rates are given for the ≈30,000 silicon modules of HGCAL (physics.md §4, arXiv
# 2012.06336); how many of them are CE-E modules with ECON-T links is not in the sources
# (physics.md §5), so no CE-E-only total is claimed.  Per-module rates do not depend on it.
HGCAL_SI_MODULES = 30_000

QUANTITIES = {
    "emd_mean_cm": ("mean EMD [cm]", True, 0.0),
    "resolution_ratio_mean": ("σ_E/E decoded ÷ uncompressed", True, 1.0),
    "position_shift_rms_cm": ("barycentre shift, RMS [cm]", True, 0.0),
    "shower_max_shift_rms_x0": ("shower-max shift, RMS [X0]", True, 0.0),
    "energy_ratio_mean": ("module energy ratio", False, 1.0),
    "width_ratio_mean": ("module width ratio", False, 1.0),
}


OCCUPANCIES = ("signal", "noise", "pileup")


class StudyTask(HgcalTask):
    preset = luigi.ChoiceParameter(choices=list(PRESETS), default="default")
    occupancy = luigi.ChoiceParameter(
        choices=list(OCCUPANCIES), default="signal",
        description="module occupancy of the trigger data (TriggerDatasetConfig.occupancy)",
    )  # fmt: skip

    @property
    def run_name(self) -> str:
        """``<preset>``, or ``<preset>_<occupancy>`` for noise or toy pile-up occupancy."""
        return self.preset if self.occupancy == "signal" else f"{self.preset}_{self.occupancy}"

    @property
    def study_dir(self) -> Path:
        return self.root / "study" / self.run_name

    def spec(self) -> StudyPreset:
        return study_preset(self.preset)

    def complete(self) -> bool:
        """Outputs exist and none is older than an existing input (as ``make`` decides).

        A retrained model (say, after the preset's settings changed) thus makes the evaluation
        and the report that were built from the old one run again.
        """
        if not super().complete():
            return False
        inputs = [Path(t.path) for t in luigi.task.flatten(self.input()) if hasattr(t, "path")]
        outputs = [Path(t.path) for t in luigi.task.flatten(self.output())]
        newest_input = max((p.stat().st_mtime_ns for p in inputs if p.exists()), default=0)
        return min(p.stat().st_mtime_ns for p in outputs) >= newest_input

    def splits(self, data: Any) -> tuple[np.ndarray, ...]:
        """Train / validation / test rows of the trigger data: one rule for every task."""
        p = self.spec()
        return split_rows(data.event, p.split, seed=p.seed)


class TriggerCellData(StudyTask):
    """Simulated showers at random positions and angles, as module trigger cells (HDF5)."""

    def output(self) -> luigi.LocalTarget:
        return luigi.LocalTarget(str(self.study_dir / "trigger_cells.h5"))

    def run(self) -> None:
        p = self.spec()
        config = TriggerDatasetConfig(
            geometry=p.geometry, energies_gev=p.energies_gev, events_per_energy=p.events_per_energy,
            layers=p.layers, seed=p.seed, events_per_group=1, occupancy=self.occupancy,
        )  # fmt: skip
        make_trigger_dataset(
            config,
            self.output().path,
            on_batch=lambda done, total: self.report(done / total, f"{done}/{total} events"),
        )


class TrainModuleAE(StudyTask):
    """One module autoencoder of the grid, trained on the training events' modules."""

    latent_dim = luigi.IntParameter()
    latent_bits = luigi.IntParameter()
    device = luigi.Parameter(default="auto", significant=False)
    threads = luigi.IntParameter(default=0, significant=False)

    def requires(self) -> TriggerCellData:
        return self.clone(TriggerCellData)

    @property
    def run_dir(self) -> Path:
        return self.study_dir / "autoencoders" / f"latent{self.latent_dim}_bits{self.latent_bits}"

    def output(self) -> luigi.LocalTarget:
        return luigi.LocalTarget(str(self.run_dir / "model.pt"))

    def complete(self) -> bool:
        """The model exists, is newer than the data and was trained with today's settings."""
        if not super().complete():
            return False
        try:
            saved = torch.load(self.output().path, map_location="cpu", weights_only=False)["config"]
        except Exception:  # unreadable: train again (the write is atomic, so this is rare)
            return False
        return saved == self.training_config().__dict__

    def training_config(self) -> ModuleTrainingConfig:
        p = self.spec()
        return ModuleTrainingConfig(
            latent_dim=self.latent_dim, latent_bits=self.latent_bits, loss=p.loss, epochs=p.epochs,
            batch_size=p.batch_size, learning_rate=p.learning_rate, seed=p.seed,
            decoder_head=p.decoder_head,
        )  # fmt: skip

    def run(self) -> None:
        data, _ = read_trigger_dataset(self.input().path)
        train, val, _ = self.splits(data)
        config = self.training_config()
        model, fit = train_module_autoencoder(
            config, data.tc[train], data.tc[val], device=resolve_device(self.device),
            checkpoint=self.run_dir / "checkpoint.pt",
            on_epoch=lambda r: self.report(r.epoch / config.epochs, f"epoch {r.epoch}: val {r.val_loss:.4f}"),
        )  # fmt: skip
        with atomic_path(self.output().path) as tmp:
            torch.save({"config": config.__dict__, "state_dict": model.cpu().state_dict(),
                        "history": [r.__dict__ for r in fit.history]}, tmp)  # fmt: skip
        (self.run_dir / "checkpoint.pt").unlink(missing_ok=True)


def load_module_ae(path: str) -> ModuleAutoencoder:
    payload = torch.load(path, map_location="cpu", weights_only=False)
    c = payload["config"]
    model = ModuleAutoencoder(ModuleAEConfig(latent_dim=c["latent_dim"], latent_bits=c["latent_bits"], filters=c["filters"],
                                             quantised_weights=c["quantised_weights"],
                                             # models saved before the head was a choice: sigmoid
                                             decoder_head=c.get("decoder_head", "sigmoid")))  # fmt: skip
    model.load_state_dict(payload["state_dict"])
    return model.eval()


class EvaluateCompression(StudyTask):
    """Every algorithm at every e-link setting on the test events: the study table."""

    def requires(self) -> dict[str, Any]:
        grid = {f"ae_{d}_{b}": self.clone(TrainModuleAE, latent_dim=d, latent_bits=b)
                for d, b in self.spec().ae_grid()}  # fmt: skip
        return {"data": self.clone(TriggerCellData), **grid}

    def output(self) -> luigi.LocalTarget:
        return luigi.LocalTarget(str(self.study_dir / "evaluation.json"))

    def run(self) -> None:
        p = self.spec()
        inputs = self.requires()
        data, meta = read_trigger_dataset(self.input()["data"].path)
        _, _, test = self.splits(data)
        modules = test_modules(data, test)
        models = {(t.latent_dim, t.latent_bits): load_module_ae(t.output().path)
                  for k, t in inputs.items() if k.startswith("ae_")}  # fmt: skip
        setup = detector_setup(p.geometry)
        rows = evaluate_all(
            modules,
            setup,
            models,
            elinks=p.elinks,
            thresholds=p.thresholds_mip,
            lsb=tc_lsb_mip(p.geometry),
            zero_suppress=p.ae_zero_suppress_mip,
        )
        write_json(self.output().path, {"preset": p.as_dict(), "n_test_events": len(modules.true_energy_gev),
                                        "n_test_modules": len(modules.tc), "tc_lsb_mip": tc_lsb_mip(p.geometry),
                                        "dataset": meta.get("config"), "rows": rows})  # fmt: skip


class StudyReport(StudyTask):
    """Pareto plots, table, bandwidth, displays and the answers, with ``summary.json``."""

    def requires(self) -> dict[str, luigi.Task]:
        return {"evaluation": self.clone(EvaluateCompression), "data": self.clone(TriggerCellData)}

    def output(self) -> dict[str, luigi.LocalTarget]:
        d = self.study_dir / "report"
        targets = {f"pareto_{q}": luigi.LocalTarget(str(d / f"pareto_{q}.png")) for q in QUANTITIES}
        for name in (
            "table.csv",
            "table.md",
            "bandwidth.csv",
            "bandwidth.png",
            "event_display.png",
            "emd_vs_occupancy.png",
            "summary.json",
        ):
            targets[name] = luigi.LocalTarget(str(d / name))
        return targets

    def run(self) -> None:
        p = self.spec()
        evaluation = json.loads(Path(self.input()["evaluation"].path).read_text(encoding="utf-8"))
        rows = evaluation["rows"]
        out = self.output()
        reference = next(r for r in rows if r["algorithm"] == "repeater")
        for q, (label, lower, _) in QUANTITIES.items():
            pareto_plot(
                rows,
                q,
                out[f"pareto_{q}"].path,
                label=label,
                lower_is_better=lower,
                reference=reference.get(q),
            )
        nested = ("per_energy", "emd_by_occupancy")  # lists: in summary.json, not in a CSV cell
        columns = [c for c in rows[0] if c not in nested] + ["latent_dim", "latent_bits"]
        write_csv(out["table.csv"].path, rows, columns)
        with atomic_path(out["table.md"].path) as tmp:
            tmp.write_text(table_markdown(rows), encoding="utf-8")
        data, _ = read_trigger_dataset(self.input()["data"].path)
        bw_rows = bandwidth_table(standard_entries(data.tc[:20000].astype(np.float64), n_elinks=p.elinks,
                                                   thresholds=p.thresholds_mip, lsb=tc_lsb_mip(p.geometry)),
                                   n_modules=HGCAL_SI_MODULES)  # fmt: skip
        write_table_csv(bw_rows, out["bandwidth.csv"].path)
        bandwidth_plot(bw_rows, out["bandwidth.png"].path)
        self._event_display(data, rows, out["event_display.png"].path)
        emd_occupancy_plot(rows, out["emd_vs_occupancy.png"].path, n_elinks=min(p.elinks))
        answer = smallest_latent_dim(rows, p.resolution_tolerance)
        comparison = ae_versus_baselines(rows)
        write_json(out["summary.json"].path, {
            "workflow": "study", "hgcal_ae_version": __version__, "preset": p.as_dict(),
            "occupancy": self.occupancy,
            "n_test_events": evaluation["n_test_events"], "n_test_modules": evaluation["n_test_modules"],
            "smallest_latent_dim": answer,
            "smallest_latent_dim_by_shape": smallest_latent_dim_by_shape(rows, p.shape_tolerance),
            "ae_versus_baselines": comparison,
            "bandwidth": {"modules_in_total_rate": HGCAL_SI_MODULES, "rows": bw_rows},
            "rows": rows, "outputs": {k: t.path for k, t in out.items()},
        })  # fmt: skip

    def _event_display(self, data: Any, rows: list[dict[str, Any]], path: str) -> None:
        """The most energetic test event's layer with most energy: input, best AE, BC and STC at 2 e-links."""
        p = self.spec()
        _, _, test = self.splits(data)
        local = data.event_index_of_rows()[test]
        event = local[np.argmax(data.true_energy_gev[local])]
        rows_ev = test[local == event]
        per_layer = np.bincount(data.layer[rows_ev], weights=data.tc[rows_ev].sum(axis=1))
        sel = rows_ev[data.layer[rows_ev] == np.argmax(per_layer)]
        tc = data.tc[sel].astype(np.float64)
        lsb = tc_lsb_mip(p.geometry)
        panels = {"input (uncompressed)": tc}
        aes = [
            r
            for r in rows
            if r["algorithm"] == "autoencoder"
            and r["n_elinks"] == 2
            and r.get("emd_mean_cm") is not None
        ]
        if aes:
            best = min(aes, key=lambda r: r["emd_mean_cm"])
            task = self.clone(
                TrainModuleAE,
                latent_dim=best["latent_dim"],
                latent_bits=best["latent_bits"],
            )
            panels[f"AE {best['latent_dim']}x{best['latent_bits']} bits"] = decode_modules(
                load_module_ae(task.output().path),
                tc,
                lsb=lsb,
                zero_suppress=p.ae_zero_suppress_mip,
            )
        panels["best choice, 2 eTx"] = best_choice(tc, 2, lsb=lsb).reconstructed
        panels["STC4, 2 eTx"] = super_trigger_cells(tc, 2, size=4, lsb=lsb).reconstructed
        setup = detector_setup(p.geometry)
        tcmap = trigger_cell_map(setup.lattice.name)
        module = data.module[sel].astype(np.int64)
        x = (setup.tiling.x_cm[module][:, None] + tcmap.tc_x_cm[None, :]).ravel()
        y = (setup.tiling.y_cm[module][:, None] + tcmap.tc_y_cm[None, :]).ravel()
        layer = int(np.argmax(per_layer))
        title = f"{data.true_energy_gev[event]:.0f} GeV e+, layer {layer}: trigger cells before and after compression"
        trigger_cell_display({k: v.ravel() for k, v in panels.items()}, x, y, path, title=title)
