"""luigi workflow of the shower simulation, its validation and the beam-test ROOT ingest.

::

    SimulateShowers (one per particle × energy) ─► ValidateSimulation
    IngestRoot (beam-test ntuples → the same events format)

    luigi --module hgcal_ae.workflows.simulation ValidateSimulation --energies '[20,100,300]' \\
          --events 500 --local-scheduler

Every task only wires: its parameters name the beam and the detector, its outputs are
whole-checked targets (:meth:`~hgcal_ae.workflows.base.HgcalTask.local_target`) in a folder
named from them, and its run calls :mod:`hgcal_ae.simulation`, :mod:`hgcal_ae.metrics` and
:mod:`hgcal_ae.plots`.
"""

from __future__ import annotations

import abc
import math
from pathlib import Path
from typing import Any

import luigi

from hgcal_ae.atomic import write_json
from hgcal_ae.datasets.events import read_events
from hgcal_ae.detector.setups import GEOMETRIES, detector_setup
from hgcal_ae.errors import ConfigError
from hgcal_ae.metrics.validation import analyse_energy_point, validation_fits
from hgcal_ae.plots.validation_report import (
    VALIDATION_PLOTS,
    validation_event_display,
    validation_figures,
    validation_summary,
)
from hgcal_ae.simulation.digitisation import DEFAULT_NOISE_MIP, DEFAULT_THRESHOLD_MIP
from hgcal_ae.simulation.run import simulate_to_file
from hgcal_ae.simulation.showers import PARTICLES, BeamConfig
from hgcal_ae.workflows.base import HgcalTask
from hgcal_ae.workflows.targets import WholeTarget

__all__ = ["IngestRoot", "SimulateShowers", "ValidateSimulation"]

NOMINAL_ENERGIES = [20, 30, 50, 80, 100, 120, 150, 200, 250, 300]  # 2018 beam energies [MB]


class RunFolderTask(HgcalTask):
    """A task whose outputs live in one folder below ``output_dir``, named by :attr:`run_parts`."""

    @property
    @abc.abstractmethod
    def run_parts(self) -> tuple[str, ...]:
        """The folder's path below ``output_dir``, one name per level."""

    @property
    def run_dir(self) -> Path:
        return self.root.joinpath(*self.run_parts)

    def run_target(self, name: str) -> WholeTarget:
        """The whole-checked output ``name`` in the run folder."""
        return self.local_target(*self.run_parts, name)


class EventsTask(RunFolderTask):
    """A task whose product is an events file with its summary."""

    def output(self) -> dict[str, WholeTarget]:
        return {"events": self.run_target("events.h5"), "summary": self.run_target("summary.json")}


class SimulationParameters(HgcalTask):
    """What decides a simulated data set (besides its energy)."""

    particle = luigi.ChoiceParameter(choices=list(PARTICLES), default="e+")
    events = luigi.IntParameter(default=1000, description="showers per energy")
    geometry = luigi.ChoiceParameter(choices=list(GEOMETRIES), default="tb2018")
    seed = luigi.IntParameter(default=0)
    cuw = luigi.ChoiceParameter(choices=["analysis", "W75Cu25", "as_coded"], default="analysis")
    noise_mip = luigi.FloatParameter(default=DEFAULT_NOISE_MIP)
    threshold_mip = luigi.FloatParameter(default=DEFAULT_THRESHOLD_MIP)
    energy_spread = luigi.FloatParameter(default=0.0, description="relative beam energy spread")
    spot_sigma_cm = luigi.FloatParameter(default=0.0, description="beam spot width [cm]")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.events <= 0:
            msg = f"events must be a positive integer, got {self.events}"
            raise ConfigError(msg)

    def variant(self) -> str:
        """Name suffix for non-default settings, so different data never share a folder."""
        parts = []
        if self.cuw != "analysis":
            parts.append(f"cuw-{self.cuw}")
        if not math.isclose(self.noise_mip, DEFAULT_NOISE_MIP):
            parts.append(f"noise{self.noise_mip:g}")
        if self.threshold_mip != DEFAULT_THRESHOLD_MIP:
            parts.append(f"thr{self.threshold_mip:g}")
        if self.energy_spread:
            parts.append(f"spread{self.energy_spread:g}")
        if self.spot_sigma_cm:
            parts.append(f"spot{self.spot_sigma_cm:g}cm")
        return "".join(f"_{p}" for p in parts)

    def shared(self) -> dict[str, Any]:
        """The values of the parameters that decide the data (with ``output_dir``)."""
        return {name: getattr(self, name) for name in SimulationParameters.get_param_names()}


class SimulateShowers(SimulationParameters, EventsTask):
    """Simulate ``events`` showers at one energy into ``events.h5`` (streamed, atomic)."""

    energy = luigi.FloatParameter(description="beam energy [GeV]")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.beam()  # validates particle, energy and beam shape now, not in run()

    def beam(self) -> BeamConfig:
        return BeamConfig(
            particle=self.particle,
            energy_gev=self.energy,
            energy_spread=self.energy_spread,
            spot_sigma_cm=self.spot_sigma_cm,
        )

    @property
    def run_parts(self) -> tuple[str, ...]:
        name = f"{self.particle}_{self.energy:g}GeV_n{self.events}_seed{self.seed}{self.variant()}"
        return ("simulation", self.geometry, name)

    def run(self) -> None:
        out = self.output()
        summary = simulate_to_file(
            out["events"].path,
            self.beam(),
            self.events,
            geometry=self.geometry,
            seed=self.seed,
            cuw=self.cuw,
            noise_mip=self.noise_mip,
            threshold_mip=self.threshold_mip,
            on_batch=lambda done, total: self.report(done / total, f"{done}/{total} showers"),
        )
        summary["outputs"] = {"events": out["events"].path, "summary": out["summary"].path}
        write_json(out["summary"].path, {"workflow": "simulate", **summary})


class ValidateSimulation(SimulationParameters, RunFolderTask):
    """Resolution, linearity, profiles, shower maximum, containment, multiplicity, displays."""

    energies = luigi.ListParameter(default=tuple(NOMINAL_ENERGIES))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if len(set(self.energies)) < 3:
            msg = f"validation needs at least 3 different energies, got {list(self.energies)}"
            raise ConfigError(msg)

    def requires(self) -> dict[float, SimulateShowers]:
        return {float(e): self.clone(SimulateShowers, energy=float(e)) for e in self.energies}

    @property
    def run_parts(self) -> tuple[str, ...]:
        name = f"{self.particle}_n{self.events}_seed{self.seed}{self.variant()}"
        return ("validation", self.geometry, name)

    def display_energies(self) -> tuple[float, float]:
        """The energies whose first event is drawn: the lowest and the highest."""
        return float(min(self.energies)), float(max(self.energies))

    def output(self) -> dict[str, WholeTarget]:
        targets = {p: self.run_target(f"{p}.png") for p in VALIDATION_PLOTS}
        for e in self.display_energies():
            targets[f"display_{e:g}"] = self.run_target(f"event_display_{e:g}GeV.png")
        targets["summary"] = self.run_target("summary.json")
        return targets

    def run(self) -> None:
        setup = detector_setup(self.geometry, cuw=self.cuw)
        inputs = self.input()
        out = {name: target.path for name, target in self.output().items()}
        points = []
        for i, energy in enumerate(sorted(inputs)):
            batch, _ = read_events(inputs[energy]["events"].path)
            points.append(analyse_energy_point(batch, setup.stack, energy))
            if energy in self.display_energies():
                validation_event_display(setup, batch.select([0]), out[f"display_{energy:g}"],
                                         particle=self.particle, energy_gev=energy)  # fmt: skip
            self.report((i + 1) / (len(inputs) + 1), f"analysed {energy:g} GeV")
        result = validation_fits(points)
        validation_figures(result, setup.stack.x0_cumulative, out)
        write_json(out["summary"], validation_summary(
            result, setup, parameters={**self.shared(), "energies": list(self.energies)},
            inputs={f"{e:g}": t["events"].path for e, t in inputs.items()}, outputs=out,
        ))  # fmt: skip


class IngestRoot(EventsTask):
    """Convert beam-test ROOT ntuples (tree ``rechitntupler/hits``) into the events format."""

    source = luigi.Parameter(description="ROOT file or folder of *.root files ($ROOT_SOURCE)")
    name = luigi.Parameter(default="", description="output name (default: the source's name)")

    @property
    def run_parts(self) -> tuple[str, ...]:
        return ("beamtest", str(self.name or Path(str(self.source)).stem))

    def run(self) -> None:
        from hgcal_ae.datasets.root_ingest import ingest_root

        out = self.output()
        summary = ingest_root(self.source, Path(out["events"].path))
        write_json(
            out["summary"].path,
            {"workflow": "ingest-root", **summary, "outputs": {k: t.path for k, t in out.items()}},
        )
