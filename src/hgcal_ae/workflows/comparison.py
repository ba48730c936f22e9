"""luigi workflow of ``hgcal-ae compare``: AE variants over training seeds, beside the baselines.

::

    TriggerCellData (the study's) ─► TrainModuleAE (variant × seed × code) ─► ComparisonReport

The study's showers, split and test modules; each variant (:data:`~hgcal_ae.study.comparison.VARIANTS`:
the loss, the conditional decoder, 6-bit weights) trains the codes that serve the e-link
settings (16x3 at 2, 16x5 at 3-4, 16x9 at 5 by default) once per training seed.  The seed of
the preset is the study's own AE (the same model file); the others sit beside it
(``latent16_bits3_seed1``).  The report holds every baseline, each variant's mean and spread
over seeds, the EMD per occupancy and |η| bin, the cluster resolutions against the all-TC
reference and the goals.

::

    luigi --module hgcal_ae.workflows.comparison ComparisonReport --preset default \\
        --occupancy pu200 --variants '["telescope", "emd"]' --seeds '[0, 1, 2]' --local-scheduler
"""

from __future__ import annotations

from typing import Any

import luigi
import numpy as np

from hgcal_ae import __version__
from hgcal_ae.atomic import atomic_path, write_csv, write_json
from hgcal_ae.detector.setups import detector_setup
from hgcal_ae.models.module_training import autoencoder_output, load_module_ae
from hgcal_ae.plots.comparison import cluster_resolution_plot, comparison_binned_plot
from hgcal_ae.study.comparison import (
    DEFAULT_LATENTS,
    VARIANTS,
    aggregate_seeds,
    check_variants,
    comparison_goals,
    comparison_markdown,
    elink_latents,
)
from hgcal_ae.study.evaluate import algorithm_outputs, evaluate_output, reference_output
from hgcal_ae.trigger.baselines import best_choice
from hgcal_ae.trigger.formats import DROPPED_LSBS
from hgcal_ae.workflows.study import TrainingTask, TrainModuleAE
from hgcal_ae.workflows.targets import WholeTarget

__all__ = ["ComparisonReport"]

REPORT_FILES = ("comparison.csv", "comparison.md", "emd_vs_occupancy.png", "cluster_resolution.png",
                "summary.json")  # fmt: skip


class ComparisonReport(TrainingTask):
    """Every baseline and each AE variant over training seeds on the study's test modules."""

    variants = luigi.TupleParameter(default=("telescope", "emd"), description="AE variants")
    seeds = luigi.TupleParameter(default=(0, 1, 2), description="training seeds")
    latents = luigi.TupleParameter(
        default=DEFAULT_LATENTS, description="(latent dim, bits) codes; each e-link setting gets the largest that fits"
    )  # fmt: skip

    def plan(self) -> dict[int, tuple[int, int]]:
        """The code of each e-link setting (checks the variants first)."""
        check_variants(self.variants, self.occupancy)
        codes = [(int(d), int(b)) for d, b in self.latents]
        return elink_latents(codes, self.spec().elinks)

    def trainings(self) -> dict[str, TrainModuleAE]:
        """``<variant>/<dim>x<bits>/seed<s>`` -> its training task."""
        out = {}
        for variant in self.variants:
            for d, b in sorted(set(self.plan().values())):
                for s in self.seeds:
                    out[f"{variant}/{d}x{b}/seed{int(s)}"] = self.clone(
                        TrainModuleAE, latent_dim=d, latent_bits=b, train_seed=int(s),
                        **VARIANTS[variant],
                    )  # fmt: skip
        return out

    def requires(self) -> dict[str, luigi.Task]:
        return {"data": self.data_task(), **self.trainings()}

    def output(self) -> dict[str, WholeTarget]:
        codes = "-".join(f"{int(d)}x{int(b)}" for d, b in self.latents)
        name = (f"{'-'.join(self.variants)}_seeds{'-'.join(str(int(s)) for s in self.seeds)}"
                f"_{codes}")  # fmt: skip
        files = REPORT_FILES + (("emd_vs_eta.png",) if self.occupancy == "pu200" else ())
        return {f: self.local_target("comparison", self.run_name, self.config_id, name, f)
                for f in files}  # fmt: skip

    def run(self) -> None:
        p = self.spec()
        setup = detector_setup(p.geometry)
        rows = self.rows(self.input()["data"])
        modules = rows.select_rows(self.splits(rows)[2])
        tc = np.asarray(modules.tc, dtype=np.float64)
        modules = modules.with_tc(tc)
        eta = self.abs_eta(modules)
        drop = DROPPED_LSBS.get(setup.lattice.name, 0)
        plan = self.plan()

        def evaluate(output: Any) -> dict[str, Any]:
            return evaluate_output(output, modules, setup, abs_eta=eta)

        reference = evaluate(reference_output(tc, p.tc_lsb_mip))
        baselines = []
        for n in plan:
            for output, _ in algorithm_outputs(tc, n, models={}, thresholds=p.thresholds_mip,
                                               lsb=p.tc_lsb_mip, dropped_lsbs=drop):  # fmt: skip
                baselines.append({**evaluate(output), "table": "emu"} if output.name == "best_choice"
                                 else evaluate(output))  # fmt: skip
            if n == 2:  # CMSSW's table: 3 TCs at 2 e-links
                cmssw = best_choice(tc, n, table="cmssw", lsb=p.tc_lsb_mip, dropped_lsbs=drop)
                baselines.append({**evaluate(cmssw), "table": "cmssw"})
        ae_rows = []
        trainings = self.trainings()
        for key, task in trainings.items():
            variant, _, seed = key.split("/")
            model = load_module_ae(self.input()[key].path)
            conditions = task.conditions(modules) if VARIANTS[variant]["conditional"] else None
            served = [n for n, code in plan.items() if code == (task.latent_dim, task.latent_bits)]
            output = autoencoder_output(model, tc, served[0], lsb=p.tc_lsb_mip,
                                        zero_suppress=p.ae_zero_suppress_mip, conditions=conditions)  # fmt: skip
            row = evaluate(output)
            for n in served:  # the decoded TCs are the same at every setting the code fits
                ae_rows.append({**row, "n_elinks": n, "variant": variant, "seed": int(seed[4:]),
                                "latent_dim": task.latent_dim, "latent_bits": task.latent_bits})  # fmt: skip
        aggregated = aggregate_seeds(ae_rows)
        goals = comparison_goals(aggregated, baselines)
        out = {name: target.path for name, target in self.output().items()}
        self._write(out, aggregated, baselines, ae_rows, reference, goals, modules.n_rows)

    def _write(
        self, out: dict[str, str], aggregated: list[dict[str, Any]],
        baselines: list[dict[str, Any]], ae_rows: list[dict[str, Any]],
        reference: dict[str, Any], goals: dict[str, Any], n_modules: int,
    ) -> None:  # fmt: skip
        p = self.spec()
        n_min = min(r["n_elinks"] for r in (*aggregated, *baselines))
        what = f"preset {p.name}, occupancy {self.occupancy}, {n_modules:,} test modules"
        comparison_binned_plot(aggregated, baselines, out["emd_vs_occupancy.png"],
                               key="emd_by_occupancy", n_elinks=n_min,
                               title=f"{n_min} e-links; {what}")  # fmt: skip
        if "emd_vs_eta.png" in out:
            comparison_binned_plot(aggregated, baselines, out["emd_vs_eta.png"], key="emd_by_eta",
                                   n_elinks=n_min, title=f"{n_min} e-links; {what}")  # fmt: skip
        cluster_resolution_plot(aggregated, baselines, out["cluster_resolution.png"],
                                n_elinks=n_min, title=f"{p.particle} showers, {n_min} e-links; {what}")  # fmt: skip
        columns = ["n_elinks", "variant", "label", "latent_dim", "latent_bits", "bits",
                   "emd_mean_cm", "emd_high_occupancy_cm", "resolution_ratio_mean",
                   "position_shift_rms_cm"]  # fmt: skip
        table = [{c: r.get(c) for c in columns} for r in baselines]
        for r in aggregated:
            table.append({**{c: r.get(c) for c in columns},
                          "emd_mean_cm_std": r["emd_mean_cm_seeds"]["std"],
                          "emd_high_occupancy_cm_std": r["emd_high_occupancy_cm_seeds"]["std"],
                          "seeds": " ".join(map(str, r["seeds"]))})  # fmt: skip
        write_csv(out["comparison.csv"], table,
                  [*columns, "emd_mean_cm_std", "emd_high_occupancy_cm_std", "seeds"])  # fmt: skip
        with atomic_path(out["comparison.md"]) as tmp:
            tmp.write_text(comparison_markdown(aggregated, baselines), encoding="utf-8")
        flat = [{k: v for k, v in r.items() if k not in ("per_energy",)} for r in ae_rows]
        write_json(out["summary.json"], {
            "workflow": "compare", "hgcal_ae_version": __version__, "preset": p.as_dict(),
            "occupancy": self.occupancy, "variants": list(self.variants),
            "seeds": [int(s) for s in self.seeds],
            "elink_codes": {str(n): list(c) for n, c in self.plan().items()},
            "n_test_modules": n_modules, "reference": reference, "baselines": baselines,
            "autoencoders": aggregated, "per_seed": flat, "goals": goals,
            "cluster": "every TC of the modules the shower reaches (the data set's rows), "
                       "pile-up included; energy: the dE/dx-weighted sum; position: its barycentre",
            "outputs": out,
        })  # fmt: skip
