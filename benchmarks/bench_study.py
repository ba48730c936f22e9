"""Throughput of the compression study's pieces, measured in one run on the same modules.

* evaluation: modules per second through each ECON-T algorithm (encode + decode) and through the
  per-module quality measures (EMD, energy ratio, centroid shift, width ratio, occupancy);
* training: seconds per epoch of the module autoencoder (reference architecture, telescope loss).

Usage: python benchmarks/bench_study.py [--modules 20000] [--epochs 3] [--data H5] [--json PATH]
With ``--json PATH`` the measured numbers are also written to PATH (``hgcal-ae docs`` makes
the benchmark table of docs/benchmarks.md from it).
Needs a trigger dataset; by default it makes a small one (ld8, odd layers) in a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from hgcal_ae import __version__
from hgcal_ae.atomic import write_json
from hgcal_ae.datasets.trigger_cells import read_trigger_cells
from hgcal_ae.metrics.module_quality import module_quality
from hgcal_ae.models.module_training import (
    ModuleTrainingConfig,
    autoencoder_output,
    train_module_autoencoder,
)
from hgcal_ae.study.showers import TriggerDatasetConfig, make_trigger_dataset
from hgcal_ae.trigger.baselines import best_choice, super_trigger_cells, threshold_sum
from hgcal_ae.trigger.formats import tc_lsb_mip


def _rate(n: int, fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return n / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", type=int, default=20_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--data", type=Path, default=None, help="an existing trigger_cells.h5")
    parser.add_argument("--json", default=None, help="also write the measured numbers to this file")
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.data
        if path is None:
            path = Path(tmp) / "tc.h5"
            make_trigger_dataset(TriggerDatasetConfig(energies_gev=(20.0, 50.0, 100.0, 200.0), events_per_energy=150,
                                                      events_per_group=1), path)  # fmt: skip
        data, _ = read_trigger_cells(path)
    tc = np.resize(data.tc.astype(np.float64), (args.modules, 48))
    lsb = tc_lsb_mip("ld8")
    print(f"{len(tc)} modules (ld8, odd layers, 20-200 GeV e+), torch threads: 1")
    cfg = ModuleTrainingConfig(epochs=args.epochs, batch_size=128, learning_rate=3e-3)
    t0 = time.perf_counter()
    model, fit = train_module_autoencoder(cfg, tc[: int(0.8 * len(tc))], tc[int(0.8 * len(tc)) :])
    per_epoch = [r.seconds for r in fit.history]
    print(f"training: {np.median(per_epoch):.2f} s per epoch over {int(0.8 * len(tc))} modules "
          f"({int(0.8 * len(tc)) / np.median(per_epoch):,.0f} modules/s; total {time.perf_counter() - t0:.1f} s)")  # fmt: skip
    decoded_bc = best_choice(tc, 2, lsb=lsb).reconstructed
    decoded_ae = autoencoder_output(model, tc, 5, lsb=lsb, zero_suppress=0.1).reconstructed
    rates = []
    for name, fn in {
        "best choice (2 e-links)": lambda: best_choice(tc, 2, lsb=lsb),
        "STC 2x2 (2 e-links)": lambda: super_trigger_cells(tc, 2, size=4, lsb=lsb),
        "threshold sum (2 e-links)": lambda: threshold_sum(tc, 2, 1.35, lsb=lsb),
        "autoencoder 16x9 (5 e-links)": lambda: autoencoder_output(
            model, tc, 5, lsb=lsb, zero_suppress=0.1
        ),
        "quality vs best choice": lambda: module_quality(tc, decoded_bc, occupancy_threshold=1.0),
        "quality vs autoencoder": lambda: module_quality(tc, decoded_ae, occupancy_threshold=1.0),
    }.items():
        fn()  # warm-up (numba compile, torch init)
        rate = _rate(len(tc), fn)
        rates.append({"name": name, "modules_per_s": rate})
        print(f"evaluation: {name:28s} {rate:>12,.0f} modules/s")
    if args.json:
        n_train = int(0.8 * len(tc))
        write_json(args.json, {
            "benchmark": "study", "hgcal_ae_version": __version__, "cpu_count": os.cpu_count(),
            "modules": len(tc), "data": str(args.data) if args.data else "made in a temporary folder",
            "training": {"modules": n_train, "s_per_epoch": float(np.median(per_epoch)),
                         "modules_per_s": n_train / float(np.median(per_epoch))},
            "evaluation": rates,
        })  # fmt: skip


if __name__ == "__main__":
    main()
