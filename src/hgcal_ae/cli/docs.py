"""``hgcal-ae docs``: regenerate the result blocks of ``docs/`` and the README from the runs.

Which runs the pages show, and the commands that make them, are named here, from the
workflows' own output paths; the rendering is :mod:`hgcal_ae.study.pages`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_parsers", "run_sources", "scaling_source"]


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "docs", help="regenerate the tables and figures of docs/ and README.md from the runs"
    )
    p.add_argument(
        "--output-dir",
        default=os.environ.get("OUTPUT_DIR") or "output",
        help="root of the runs' outputs (default $OUTPUT_DIR or ./output)",
    )
    p.add_argument(
        "--docs", default="docs", help="the docs folder; README.md beside it is updated too"
    )
    p.add_argument(
        "--preset", default="default", help="the study and merging preset the pages show"
    )
    p.add_argument(
        "--scaling-preset", default="full", help="the scaling study's preset the pages show"
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 naming the first block that differs from the runs",
    )
    p.set_defaults(handler=_docs)


#: the comparisons the docs show: every variant under pu200 (the command's default there), and
#: float against 6-bit encoder weights at 2-3 e-links (hardware.md)
PU200_VARIANTS = ("telescope", "emd", "cond", "cond_emd")
QW_VARIANTS = ("telescope", "qw")
QW_LATENTS = ((16, 3), (16, 5))


def run_sources(
    output_dir: str | os.PathLike[str], preset: str, scaling_preset: str = "full"
) -> dict[str, Any]:
    """The runs the pages show, by source key: their summary files and commands
    (``preset``: the study's and merging's; ``scaling_preset``: the scaling study's)."""
    from hgcal_ae.study.comparison import DEFAULT_LATENTS
    from hgcal_ae.study.pages import RunSource
    from hgcal_ae.study.presets import study_preset
    from hgcal_ae.workflows.beamtest import BeamtestStudy
    from hgcal_ae.workflows.comparison import ComparisonReport
    from hgcal_ae.workflows.merging import MergingReport
    from hgcal_ae.workflows.mnist import LatentScan, MnistExample
    from hgcal_ae.workflows.simulation import ValidateSimulation
    from hgcal_ae.workflows.study import StudyReport

    name = study_preset(preset).name
    out = Path(output_dir).resolve()
    root = {"output_dir": str(out)}
    paths: dict[str, tuple[str | Path, str]] = {
        "study": (StudyReport(**root, preset=name).output()["summary.json"].path,
                  f"hgcal-ae study --preset {name}"),
        "study_pileup": (StudyReport(**root, preset=name, occupancy="pileup").output()["summary.json"].path,
                         f"hgcal-ae study --preset {name} --occupancy pileup"),
        "study_pu200": (StudyReport(**root, preset=name, occupancy="pu200").output()["summary.json"].path,
                        f"hgcal-ae study --preset {name} --occupancy pu200"),
        "compare_pu200": (ComparisonReport(**root, preset=name, occupancy="pu200", variants=PU200_VARIANTS,
                                           latents=DEFAULT_LATENTS).output()["summary.json"].path,
                          f"hgcal-ae compare --preset {name} --occupancy pu200"),
        "compare_qw": (ComparisonReport(**root, preset=name, variants=QW_VARIANTS,
                                        latents=QW_LATENTS).output()["summary.json"].path,
                       f"hgcal-ae compare --preset {name} --variants {','.join(QW_VARIANTS)} "
                       f"--latents {','.join(f'{d}x{b}' for d, b in QW_LATENTS)}"),
        "merging": (MergingReport(**root, preset=name).output()["summary.json"].path,
                    f"hgcal-ae merging --preset {name}"),
        "mnist": (MnistExample(**root, latent_dim=28).output().path, "hgcal-ae mnist --latent-dim 28"),
        "mnist_scan": (LatentScan(**root, archs=["dense", "conv"]).output()["summary"].path,
                       "hgcal-ae mnist-scan --arch dense,conv"),
        "validation": (ValidateSimulation(**root, events=5000).output()["summary"].path,
                       "python validation/validate_simulation.py --output-dir $OUTPUT_DIR"),
        "cuda": (out / "cuda" / "summary.json",
                 "python validation/check_cuda.py --output-dir $OUTPUT_DIR/cuda"),
        "beamtest": (BeamtestStudy(**root).output()["summary"].path, "hgcal-ae beamtest"),
        "export": (out / "export" / "hls4ml" / "summary.json",
                   "hgcal-ae export MODEL --format FORMAT --output-dir $OUTPUT_DIR/export --verify N"),
    }  # fmt: skip
    paths["scaling"] = scaling_source(out, study_preset(scaling_preset).name)
    paths["emd_schedule"] = (
        out / "benchmarks" / "emd_schedule.json",
        "python benchmarks/probe_emd_schedule.py --data output/study/default/<config>/trigger_cells.h5 "
        "--json $OUTPUT_DIR/benchmarks/emd_schedule.json",
    )
    paths["full_cost"] = (
        out / "benchmarks" / "full_preset.json",
        "python benchmarks/probe_full_preset.py --epochs 1 --json $OUTPUT_DIR/benchmarks/full_preset.json",
    )
    for bench in (
        "emd",
        "simulation",
        "mnist_workflow",
        "study",
        "beamtest",
        "law",
        "grid_training",
        "emd_loss",
    ):
        paths[f"bench_{bench}"] = (
            out / "benchmarks" / f"{bench}.json",
            f"python benchmarks/bench_{bench}.py --json $OUTPUT_DIR/benchmarks/{bench}.json",
        )
    return {
        key: RunSource(Path(path), Path(path).relative_to(out).as_posix(), command)
        for key, (path, command) in paths.items()
    }


def scaling_source(out: Path, preset: str = "full") -> tuple[Path, str]:
    """The scaling run the docs show: of ``preset``'s runs under ``out``, the one with the
    largest training set (then the most sizes, then the ``steps`` schedule, then the most
    epochs), and its command;
    where there is none, the default command's report (reported as not found)."""
    from hgcal_ae.cli.scaling import DEFAULT_SIZES, parse_sizes
    from hgcal_ae.workflows.scaling import ScalingReport

    report = ScalingReport(output_dir=str(out), preset=preset, sizes=parse_sizes(DEFAULT_SIZES))
    found = []
    for summary in report.scaling_dir.glob("report_n*_e*/summary.json"):
        *sizes, epochs = summary.parent.name.removeprefix("report_n").split("_")
        steps = epochs == "steps"  # report_n<sizes>_e<epochs>_steps: --schedule steps
        if steps:
            *sizes, epochs = sizes
        if not epochs.startswith("e") or not epochs[1:].isdigit():
            continue
        largest = max(float("inf") if n == "all" else float(n) for n in sizes)
        key = (largest, len(sizes), steps, int(epochs[1:]))
        found.append((key, summary, sizes, epochs[1:], steps))
    if not found:
        return Path(report.output()["summary.json"].path), f"hgcal-ae scaling --preset {preset}"
    _, summary, sizes, epochs, steps = max(found, key=lambda f: f[0])
    command = f"hgcal-ae scaling --preset {preset} --sizes {','.join(sizes)} --epochs {epochs}"
    return summary, command if steps else f"{command} --schedule epochs"


def _docs(args: argparse.Namespace) -> int:
    from hgcal_ae.errors import ConfigError
    from hgcal_ae.study.pages import plan_pages

    docs = Path(args.docs)
    if not docs.is_dir():
        msg = f"docs folder {str(docs)!r} does not exist; give the folder of the pages with --docs"
        raise ConfigError(msg)
    readme = docs.parent / "README.md"
    pages = ([readme] if readme.is_file() else []) + sorted(docs.glob("*.md"))
    plan = plan_pages(
        pages,
        run_sources(args.output_dir, args.preset, args.scaling_preset),
        docs / "images",
        docs.parent,
    )
    if args.check:
        difference = plan.first_difference()
        if difference is not None:
            print(f"hgcal-ae: error: {difference}; run `hgcal-ae docs`", file=sys.stderr)
            return 1
        missing = sum(s.status == "no run found" for s in plan.statuses)
        print(f"docs match the runs: {len(plan.statuses)} blocks, {missing} without a run")
        return 0
    plan.write()
    for status in plan.statuses:
        print(status.line())
    return 0
