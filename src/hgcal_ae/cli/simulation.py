"""``hgcal-ae simulate``, ``validate-simulation`` and ``ingest-root``: showers and beam-test data."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from hgcal_ae.cli.common import (
    add_run_options,
    check_run_options,
    csv_floats,
    read_summary,
    run_workflow,
    task_parameters,
)
from hgcal_ae.errors import ConfigError

__all__ = ["add_parsers"]

DEFAULT_ENERGIES = "20,30,50,80,100,120,150,200,250,300"  # the 2018 beam energies [MB]


def _add_simulation_options(p: argparse.ArgumentParser, energies: str, events: int) -> None:
    g = p.add_argument_group("simulation")
    g.add_argument("--particle", default="e+", help="e+, e- or gamma (default e+)")
    g.add_argument(
        "--energies",
        default=energies,
        help=f"comma-separated beam energies in GeV (default {energies})",
    )
    g.add_argument(
        "--events", type=int, default=events, help=f"showers per energy (default {events})"
    )
    g.add_argument(
        "--geometry", default="tb2018", help="tb2018, tb2018-tiled, ld8 or hd8 (default tb2018)"
    )
    g.add_argument("--seed", type=int, default=0)
    g.add_argument(
        "--cuw",
        default="analysis",
        help="X0 reading of the CuW absorbers: analysis, W75Cu25, as_coded",
    )
    g.add_argument(
        "--noise-mip", type=float, default=1 / 6, help="cell noise sigma in MIP (default 1/6)"
    )
    g.add_argument(
        "--threshold-mip", type=float, default=0.5, help="hit threshold in MIP (default 0.5)"
    )
    g.add_argument(
        "--energy-spread", type=float, default=0.0, help="relative beam energy spread (default 0)"
    )
    g.add_argument(
        "--spot-sigma-cm", type=float, default=0.0, help="beam spot width in cm (default 0)"
    )


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("simulate", help="simulate EM showers in the CE-E into HDF5 event files")
    _add_simulation_options(p, "20,50,100,300", 1000)
    add_run_options(p)
    p.set_defaults(handler=_simulate)

    p = sub.add_parser(
        "validate-simulation", help="simulate and draw resolution, linearity, profiles, ..."
    )
    _add_simulation_options(p, DEFAULT_ENERGIES, 1000)
    add_run_options(p)
    p.set_defaults(handler=_validate)

    p = sub.add_parser(
        "ingest-root", help="convert beam-test ROOT ntuples into the HDF5 event format"
    )
    p.add_argument(
        "source",
        nargs="?",
        default=os.environ.get("ROOT_SOURCE") or None,
        help="ROOT file or folder (default $ROOT_SOURCE)",
    )
    p.add_argument(
        "--name", default="", help="name of the output folder (default: the source's name)"
    )
    add_run_options(p)
    p.set_defaults(handler=_ingest)


def _simulation_parameters(args: argparse.Namespace) -> tuple[list[float], dict[str, Any]]:
    """Check every option before anything is written; return energies and task parameters.

    Nothing is created here: the output folder appears when the run writes into it.
    """
    from hgcal_ae.detector.setups import detector_setup
    from hgcal_ae.simulation.showers import BeamConfig

    check_run_options(args)
    energies = csv_floats(args.energies, "--energies")
    for energy in energies:
        BeamConfig(
            particle=args.particle,
            energy_gev=energy,
            energy_spread=args.energy_spread,
            spot_sigma_cm=args.spot_sigma_cm,
        )
    if args.events <= 0:
        msg = f"--events must be a positive integer, got {args.events}"
        raise ConfigError(msg)
    detector_setup(args.geometry, cuw=args.cuw)
    for name in ("noise_mip", "threshold_mip"):
        value = getattr(args, name)
        if not value >= 0:  # also catches NaN
            msg = f"--{name.replace('_', '-')} must be >= 0, got {value!r}"
            raise ConfigError(msg)
    params = task_parameters(
        args, "particle", "events", "geometry", "seed", "cuw", "noise_mip", "threshold_mip",
        "energy_spread", "spot_sigma_cm",
    )  # fmt: skip
    return energies, params


def _simulate(args: argparse.Namespace) -> int:
    from hgcal_ae.workflows.simulation import SimulateShowers

    energies, params = _simulation_parameters(args)
    tasks = [SimulateShowers(energy=e, **params) for e in energies]
    run_workflow(tasks, args)
    for task in tasks:
        summary = read_summary(task.output()["summary"].path)
        print(
            f"{task.energy:g} GeV: {summary['n_events']} events, {summary['n_hits']} hits -> {task.output()['events'].path}"
        )
    return 0


def _validate(args: argparse.Namespace) -> int:
    from hgcal_ae.workflows.simulation import ValidateSimulation

    energies, params = _simulation_parameters(args)
    task = ValidateSimulation(energies=energies, **params)
    run_workflow([task], args)
    summary = read_summary(task.output()["summary"].path)
    res, lin, tmax = summary["resolution_fit"], summary["linearity_fit"], summary["shower_max_fit"]
    print(
        f"resolution: S = {100 * res['values']['S']:.1f} ± {100 * res['errors']['S']:.1f} %·√GeV, C = {100 * res['values']['C']:.2f} ± {100 * res['errors']['C']:.2f} %"
    )
    print(
        f"linearity: max |residual| = {100 * summary['max_abs_linearity_residual']:.2f} % (slope {lin['values']['a']:.4f})"
    )
    print(
        f"shower maximum: slope dt_max/dlnE = {tmax['values']['slope']:.3f} ± {tmax['errors']['slope']:.3f} X0"
    )
    r90 = [p["r90_mean_cm"] for p in summary["points"]]
    print(f"90 % containment radius: {min(r90):.2f}-{max(r90):.2f} cm")
    print(f"done: pictures and summary.json are in {task.run_dir}")
    return 0


def _ingest(args: argparse.Namespace) -> int:
    from hgcal_ae.datasets.root_ingest import find_root_files
    from hgcal_ae.workflows.simulation import IngestRoot

    check_run_options(args)
    if not args.source:
        msg = "ingest-root needs a SOURCE (a ROOT file or folder) or $ROOT_SOURCE"
        raise ConfigError(msg)
    find_root_files(args.source)  # a missing source fails here, with its name
    task = IngestRoot(**task_parameters(args, "name"), source=str(Path(args.source).resolve()))
    run_workflow([task], args)
    summary = read_summary(task.output()["summary"].path)
    print(
        f"{summary['n_events']} events, {summary['n_hits']} hits -> {task.output()['events'].path}"
    )
    return 0
