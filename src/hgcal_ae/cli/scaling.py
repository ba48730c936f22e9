"""``hgcal-ae scaling``: the AE's quality against the number of modules it was trained on."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from hgcal_ae.cli.common import (
    add_batch_options,
    add_run_options,
    batch_parameters,
    check_epochs,
    csv_items,
    read_summary,
    run_workflow,
)
from hgcal_ae.cli.study import add_occupancy_option, study_parameters
from hgcal_ae.errors import ConfigError

__all__ = ["add_parsers", "parse_sizes"]

DEFAULT_SIZES = "16000,50000,150000,all"


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "scaling",
        help="the data-scaling study: the 16x3-bit AE's EMD against its training-set size",
    )
    p.add_argument("--preset", default="full",
                   help="the showers and training settings (default full: ~10^5-10^6 modules)")  # fmt: skip
    p.add_argument(
        "--sizes", default=DEFAULT_SIZES,
        help=f"training-set sizes [modules], comma-separated; 'all': every training module "
             f"(default {DEFAULT_SIZES})",
    )  # fmt: skip
    p.add_argument(
        "--epochs", type=int, default=0,
        help="training epochs (default: the preset's); under --schedule steps, of the largest size",
    )  # fmt: skip
    p.add_argument(
        "--schedule", default="steps",
        help="steps (default): every size trains the optimiser steps of --epochs over the "
             "largest size; epochs: every size trains --epochs epochs (more data, more steps)",
    )  # fmt: skip
    p.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda or cuda:N")
    add_occupancy_option(p)
    add_run_options(p)
    add_batch_options(p)
    p.set_defaults(handler=_scaling)


def parse_sizes(text: str) -> tuple[int, ...]:
    """``--sizes``: positive whole numbers or ``all`` (0 in the result), each once, sorted."""
    sizes = []
    for item in csv_items(text, "--sizes"):
        if item == "all":
            sizes.append(0)
            continue
        try:
            value = int(item)
        except ValueError:
            value = -1
        if value <= 0:
            msg = f"--sizes {item!r}: expected a whole number of modules > 0 or 'all'"
            raise ConfigError(msg)
        sizes.append(value)
    if len(set(sizes)) != len(sizes):
        msg = f"--sizes {text!r}: each size once"
        raise ConfigError(msg)
    return tuple(sorted(sizes, key=lambda n: n or float("inf")))


def _scaling(args: argparse.Namespace) -> int:
    from hgcal_ae.study.scaling import SCHEDULES
    from hgcal_ae.workflows.scaling import ScalingReport, TrainScalingAE

    sizes = parse_sizes(args.sizes)
    check_epochs(args.epochs)
    if args.schedule not in SCHEDULES:
        msg = f"--schedule {args.schedule!r}: expected one of {', '.join(SCHEDULES)}"
        raise ConfigError(msg)
    common = {**study_parameters(args), "epochs": args.epochs, "schedule": args.schedule}
    batch = batch_parameters(args)
    report = ScalingReport(**common, sizes=sizes)
    if batch:  # the trainings as a law workflow first, then the report here
        from hgcal_ae.cli.common import run_grid
        from hgcal_ae.workflows.scaling import ScalingGrid

        run_grid(ScalingGrid(**common, **batch, sizes=sizes, device=args.device), args)
        trainings = []
    else:
        trainings = [TrainScalingAE(**common, n_train=n, largest=sizes[-1], device=args.device)
                     for n in sizes]  # fmt: skip
    run_workflow([*trainings, report], args)
    summary_path = Path(report.output()["summary.json"].path)
    summary = read_summary(summary_path)
    for row in summary["rows"]:
        epochs = f"{row['epochs']} epoch" + ("s" if row["epochs"] != 1 else "")
        print(f"  {row['n_train_modules']:>9,} training modules, {epochs}, "
              f"{row['n_steps']:,} steps: {row['label']} mean EMD "
              f"{row['emd_mean_cm']:.3f} ± {row['emd_sem_cm']:.3f} cm")  # fmt: skip
    for b in summary["baselines"]:
        print(f"  {b['label']}: mean EMD {b['emd_mean_cm']:.3f} ± {b['emd_sem_cm']:.3f} cm")
    print(f"done: the report is in {summary_path.parent}")
    return 0
