"""``hgcal-ae merging``: how cells and modules should be merged (TC grouping, neighbours)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from hgcal_ae.cli.common import (
    add_batch_options,
    add_run_options,
    batch_parameters,
    read_summary,
    run_workflow,
)
from hgcal_ae.cli.study import add_occupancy_option, study_parameters

__all__ = ["add_parsers"]


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "merging",
        help="the merging study: 2x2 vs 3x3 trigger cells, modules alone vs with neighbours",
    )
    p.add_argument("--preset", default="default", help="smoke, default or full (as for study)")
    p.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda or cuda:N")
    add_occupancy_option(p)
    add_run_options(p)
    add_batch_options(p)
    p.set_defaults(handler=_merging)


def _merging(args: argparse.Namespace) -> int:
    from hgcal_ae.workflows.merging import MergingReport, NeighbourMerging

    common = study_parameters(args)
    report = MergingReport(**common)
    neighbours = NeighbourMerging(**common, device=args.device)
    if batch := batch_parameters(args):  # the trainings as a law workflow first, then the rest
        from hgcal_ae.cli.common import run_grid
        from hgcal_ae.workflows.merging import MergingGrid

        run_grid(MergingGrid(**common, **batch, device=args.device), args)
    run_workflow([neighbours, report], args)
    summary_path = Path(report.output()["summary.json"].path)
    summary = read_summary(summary_path)
    g = summary["answers"]["grouping"]["event_resolution_mm"]
    print(
        "shower barycentre resolution [mm]: cells {:.2f}, 2x2 TCs {:.2f}, 3x3 TCs {:.2f}".format(
            g["cells"], g["tc2x2"], g["tc3x3"]
        )
    )
    for name, classes in summary["answers"]["neighbours"].items():
        for cls, diff in classes.items():
            d = diff["emd_cm"]
            if d.get("mean_difference") is None:
                continue
            print(
                f"  mean EMD, {name.replace('_', ' ')}, {cls} showers: "
                f"{d['mean_difference']:+.3f} ± {d['standard_error'] or 0:.3f} cm"
            )
    print(f"done: the report is in {summary_path.parent}")
    return 0
