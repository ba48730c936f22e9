"""``hgcal-ae beamtest``: the autoencoder on beam-test showers (simulated, a file, or ROOT)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from hgcal_ae.cli.common import (
    add_run_options,
    check_run_options,
    csv_floats,
    csv_items,
    read_summary,
    run_workflow,
    task_parameters,
)
from hgcal_ae.errors import ConfigError

__all__ = ["add_parsers"]


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "beamtest",
        help="train per-layer and per-shower autoencoders on beam-test showers and judge them",
    )
    g = p.add_argument_group("events (simulated by default)")
    g.add_argument("--energies", default="20,50,100,300", help="simulated beam energies in GeV")
    g.add_argument("--events", type=int, default=500, help="simulated showers per energy")
    g.add_argument("--events-file", default="", help="an events file (HDF5) instead")
    g.add_argument("--root", default="", help="a beam-test ROOT ntuple, ingested first")
    g.add_argument("--name", default="", help="name of the source folder (default: file name)")
    g.add_argument("--seed", type=int, default=0)
    g = p.add_argument_group("autoencoders")
    g.add_argument("--latent-dims", default="2,4,8,16,32,64", help="latent dims scanned")
    g.add_argument("--families", default="per_layer,per_shower", help="autoencoder families")
    g.add_argument("--latent-bits", type=int, default=8, help="bits per latent value")
    g.add_argument("--epochs-per-layer", type=int, default=4)
    g.add_argument("--epochs-per-shower", type=int, default=15)
    g.add_argument(
        "--decoded-threshold-mip", type=float, default=0.0,
        help="drop decoded cells below this before the measures (default 0)",
    )  # fmt: skip
    g.add_argument("--emd-events", type=int, default=20, help="test events per energy with EMD")
    g = p.add_argument_group("bits against quality (Pareto) and neighbour-cell sums")
    g.add_argument(
        "--bits-scan", default="4",
        help="latent bits retrained at --bits-scan-dims for each family ('none': no scan; "
        "each value costs one training per family and dim)",
    )  # fmt: skip
    g.add_argument("--bits-scan-dims", default="16", help="latent dims of the bits scan")
    g.add_argument(
        "--group-sizes", default="1,2,3,7",
        help="cells per hexagonal cluster whose sums are sent directly (no training)",
    )  # fmt: skip
    g.add_argument(
        "--group-ae-sizes", default="none",
        help="cluster sizes (2, 3, 7) of autoencoders trained on clustered cells (default none)",
    )  # fmt: skip
    g.add_argument("--group-ae-dims", default="16", help="latent dims of those autoencoders")
    add_run_options(p)
    p.set_defaults(handler=_beamtest)


def _ints(text: str, option: str, *, allow_none: bool = False) -> list[int]:
    """Comma-separated integers; ``none`` (or nothing) gives [] where ``allow_none``."""
    if allow_none and text.strip().lower() in ("", "none"):
        return []
    values = []
    for item in csv_items(text, option):
        try:
            values.append(int(item))
        except ValueError:
            msg = f"{option} takes integers{' or none' if allow_none else ''}, got {item!r}"
            raise ConfigError(msg) from None
    return values


def _latent_dims(text: str) -> list[int]:
    return _ints(text, "--latent-dims")


def _scans(args: argparse.Namespace) -> dict[str, list[int]]:
    """The bits scan and cluster options, checked: one line naming the option and value."""
    from hgcal_ae.detector.sensor_groups import GROUP_SIZES
    from hgcal_ae.models.quantisation import MAX_BITS

    scans = {
        "bits_scan": _ints(args.bits_scan, "--bits-scan", allow_none=True),
        "bits_scan_dims": _ints(args.bits_scan_dims, "--bits-scan-dims"),
        "group_sizes": _ints(args.group_sizes, "--group-sizes", allow_none=True),
        "group_ae_sizes": _ints(args.group_ae_sizes, "--group-ae-sizes", allow_none=True),
        "group_ae_dims": _ints(args.group_ae_dims, "--group-ae-dims"),
    }
    for bits in scans["bits_scan"]:
        if not 1 <= bits <= MAX_BITS:
            msg = f"--bits-scan takes bits per latent value in 1..{MAX_BITS}, got {bits}"
            raise ConfigError(msg)
    for option, sizes in (("--group-sizes", scans["group_sizes"]),
                          ("--group-ae-sizes", scans["group_ae_sizes"])):  # fmt: skip
        for size in sizes:
            if size not in GROUP_SIZES:
                expected = ", ".join(map(str, GROUP_SIZES))
                msg = f"{option} takes cells per cluster in {expected}, got {size}"
                raise ConfigError(msg)
    return scans


def _parameters(args: argparse.Namespace) -> dict[str, Any]:
    """Check every option before anything is written; the BeamtestStudy parameters."""
    import numpy as np

    from hgcal_ae.datasets.root_ingest import find_root_files
    from hgcal_ae.study.beamtest import check_split, load_events
    from hgcal_ae.workflows.beamtest import BeamtestStudy

    check_run_options(args)
    energies = csv_floats(args.energies, "--energies")
    params = task_parameters(
        args, "events", "seed", "name", "latent_bits", "epochs_per_layer", "epochs_per_shower",
        "decoded_threshold_mip", "emd_events",
    )  # fmt: skip
    params |= {
        "energies": energies,
        "latent_dims": _latent_dims(args.latent_dims),
        "families": csv_items(args.families, "--families"),
        **_scans(args),
        "events_file": str(Path(args.events_file).resolve()) if args.events_file else "",
        "root_file": str(Path(args.root).resolve()) if args.root else "",
    }
    task = BeamtestStudy(**params)  # checks families, latent dims, sources
    config = task.study_config(task.families, task.latent_dims)
    if args.root:
        find_root_files(args.root)  # a missing file fails here, with its name
    elif args.events_file:
        load_events([args.events_file]).split(config)  # geometry, fields, enough events
    else:
        for energy in energies:
            if not 0 < energy <= 10_000:
                msg = f"--energies must be beam energies in (0, 10000] GeV, got {energy:g}"
                raise ConfigError(msg)
        check_split(np.repeat(energies, args.events), config)
    return params


def _beamtest(args: argparse.Namespace) -> int:
    from hgcal_ae.workflows.beamtest import BeamtestStudy

    task = BeamtestStudy(**_parameters(args))
    run_workflow([task], args)
    summary = read_summary(task.output()["summary"].path)
    answers = summary["answers"]
    events = summary["events"]
    print(
        f"events: {events['n_events']} at {', '.join(f'{e:g}' for e in events['energies_gev'])} GeV "
        f"(training {events['n_train']}, validation {events['n_validation']}, test {events['n_test']})"
    )
    print(f"criterion: {answers['criterion']}")
    for family in task.families:
        answer = answers[family]
        dim = answer["smallest_latent_dim"]
        if dim is None:
            breaks = answer.get("breaks", {})
            print(
                f"{family}: no latent dim in {answer['latent_dims_scanned']} meets it "
                f"(at {breaks.get('latent_dim')}: resolution {100 * breaks.get('resolution_deviation', 0):.1f} %, "
                f"shower max {breaks.get('shower_max_shift_rms_x0', 0):.2f} X0, "
                f"barycentre {breaks.get('barycentre_shift_rms_mm', 0):.2f} mm)"
            )
        else:
            print(
                f"{family}: smallest latent dim {dim} ({answer['bits_per_event']:.0f} bits per event)"
            )
    fronts = summary["bits"]["pareto_front"]
    labels = {p["key"]: p["label"] for p in summary["bits"]["points"]}
    for measure, keys in fronts.items():
        print(f"Pareto front, {measure}: {'; '.join(labels[k] for k in keys)}")
    print(f"done: pictures and summary.json are in {task.run_dir}")
    return 0
