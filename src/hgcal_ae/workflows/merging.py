"""luigi workflow of the merging study (``hgcal-ae merging``): how to merge cells and modules.

::

    TriggerCellData (the study's showers) ─► NeighbourMerging ─┐
    TcGrouping (hd8 showers) ──────────────────────────────────┴─► MergingReport

* :class:`TcGrouping`: cells against 2 x 2- and 3 x 3-cell trigger cells on the same showers
  (:mod:`hgcal_ae.study.grouping`).
* :class:`NeighbourMerging`: each module compressed alone against an encoder that also sees its
  neighbours' border TCs, with a shuffled-border control (:mod:`hgcal_ae.study.neighbours`),
  on the showers of ``hgcal-ae study`` with the same preset (made once, shared).
* :class:`MergingReport`: both figures, the tables (CSV and Markdown) and ``summary.json``.

::

    luigi --module hgcal_ae.workflows.merging MergingReport --preset smoke --local-scheduler
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import luigi

from hgcal_ae import __version__
from hgcal_ae.atomic import atomic_path, write_csv, write_json
from hgcal_ae.detector.setups import detector_setup
from hgcal_ae.models.device import resolve_device
from hgcal_ae.plots.grouping import grouping_plot
from hgcal_ae.plots.neighbours import neighbour_plot
from hgcal_ae.study.grouping import GroupingConfig, grouping_study
from hgcal_ae.study.neighbours import neighbour_study
from hgcal_ae.trigger.dataset import read_trigger_dataset
from hgcal_ae.workflows.study import StudyTask, TriggerCellData

__all__ = ["MergingReport", "NeighbourMerging", "TcGrouping"]


class MergingTask(StudyTask):
    @property
    def merging_dir(self) -> Path:
        return self.root / "merging" / self.run_name


class TcGrouping(MergingTask):
    """Cells, 2 x 2 and 3 x 3 TCs of the same simulated hd8 showers: resolutions, widths, bits.

    Always signal occupancy: a cell-level measure of the grouping, whatever ``occupancy`` says.
    """

    def output(self) -> luigi.LocalTarget:
        return luigi.LocalTarget(str(self.merging_dir / "grouping.json"))

    def run(self) -> None:
        p = self.spec()
        config = GroupingConfig(
            energies_gev=p.energies_gev, events_per_energy=p.grouping_events_per_energy, seed=p.seed
        )
        result = grouping_study(
            config, on_batch=lambda done, total: self.report(done / total, f"{done}/{total} events")
        )
        write_json(self.output().path, result.to_json())


class NeighbourMerging(MergingTask):
    """Module AE alone vs with its neighbours' border TCs (and a shuffled control), same code size."""

    device = luigi.Parameter(default="auto", significant=False)

    def requires(self) -> TriggerCellData:
        return self.clone(TriggerCellData)

    def output(self) -> luigi.LocalTarget:
        return luigi.LocalTarget(str(self.merging_dir / "neighbours.json"))

    def run(self) -> None:
        p = self.spec()
        data, _ = read_trigger_dataset(self.input().path)
        latent_dim, latent_bits = p.merging_latent
        epochs = p.epochs
        result = neighbour_study(
            data, detector_setup(p.geometry), latent_dim=latent_dim, latent_bits=latent_bits,
            epochs=epochs, seed=p.seed, loss=p.loss, decoder_head=p.decoder_head,
            batch_size=p.batch_size, learning_rate=p.learning_rate,
            zero_suppress=p.ae_zero_suppress_mip, device=resolve_device(self.device),
            checkpoint_dir=self.merging_dir / "checkpoints",
            on_epoch=lambda name, r: self.report(r.epoch / epochs, f"{name}: epoch {r.epoch}, val {r.val_loss:.4f}"),
        )  # fmt: skip
        write_json(self.output().path, result.summary)


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float) and value.is_integer() and abs(value) >= 10:  # counts
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _markdown(rows: list[dict[str, Any]], columns: dict[str, str]) -> str:
    lines = ["| " + " | ".join(columns.values()) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_fmt(r.get(k)) for k in columns) + " |" for r in rows]
    return "\n".join(lines) + "\n"


GROUPING_COLUMNS = {
    "granularity": "granularity",
    "units_per_module": "units/module",
    "event_resolution_mm": "event barycentre σ [mm]",
    "shower_max_resolution_mm": "shower-max σ [mm]",
    "event_shift_mm": "shift from cells [mm]",
    "shower_max_width_ratio": "width ÷ cells",
    "hottest_fraction": "hottest unit / module E",
    "occupancy_per_module": "units ≥ 0.5 MIP",
    "bits_per_module": "bits/BX (7 bits each)",
    "elinks_per_module": "e-links",
}
NEIGHBOUR_COLUMNS = {
    "model": "model",
    "showers": "showers",
    "n_modules": "modules",
    "emd_mean_cm": "mean EMD [cm]",
    "centroid_shift_mean_cm": "centroid shift [cm]",
    "layer_barycentre_shift_mean_mm": "layer barycentre shift [mm]",
    "event_barycentre_shift_mean_mm": "event barycentre shift [mm]",
}


class MergingReport(MergingTask):
    """Figures, tables and ``summary.json`` of the grouping and neighbour studies."""

    def requires(self) -> dict[str, luigi.Task]:
        return {"grouping": self.clone(TcGrouping), "neighbours": self.clone(NeighbourMerging)}

    def output(self) -> dict[str, luigi.LocalTarget]:
        d = self.merging_dir / "report"
        names = ("grouping.png", "grouping.csv", "neighbours.png", "neighbours.csv", "table.md",
                 "summary.json")  # fmt: skip
        return {name: luigi.LocalTarget(str(d / name)) for name in names}

    def run(self) -> None:
        grouping = json.loads(Path(self.input()["grouping"].path).read_text(encoding="utf-8"))
        neighbours = json.loads(Path(self.input()["neighbours"].path).read_text(encoding="utf-8"))
        out = self.output()
        grouping_plot(grouping["summary"], grouping["per_layer"], out["grouping.png"].path,
                      title="hd8 showers: cells vs 2x2 vs 3x3 trigger cells")  # fmt: skip
        neighbour_plot(neighbours, out["neighbours.png"].path)
        write_csv(out["grouping.csv"].path, grouping["summary"])
        write_csv(out["neighbours.csv"].path, neighbours["rows"])
        text = (
            "# Merging study\n\n## Trigger-cell grouping (hd8, same showers)\n\n"
            + _markdown(grouping["summary"], GROUPING_COLUMNS)
            + "\n## Module alone vs module plus neighbours' border TCs\n\n"
            + _markdown(neighbours["rows"], NEIGHBOUR_COLUMNS)
        )
        with atomic_path(out["table.md"].path) as tmp:
            tmp.write_text(text, encoding="utf-8")
        write_json(out["summary.json"].path, {
            "workflow": "merging", "hgcal_ae_version": __version__, "preset": self.spec().as_dict(),
            "grouping": grouping, "neighbours": neighbours, "answers": answers(grouping, neighbours),
            "outputs": {k: t.path for k, t in out.items()},
        })  # fmt: skip


def answers(grouping: dict[str, Any], neighbours: dict[str, Any]) -> dict[str, Any]:
    """The two questions in numbers: what 3 x 3 grouping costs, what the border TCs buy."""
    by_name = {r["granularity"]: r for r in grouping["summary"]}
    cells, two, three = by_name["cells"], by_name["tc2x2"], by_name["tc3x3"]
    comparison = neighbours.get("comparison", {})
    return {
        "grouping": {
            "event_resolution_mm": {k: r["event_resolution_mm"] for k, r in by_name.items()},
            "resolution_3x3_over_2x2": _ratio(
                three["event_resolution_mm"], two["event_resolution_mm"]
            ),
            "resolution_2x2_over_cells": _ratio(
                two["event_resolution_mm"], cells["event_resolution_mm"]
            ),
            "bits_2x2_over_3x3": _ratio(two["bits_per_module"], three["bits_per_module"]),
        },
        "neighbours": comparison,
        "split_statistics": neighbours.get("split_statistics", {}).get("all"),
    }


def _ratio(a: Any, b: Any) -> float | None:
    if a is None or b is None or not b:
        return None
    return float(a) / float(b)
