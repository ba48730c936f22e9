"""luigi workflow of the autoencoder on beam-test showers (issue 12).

::

    SimulateShowers (tb2018, one per energy) ─┐
    IngestRoot (--root)  ─────────────────────┼─► TrainBeamtestAE (family × latent dim) ─► BeamtestStudy
    BeamtestEventsFile (--events-file) ───────┘   (+ bits scan, + AEs on clustered cells)

    luigi --module hgcal_ae.workflows.beamtest BeamtestStudy --energies '[20,50,100,300]' \\
          --events 500 --local-scheduler

Outputs go to ``output_dir/beamtest/<source>/ae/``: one folder per autoencoder (``model.pt``,
``quality.json``, the per-epoch ``checkpoint.pt``) and the study's ``summary.json`` and
figures.  Besides the latent scan the study trains the bits scan (each family at
``bits_scan_dims`` with ``bits_scan`` bits per latent value) and, when asked, autoencoders on
clustered cells (``group_ae_sizes`` at ``group_ae_dims``); it sends the test events as cluster
sums of ``group_sizes`` cells directly (no training: a few seconds each) and draws bits
against quality with the Pareto fronts (:mod:`hgcal_ae.study.beamtest_bits`).  ``<source>`` names the events: ``sim_e+_n500_seed0`` for simulated ones, the name
of the ingest (``IngestRoot`` writes ``beamtest/<name>/events.h5``) or of the events file.
The tasks only wire: the work is :mod:`hgcal_ae.study.beamtest`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import luigi
import numpy as np

from hgcal_ae.atomic import write_json
from hgcal_ae.detector.sensor_groups import cell_groups
from hgcal_ae.errors import ConfigError, DataError
from hgcal_ae.models.beamtest_ae import FAMILIES, decode_cells, load_beamtest_ae, save_beamtest_ae
from hgcal_ae.plots.beamtest import beamtest_event_display, beamtest_pareto, beamtest_profiles
from hgcal_ae.plots.beamtest_bits import beamtest_bits_pareto, beamtest_grouping
from hgcal_ae.study.beamtest import (
    DEFAULT_LATENT_DIMS,
    BeamtestStudyConfig,
    beamtest_summary,
    load_events,
    train_and_evaluate,
)
from hgcal_ae.study.beamtest_bits import (
    DEFAULT_GROUP_SIZES,
    bits_points,
    bits_summary,
    direct_entry,
    grouping_summary,
)
from hgcal_ae.workflows.base import HgcalTask
from hgcal_ae.workflows.simulation import IngestRoot, RunFolderTask, SimulateShowers
from hgcal_ae.workflows.targets import WholeTarget

__all__ = ["DEFAULT_ENERGIES", "BeamtestEventsFile", "BeamtestStudy", "TrainBeamtestAE"]

DEFAULT_ENERGIES = (20.0, 50.0, 100.0, 300.0)
DEFAULT_BITS_SCAN = (4,)  # bits per latent value retrained beside the latent scan's
DEFAULT_BITS_SCAN_DIMS = (16,)
DEFAULT_GROUP_AE_SIZES: tuple[int, ...] = ()  # autoencoders on clustered cells: on request


class BeamtestEventsFile(luigi.ExternalTask):
    """An events file given by the user (its wholeness is its existence)."""

    path = luigi.Parameter()

    def output(self) -> WholeTarget:
        return WholeTarget(str(self.path))


class BeamtestParameters(HgcalTask):
    """Which events, and how every autoencoder of the study is trained and judged."""

    energies = luigi.ListParameter(default=DEFAULT_ENERGIES, description="simulated energies [GeV]")
    events = luigi.IntParameter(default=500, description="simulated showers per energy")
    seed = luigi.IntParameter(default=0)
    events_file = luigi.Parameter(default="", description="an events file instead of simulation")
    root_file = luigi.Parameter(default="", description="a beam-test ROOT file, ingested first")
    name = luigi.Parameter(default="", description="source name (default: the file's name)")
    latent_bits = luigi.IntParameter(default=8)
    epochs_per_layer = luigi.IntParameter(default=4)
    epochs_per_shower = luigi.IntParameter(default=15)
    decoded_threshold_mip = luigi.FloatParameter(default=0.0)
    emd_events = luigi.IntParameter(default=20, description="test events per energy with cell EMD")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.events_file and self.root_file:
            msg = "give either an events file or a ROOT file, not both"
            raise ConfigError(msg)
        if self.events <= 0:
            msg = f"events must be a positive integer, got {self.events}"
            raise ConfigError(msg)

    def source(self) -> str:
        """The name of the events' folder below ``beamtest/``."""
        if self.root_file:
            return str(self.name or Path(str(self.root_file)).stem)
        if self.events_file:
            return str(self.name or Path(str(self.events_file)).stem)
        return f"sim_e+_n{self.events}_seed{self.seed}"

    def source_description(self) -> dict[str, Any]:
        if self.root_file:
            return {"kind": "root", "root": str(self.root_file), "name": self.source()}
        if self.events_file:
            return {"kind": "events-file", "events_file": str(self.events_file)}
        return {"kind": "simulation", "geometry": "tb2018", "particle": "e+",
                "energies_gev": [float(e) for e in self.energies], "events_per_energy": self.events,
                "seed": self.seed}  # fmt: skip

    def events_tasks(self) -> list[luigi.Task]:
        """The tasks whose ``events`` output (or the output itself) holds the events."""
        if self.root_file:
            return [
                IngestRoot(
                    output_dir=self.output_dir, source=str(self.root_file), name=self.source()
                )
            ]
        if self.events_file:
            return [BeamtestEventsFile(path=str(self.events_file))]
        return [
            SimulateShowers(
                output_dir=self.output_dir,
                particle="e+",
                events=self.events,
                geometry="tb2018",
                seed=self.seed,
                energy=float(e),
            )
            for e in self.energies
        ]

    def events_paths(self) -> list[str]:
        paths = []
        for task in self.events_tasks():
            out = task.output()
            paths.append(out.path if isinstance(out, WholeTarget) else out["events"].path)
        return paths

    def study_config(
        self, families: Any = FAMILIES, latent_dims: Any = (2,)
    ) -> BeamtestStudyConfig:
        return BeamtestStudyConfig(
            families=tuple(str(f) for f in families),
            latent_dims=tuple(int(d) for d in latent_dims),
            latent_bits=int(self.latent_bits),
            epochs={
                "per_layer": int(self.epochs_per_layer),
                "per_shower": int(self.epochs_per_shower),
            },
            seed=int(self.seed),
            decoded_threshold_mip=float(self.decoded_threshold_mip),
            emd_events=int(self.emd_events),
        )

    def variant(self) -> str:
        """Name suffix for non-default judgement settings."""
        parts = []
        if self.decoded_threshold_mip:
            parts.append(f"_thr{self.decoded_threshold_mip:g}")
        if self.emd_events != 20:
            parts.append(f"_emd{self.emd_events}")
        return "".join(parts)


class TrainBeamtestAE(BeamtestParameters, RunFolderTask):
    """Train one autoencoder (checkpoint per epoch, resumed) and judge it on the test events."""

    family = luigi.ChoiceParameter(choices=list(FAMILIES))
    latent_dim = luigi.IntParameter()
    group_size = luigi.IntParameter(default=1, description="cells summed per cluster (1, 2, 3, 7)")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.study_config([self.family], [self.latent_dim])  # latent dim in range, now
        cell_groups(int(self.group_size))  # a known cluster size, now

    def requires(self) -> list[luigi.Task]:
        return self.events_tasks()

    @property
    def run_parts(self) -> tuple[str, ...]:
        config = self.study_config([self.family], [self.latent_dim]).model_config(
            self.family, self.latent_dim
        )
        name = (
            f"{self.family}_latent{self.latent_dim}x{self.latent_bits}b"
            f"_e{config.epochs}_seed{self.seed}{self.variant()}"
            + (f"_g{self.group_size}" if self.group_size != 1 else "")
        )
        return ("beamtest", self.source(), "ae", name)

    def output(self) -> dict[str, WholeTarget]:
        return {"model": self.run_target("model.pt"), "quality": self.run_target("quality.json")}

    def run(self) -> None:
        data = load_events(self.events_paths())
        config = self.study_config([self.family], [self.latent_dim])
        epochs = config.model_config(self.family, self.latent_dim).epochs
        training, entry = train_and_evaluate(
            data, config, self.family, self.latent_dim, checkpoint=self.run_dir / "checkpoint.pt",
            on_epoch=lambda r: self.report(r.epoch / (epochs + 1), f"epoch {r.epoch}/{epochs}"),
            group_size=int(self.group_size),
        )  # fmt: skip
        out = self.output()
        save_beamtest_ae(out["model"].path, training)
        write_json(out["quality"].path, entry)


class BeamtestStudy(BeamtestParameters, RunFolderTask):
    """Every family at every latent dim, the bits scan, cluster sums; ``summary.json``, figures."""

    latent_dims = luigi.ListParameter(default=DEFAULT_LATENT_DIMS)
    families = luigi.ListParameter(default=FAMILIES)
    bits_scan = luigi.ListParameter(default=DEFAULT_BITS_SCAN, description="latent bits retrained")
    bits_scan_dims = luigi.ListParameter(default=DEFAULT_BITS_SCAN_DIMS)
    group_sizes = luigi.ListParameter(default=DEFAULT_GROUP_SIZES, description="sent directly")
    group_ae_sizes = luigi.ListParameter(
        default=DEFAULT_GROUP_AE_SIZES, description="AEs on clustered cells"
    )
    group_ae_dims = luigi.ListParameter(default=DEFAULT_BITS_SCAN_DIMS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.study_config(self.families, self.latent_dims)  # every dim fits every family
        bits_config = self.study_config(self.families, self.bits_scan_dims or (2,))
        for bits in self.bits_scan:  # every bits value fits every family's code
            dataclasses.replace(bits_config, latent_bits=int(bits))
        self.study_config(self.families, self.group_ae_dims or (2,))
        for size in (*self.group_sizes, *self.group_ae_sizes):
            cell_groups(int(size))  # a known cluster size

    def requires(self) -> dict[str, luigi.Task]:
        tasks = {
            f"{family}_{dim}": self.clone(TrainBeamtestAE, family=family, latent_dim=int(dim))
            for family in self.families
            for dim in self.latent_dims
        }
        for family in self.families:
            for dim in self.bits_scan_dims:
                for bits in self.bits_scan:
                    if int(bits) != self.latent_bits or int(dim) not in self.latent_dims:
                        tasks[f"{family}_{dim}_{bits}b"] = self.clone(
                            TrainBeamtestAE, family=family, latent_dim=int(dim),
                            latent_bits=int(bits),
                        )  # fmt: skip
            for dim in self.group_ae_dims:
                for size in self.group_ae_sizes:
                    if int(size) != 1:
                        tasks[f"{family}_{dim}_g{size}"] = self.clone(
                            TrainBeamtestAE, family=family, latent_dim=int(dim),
                            group_size=int(size),
                        )  # fmt: skip
        return tasks

    def scan_keys(self) -> set[str]:
        """Keys of :meth:`requires` that form the latent scan (the answers' models)."""
        return {f"{family}_{dim}" for family in self.families for dim in self.latent_dims}

    @property
    def run_parts(self) -> tuple[str, ...]:
        return ("beamtest", self.source(), "ae")

    def output(self) -> dict[str, WholeTarget]:
        names = ["summary.json", "pareto.png", "bits_pareto.png", "grouping.png"]
        for family in self.families:
            names += [f"profiles_{family}.png", f"event_display_{family}.png"]
        return {name.rsplit(".", 1)[0]: self.run_target(name) for name in names}

    def run(self) -> None:
        import json

        config = self.study_config(self.families, self.latent_dims)
        data = load_events(self.events_paths())
        inputs = self.input()
        entries = []
        for key, target in inputs.items():
            try:
                entry = json.loads(Path(target["quality"].path).read_text())
            except (OSError, ValueError) as exc:
                msg = f"cannot read {target['quality'].path!r} ({exc}); rerun the command"
                raise DataError(msg) from exc
            entries.append({**entry, "model": target["model"].path, "key": key})
        out = {name: target.path for name, target in self.output().items()}
        scan = [e for e in entries if e["key"] in self.scan_keys()]
        direct = [
            {**direct_entry(data, config, int(size)), "key": f"direct_{size}"}
            for size in self.group_sizes
        ]
        points = bits_points([*entries, *direct])
        summary = beamtest_summary(
            scan, data, config, source=self.source_description(), outputs=out
        )
        summary["bits"] = bits_summary(points, self.bits_scan, self.bits_scan_dims)
        summary["grouping"] = grouping_summary(
            points, self.group_sizes, sum(e["seconds"] for e in direct)
        )
        summary["config"] |= {
            "bits_scan": [int(b) for b in self.bits_scan],
            "bits_scan_dims": [int(d) for d in self.bits_scan_dims],
            "group_sizes": [int(k) for k in self.group_sizes],
            "group_ae_sizes": [int(k) for k in self.group_ae_sizes],
            "group_ae_dims": [int(d) for d in self.group_ae_dims],
        }
        summary["extra_models"] = [e for e in entries if e["key"] not in self.scan_keys()]
        _, _, test = data.split(config)
        top = test[np.argmax(data.batch.true_energy_gev[test])]  # a shower of the top energy
        for family in self.families:
            answer = summary["answers"][family]["smallest_latent_dim"]
            shown = [e for e in scan if e["family"] == family]
            entry = next((e for e in shown if e["latent_dim"] == answer), None) or max(
                shown, key=lambda e: e["latent_dim"]
            )
            beamtest_profiles(out[f"profiles_{family}"], entry)
            decoded = decode_cells(load_beamtest_ae(entry["model"]), data.cells[[top]])
            energy = float(data.batch.true_energy_gev[top])
            beamtest_event_display(
                out[f"event_display_{family}"], data.cells[top], decoded[0],
                title=f"{energy:g} GeV shower (test event), {entry['label']}",
            )  # fmt: skip
        beamtest_pareto(out["pareto"], scan)
        beamtest_bits_pareto(out["bits_pareto"], summary["bits"])
        beamtest_grouping(out["grouping"], summary["bits"], summary["grouping"])
        write_json(out["summary"], summary)
