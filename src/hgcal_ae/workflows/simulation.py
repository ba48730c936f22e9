"""luigi workflow of the shower simulation, its validation and the beam-test ROOT ingest.

::

    SimulateShowers (one per particle × energy) ─► ValidateSimulation
    IngestRoot (beam-test ntuples → the same events format)

    luigi --module hgcal_ae.workflows.simulation ValidateSimulation --energies '[20,100,300]' \\
          --events 500 --local-scheduler
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import luigi

from hgcal_ae import __version__
from hgcal_ae.atomic import write_json
from hgcal_ae.datasets.events import read_events
from hgcal_ae.detector.setups import GEOMETRIES, detector_setup
from hgcal_ae.errors import ConfigError
from hgcal_ae.metrics.validation import analyse_energy_point, validation_fits
from hgcal_ae.plots.event_display import hexagonal_event_display
from hgcal_ae.plots.validation import (
    containment_plot,
    linearity_plot,
    longitudinal_profiles_plot,
    multiplicity_plot,
    resolution_plot,
    shower_max_plot,
)
from hgcal_ae.simulation.digitisation import DEFAULT_NOISE_MIP, DEFAULT_THRESHOLD_MIP
from hgcal_ae.simulation.run import simulate_to_file
from hgcal_ae.simulation.showers import PARTICLES, BeamConfig
from hgcal_ae.workflows.base import HgcalTask

__all__ = ["IngestRoot", "SimulateShowers", "ValidateSimulation"]

NOMINAL_ENERGIES = [20, 30, 50, 80, 100, 120, 150, 200, 250, 300]  # 2018 beam energies [MB]


class EventsTask(HgcalTask):
    """A task whose product is an events file with its summary, in the ``run_dir`` that
    each subclass names from its parameters."""

    run_dir: Path

    def output(self) -> dict[str, luigi.LocalTarget]:
        return {
            "events": luigi.LocalTarget(str(self.run_dir / "events.h5")),
            "summary": luigi.LocalTarget(str(self.run_dir / "summary.json")),
        }


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
    def run_dir(self) -> Path:
        name = f"{self.particle}_{self.energy:g}GeV_n{self.events}_seed{self.seed}{self.variant()}"
        return self.root / "simulation" / self.geometry / name

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


class ValidateSimulation(SimulationParameters):
    """Resolution, linearity, profiles, shower maximum, containment, multiplicity, displays."""

    energies = luigi.ListParameter(default=NOMINAL_ENERGIES)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if len(set(self.energies)) < 3:
            msg = f"validation needs at least 3 different energies, got {list(self.energies)}"
            raise ConfigError(msg)

    def requires(self) -> dict[float, SimulateShowers]:
        return {float(e): SimulateShowers(energy=float(e), **self.shared()) for e in self.energies}

    @property
    def run_dir(self) -> Path:
        name = f"{self.particle}_n{self.events}_seed{self.seed}{self.variant()}"
        return self.root / "validation" / self.geometry / name

    PLOTS = (
        "resolution",
        "linearity",
        "longitudinal_profiles",
        "shower_max",
        "containment",
        "multiplicity",
    )

    def output(self) -> dict[str, luigi.LocalTarget]:
        targets = {p: luigi.LocalTarget(str(self.run_dir / f"{p}.png")) for p in self.PLOTS}
        for e in (min(self.energies), max(self.energies)):
            targets[f"display_{e:g}"] = luigi.LocalTarget(
                str(self.run_dir / f"event_display_{e:g}GeV.png")
            )
        targets["summary"] = luigi.LocalTarget(str(self.run_dir / "summary.json"))
        return targets

    def run(self) -> None:
        setup = detector_setup(self.geometry, cuw=self.cuw)
        stack = setup.stack
        points, displays = [], {}
        for i, (energy, task) in enumerate(sorted(self.requires().items())):
            batch, _ = read_events(task.output()["events"].path)
            points.append(analyse_energy_point(batch, stack, energy))
            if energy in (min(self.energies), max(self.energies)):
                displays[energy] = batch.select([0])
            self.report((i + 1) / (len(self.energies) + 1), f"analysed {energy:g} GeV")
        result = validation_fits(points)
        out = self.output()
        e = [p.beam_energy_gev for p in result.points]
        resolution_plot(e, [p.rel_sigma for p in result.points], [p.rel_sigma_err for p in result.points],
                        result.resolution, out["resolution"].path)  # fmt: skip
        linearity_plot(e, [p.reco.values["mean"] for p in result.points],
                       [p.reco.errors["mean"] for p in result.points], result.linearity, out["linearity"].path)  # fmt: skip
        longitudinal_profiles_plot(stack.x0_cumulative, {p.beam_energy_gev: p.mean_profile_gev for p in result.points},
                                   out["longitudinal_profiles"].path)  # fmt: skip
        shower_max_plot(e, [p.t_max.values["t_max"] for p in result.points],
                        [p.t_max.errors["t_max"] for p in result.points], result.shower_max, out["shower_max"].path)  # fmt: skip
        containment_plot(e, [p.r90_mean_cm for p in result.points], [p.r90_err_cm for p in result.points],
                         out["containment"].path)  # fmt: skip
        multiplicity_plot(
            {p.beam_energy_gev: p.multiplicity for p in result.points}, out["multiplicity"].path
        )
        for energy, event in displays.items():
            hexagonal_event_display(
                setup.lattice, setup.tiling, event.layer, event.cell, event.energy_mip,
                out[f"display_{energy:g}"].path,
                title=f"{self.particle} {energy:g} GeV, event {int(event.event_id[0])} ({self.geometry})",
            )  # fmt: skip
        write_json(
            out["summary"].path,
            {
                "workflow": "validate-simulation",
                "hgcal_ae_version": __version__,
                "parameters": {**self.shared(), "energies": list(self.energies)},
                "detector": setup.describe(),
                **result.as_dict(),
                "inputs": {f"{k:g}": t.output()["events"].path for k, t in self.requires().items()},
                "outputs": {k: t.path for k, t in out.items()},
            },
        )


class IngestRoot(EventsTask):
    """Convert beam-test ROOT ntuples (tree ``rechitntupler/hits``) into the events format."""

    source = luigi.Parameter(description="ROOT file or folder of *.root files ($ROOT_SOURCE)")
    name = luigi.Parameter(default="", description="output name (default: the source's name)")

    @property
    def run_dir(self) -> Path:
        return self.root / "beamtest" / (self.name or Path(str(self.source)).stem)

    def run(self) -> None:
        from hgcal_ae.datasets.root_ingest import ingest_root

        out = self.output()
        summary = ingest_root(self.source, Path(out["events"].path))
        write_json(
            out["summary"].path,
            {"workflow": "ingest-root", **summary, "outputs": {k: t.path for k, t in out.items()}},
        )
