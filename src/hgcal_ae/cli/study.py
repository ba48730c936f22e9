"""``hgcal-ae study``: the compression study, from simulated showers to its report."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from hgcal_ae.cli.common import (
    add_batch_options,
    add_run_options,
    batch_parameters,
    check_epochs,
    check_run_options,
    read_summary,
    run_workflow,
    task_parameters,
)

__all__ = [
    "add_occupancy_option",
    "add_parsers",
    "check_conditional",
    "check_loss",
    "check_occupancy",
    "shower_parameters",
    "study_parameters",
]


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "study", help="trigger cells, ECON-T algorithms and module autoencoders: the report"
    )
    p.add_argument(
        "--preset", default="default", help="smoke (~1 min), default (<= 15 min on 2 cores) or full"
    )
    p.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda or cuda:N")
    p.add_argument(
        "--quantised-weights", action="store_true",
        help="train the module AEs with 6-bit encoder weights, the on-chip format that "
        "`hgcal-ae export` reproduces exactly; outputs go to <preset>_qw",
    )  # fmt: skip
    p.add_argument(
        "--loss", default="telescope",
        help="telescope (default) or telescope+emd: the telescope epochs, then the preset's "
        "emd_finetune_epochs with the exact EMD; outputs go to <preset>[_<occupancy>]_emd",
    )  # fmt: skip
    p.add_argument(
        "--conditional", action="store_true",
        help="module AEs whose decoder also gets each module's |eta|, layer, wafer type and ln "
        "of its sum (ECON_CAE; known off-detector, no e-link bits); needs --occupancy pu200; "
        "outputs go to <preset>_pu200[...]_cond",
    )  # fmt: skip
    p.add_argument(
        "--epochs", type=int, default=0, metavar="E",
        help="training epochs of every AE (default 0: the preset's); another value is another "
        "configuration, in another folder (to time the `full` preset, or a quick look)",
    )  # fmt: skip
    p.add_argument(
        "--grid-chunk", type=int, default=1, metavar="N",
        help="train N grid points together as one vectorised model (default 1: one AE per "
        "task); with --workflow, a batch branch is such a chunk",
    )  # fmt: skip
    add_occupancy_option(p)
    add_run_options(p)
    add_batch_options(p)
    p.set_defaults(handler=_study)


def add_occupancy_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--occupancy",
        default="signal",
        help="module occupancy: signal (shower cells only, default), noise (every module with its "
        "noise), pileup (noise plus a toy pile-up) or pu200 (published 200-pile-up occupancy, "
        "MIP_T); outputs go to <preset>_<occupancy>",
    )
    g = p.add_argument_group("the showers (default: the preset's; other values, another folder)")
    g.add_argument("--particle", default=None, help="signal particle: e- or e+ (electrons), gamma")
    g.add_argument("--energies", default=None, help="signal energies [GeV], comma-separated")
    g.add_argument(
        "--eta-range", default=None, metavar="LO,HI",
        help="pu200: the showers' |eta| range, within 1.5,3.0 (default 1.5,3.0)",
    )  # fmt: skip
    g.add_argument(
        "--pileup-scale", default=None, metavar="S",
        help="pu200: pile-up occupancy scale, a number >= 0 (1 = 200 pile-up, the default)",
    )  # fmt: skip


def check_occupancy(value: str) -> str:
    from hgcal_ae.errors import ConfigError
    from hgcal_ae.study.showers import OCCUPANCIES

    if value not in OCCUPANCIES:
        msg = f"unknown occupancy {value!r}; expected one of {', '.join(OCCUPANCIES)}"
        raise ConfigError(msg)
    return value


def shower_parameters(args: argparse.Namespace, occupancy: str) -> dict[str, Any]:
    """The task parameters of ``--particle``, ``--energies``, ``--eta-range`` and
    ``--pileup-scale``, checked (:class:`ConfigError` naming the bad value)."""
    from hgcal_ae.cli.common import csv_floats
    from hgcal_ae.errors import ConfigError
    from hgcal_ae.simulation.showers import MAX_ENERGY_GEV, PARTICLES
    from hgcal_ae.study.occupancy_pu200 import ETA_LIMITS, check_pu200

    params: dict[str, Any] = {}
    if args.particle is not None:
        if args.particle not in PARTICLES:
            msg = f"--particle {args.particle!r}: expected one of {', '.join(PARTICLES)}"
            raise ConfigError(msg)
        params["particle"] = args.particle
    if args.energies is not None:
        energies = csv_floats(args.energies, "--energies")
        if not all(0 < e <= MAX_ENERGY_GEV for e in energies):
            msg = (
                f"--energies {args.energies!r}: expected energies > 0 and <= {MAX_ENERGY_GEV:g} GeV"
            )
            raise ConfigError(msg)
        params["energies"] = tuple(energies)
    pu200 = {"--eta-range": args.eta_range, "--pileup-scale": args.pileup_scale}
    given = [name for name, value in pu200.items() if value is not None]
    if given and occupancy != "pu200":
        msg = f"{' and '.join(given)} apply to --occupancy pu200 only, got --occupancy {occupancy}"
        raise ConfigError(msg)
    eta_range, scale = ETA_LIMITS, 1.0
    if args.eta_range is not None:
        items = [t.strip() for t in args.eta_range.split(",")]
        try:
            lo, hi = (float(t) for t in items)
        except ValueError:
            msg = f"--eta-range {args.eta_range!r}: expected two numbers LO,HI within {ETA_LIMITS[0]},{ETA_LIMITS[1]}"
            raise ConfigError(msg) from None
        eta_range = (lo, hi)
        params["eta_range"] = eta_range
    if args.pileup_scale is not None:
        try:
            scale = float(args.pileup_scale)
        except ValueError:
            msg = f"--pileup-scale {args.pileup_scale!r}: expected a number >= 0 (1 = 200 pile-up)"
            raise ConfigError(msg) from None
        params["pileup_scale"] = scale
    try:
        check_pu200(eta_range, scale)
    except ConfigError as exc:
        raise ConfigError(f"--eta-range/--pileup-scale: {exc}") from None
    return params


def check_conditional(args: argparse.Namespace) -> dict[str, bool]:
    """``{"conditional": True}`` for ``--conditional`` (which needs ``--occupancy pu200``)."""
    from hgcal_ae.errors import ConfigError

    if not args.conditional:
        return {}
    if args.occupancy != "pu200":
        msg = f"--conditional needs --occupancy pu200 (its conditions include each module's |eta|), got --occupancy {args.occupancy}"
        raise ConfigError(msg)
    return {"conditional": True}


def check_loss(value: str) -> str:
    from hgcal_ae.errors import ConfigError
    from hgcal_ae.study.presets import STUDY_LOSSES

    if value not in STUDY_LOSSES:
        msg = f"unknown loss {value!r}; expected one of {', '.join(STUDY_LOSSES)}"
        raise ConfigError(msg)
    return value


def study_parameters(args: argparse.Namespace) -> dict[str, Any]:
    """Check the options of ``study`` and ``merging`` (preset, occupancy, running, device)
    before anything is written; return the parameters their tasks share."""
    from hgcal_ae.models.device import resolve_device
    from hgcal_ae.study.presets import study_preset

    preset = study_preset(args.preset)
    occupancy = check_occupancy(args.occupancy)
    check_run_options(args)
    resolve_device(args.device)
    showers = shower_parameters(args, occupancy)
    return {**task_parameters(args), "preset": preset.name, "occupancy": occupancy, **showers}


def _study(args: argparse.Namespace) -> int:
    from hgcal_ae.study.report import answer_text
    from hgcal_ae.workflows.study import EvaluateCompression, StudyReport

    check_epochs(args.epochs)
    common = {**study_parameters(args), "quantised_weights": args.quantised_weights,
              "loss": check_loss(args.loss), **check_conditional(args),
              "train_epochs": args.epochs}  # fmt: skip
    batch = batch_parameters(args)
    report = StudyReport(**common)
    from hgcal_ae.workflows.grid import TrainGrid

    grid = TrainGrid(**common, **batch, grid_chunk=args.grid_chunk, device=args.device)
    trainings = grid.points()  # checks --grid-chunk before anything is written
    if batch:  # the grid as a law workflow (local or batch jobs) first, then the rest here
        from hgcal_ae.cli.common import run_grid

        run_grid(grid, args)
        trainings = []
    elif args.grid_chunk > 1:
        # the chunks first: luigi decides what to run before anything runs, so in one build
        # the evaluation's own TrainModuleAE requirements would train every AE again alone
        run_workflow(trainings, args)
        trainings = []
    run_workflow([*trainings, EvaluateCompression(**common), report], args)
    summary_path = Path(report.output()["summary.json"].path)
    summary = read_summary(summary_path)
    print(
        f"{summary['n_test_events']} test events, {summary['n_test_modules']} modules; {len(summary['rows'])} algorithm settings"
    )
    print(f"smallest latent dim by energy: {answer_text(summary['smallest_latent_dim'])}")
    print(f"smallest latent dim by shape: {answer_text(summary['smallest_latent_dim_by_shape'])}")
    for c in summary["ae_versus_baselines"]:
        print(f"  {c['n_elinks']} e-links: {c['autoencoder']} vs {c['baseline']}: EMD {c['emd_ae_cm']:.3f} vs "
              f"{c['emd_baseline_cm']:.3f} cm -> AE {'better' if c['ae_better_emd'] else 'worse'}")  # fmt: skip
    print(f"done: the report is in {summary_path.parent}")
    return 0
