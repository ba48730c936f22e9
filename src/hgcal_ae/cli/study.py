"""``hgcal-ae study``: the compression study, from simulated showers to its report."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from hgcal_ae.cli.common import add_run_options, check_run_options, run_workflow

__all__ = ["add_parsers"]


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "study", help="trigger cells, ECON-T algorithms and module autoencoders: the report"
    )
    p.add_argument(
        "--preset", default="default", help="smoke (~1 min), default (<= 15 min on 2 cores) or full"
    )
    p.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda or cuda:N")
    add_occupancy_option(p)
    add_run_options(p)
    p.set_defaults(handler=_study)


def add_occupancy_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--occupancy",
        default="signal",
        help="module occupancy: signal (shower cells only, default), noise (every module with its "
        "noise) or pileup (noise plus a toy pile-up); outputs go to <preset>_<occupancy>",
    )


def check_occupancy(value: str) -> str:
    from hgcal_ae.errors import ConfigError
    from hgcal_ae.study.showers import OCCUPANCIES

    if value not in OCCUPANCIES:
        msg = f"unknown occupancy {value!r}; expected one of {', '.join(OCCUPANCIES)}"
        raise ConfigError(msg)
    return value


def _study(args: argparse.Namespace) -> int:
    from hgcal_ae.atomic import ensure_dir
    from hgcal_ae.models.device import resolve_device
    from hgcal_ae.study.presets import study_preset
    from hgcal_ae.study.report import answer_text
    from hgcal_ae.workflows.study import EvaluateCompression, StudyReport, TrainModuleAE

    preset = study_preset(args.preset)
    occupancy = check_occupancy(args.occupancy)
    check_run_options(args)
    resolve_device(args.device)
    ensure_dir(args.output_dir)
    root = str(Path(args.output_dir).resolve())
    common = {"output_dir": root, "preset": preset.name, "occupancy": occupancy}
    trainings = [TrainModuleAE(**common, latent_dim=d, latent_bits=b, device=args.device)
                 for d, b in preset.ae_grid()]  # fmt: skip
    report = StudyReport(**common)
    run_workflow([*trainings, EvaluateCompression(**common), report], args)
    summary = json.loads(Path(report.output()["summary.json"].path).read_text(encoding="utf-8"))
    print(
        f"{summary['n_test_events']} test events, {summary['n_test_modules']} modules; {len(summary['rows'])} algorithm settings"
    )
    print(f"smallest latent dim by energy: {answer_text(summary['smallest_latent_dim'])}")
    print(f"smallest latent dim by shape: {answer_text(summary['smallest_latent_dim_by_shape'])}")
    for c in summary["ae_versus_baselines"]:
        print(f"  {c['n_elinks']} e-links: {c['autoencoder']} vs {c['baseline']}: EMD {c['emd_ae_cm']:.3f} vs "
              f"{c['emd_baseline_cm']:.3f} cm -> AE {'better' if c['ae_better_emd'] else 'worse'}")  # fmt: skip
    print(f"done: the report is in {Path(report.output()['summary.json'].path).parent}")
    return 0
