"""Training throughput of the beam-test autoencoders against the module autoencoder's, one run.

* beam-test AEs: showers per second through one training epoch of the per-layer family (28
  layer images per shower) and of the per-shower family (one 28-channel stack per shower), at
  latent dim 16, on simulated tb2018 e+ showers at 20, 50, 100 and 300 GeV;
* module AE: modules per second through one epoch of the compression study's module AE
  (reference architecture, telescope loss) on random sparse 48-TC modules, the same machine and
  thread count.

The ratio (modules per shower-second) says where the cost is: a shower holds 28 layers of 109
cells, a module 48 trigger cells.

Usage: python benchmarks/bench_beamtest.py [--events 200] [--modules 20000] [--epochs 2] [--json PATH]
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import torch

from hgcal_ae import __version__
from hgcal_ae.atomic import write_json
from hgcal_ae.models.beamtest_ae import FAMILIES, BeamtestAEConfig, train_beamtest_ae
from hgcal_ae.models.module_training import ModuleTrainingConfig, train_module_autoencoder
from hgcal_ae.simulation.run import shower_model, simulate_batch
from hgcal_ae.simulation.showers import BeamConfig
from hgcal_ae.study.beamtest_data import event_cells

ENERGIES = (20.0, 50.0, 100.0, 300.0)
BATCH = {"per_layer": 256, "per_shower": 32}  # the study's defaults (study.beamtest)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200, help="showers per energy")
    parser.add_argument("--modules", type=int, default=20_000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--json", default=None, help="also write the measured numbers to this file")
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = shower_model("tb2018")
    groups = [(BeamConfig(particle="e+", energy_gev=e), args.events) for e in ENERGIES]
    batch = simulate_batch(groups, model, np.random.default_rng(0))
    cells, _ = event_cells(batch, {"detector": model.setup.describe()}, "simulated showers")
    n_train = int(0.8 * len(cells))
    print(
        f"{len(cells)} showers (tb2018, e+ at {', '.join(f'{e:g}' for e in ENERGIES)} GeV), torch threads: 1"
    )
    results: dict[str, dict[str, float]] = {}
    for family in FAMILIES:
        config = BeamtestAEConfig(family=family, latent_dim=16, epochs=args.epochs,
                                  batch_size=BATCH[family])  # fmt: skip
        training = train_beamtest_ae(config, cells[:n_train], cells[n_train:])
        seconds = float(np.median([r.seconds for r in training.history]))
        results[family] = {"s_per_epoch": seconds, "events_per_s": n_train / seconds,
                           "rows": training.n_train_rows}  # fmt: skip
        print(f"training {family:10s}: {seconds:.2f} s per epoch over {n_train} showers "
              f"({training.n_train_rows} rows): {n_train / seconds:,.0f} showers/s")  # fmt: skip
    rng = np.random.default_rng(1)
    tc = np.where(
        rng.random((args.modules, 48)) < 0.2, rng.exponential(4.0, (args.modules, 48)), 0.0
    )
    m_train = int(0.8 * len(tc))
    cfg = ModuleTrainingConfig(epochs=args.epochs, batch_size=128, learning_rate=3e-3)
    _, fit = train_module_autoencoder(cfg, tc[:m_train], tc[m_train:])
    m_seconds = float(np.median([r.seconds for r in fit.history]))
    modules_per_s = m_train / m_seconds
    print(
        f"training module AE   : {m_seconds:.2f} s per epoch over {m_train} modules: {modules_per_s:,.0f} modules/s"
    )
    for family, r in results.items():
        print(
            f"ratio {family:10s}: {modules_per_s / r['events_per_s']:.1f} modules per shower (same time)"
        )
    if args.json:
        write_json(args.json, {
            "benchmark": "beamtest", "hgcal_ae_version": __version__, "cpu_count": os.cpu_count(),
            "torch_threads": 1, "showers": len(cells), "train_showers": n_train,
            "families": results, "module_ae": {"modules": m_train, "s_per_epoch": m_seconds,
                                               "modules_per_s": modules_per_s},
            "modules_per_shower": {f: modules_per_s / r["events_per_s"] for f, r in results.items()},
        })  # fmt: skip


if __name__ == "__main__":
    main()
