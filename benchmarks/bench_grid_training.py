"""The AE grid trained together against one AE at a time: module-passes per second, one run.

The default preset's showers (signal occupancy, simulated here: about 10 s) and its grid of
module AEs (``preset.ae_grid()``: 14 points, latent dims 2-24 × 3/5/9 bits; ``--members N``
takes the first N), each with the preset's training settings (batch 128, telescope loss)
but ``--epochs`` epochs.  The same grid is trained twice on the same training modules:

* **one at a time**: ``train_module_autoencoder`` per point, today's loop
  (one TrainModuleAE task after another);
* **together**: ``train_module_grid`` (``hgcal_ae.models.grid_training``), one stack.

A module-pass is one training module through one AE, forward and backward; both timings
include each epoch's validation loss, as the study's trainings do.  Prints passes per
second of both and the ratio (goal: >= 3x on 2 CPU cores, issue 10), and the CPU figure
against the model: torch's FLOP count of one module-pass (``FlopCounterMode``, forward and
backward with the telescope loss, mean over the grid) times the passes per second, against
the rate of a large float32 matrix product on the same threads (what the cores do at best).
The two kinds of run alternate over ``--repeat`` pairs (one at a time first), so that slow
drifts of a shared machine hit both alike; the ratio is of the summed times.

Usage: python benchmarks/bench_grid_training.py [--members 14] [--epochs 1] [--threads 2]
                                                [--repeat 1] [--json PATH]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from hgcal_ae import __version__
from hgcal_ae.atomic import write_json
from hgcal_ae.datasets.splits import split_rows
from hgcal_ae.datasets.trigger_cells import read_trigger_cells
from hgcal_ae.models.grid_training import train_module_grid
from hgcal_ae.models.module_ae import ModuleAutoencoder
from hgcal_ae.models.module_losses import module_loss
from hgcal_ae.models.module_training import (
    ModuleTrainingConfig,
    module_inputs,
    train_module_autoencoder,
)
from hgcal_ae.study.presets import study_preset
from hgcal_ae.study.showers import make_trigger_dataset

GOAL = 3.0


def _flops_per_pass(config: ModuleTrainingConfig) -> float:
    """torch's FLOP count of one module through the AE, forward and backward, with its loss."""
    model = ModuleAutoencoder(config.ae_config())
    images = torch.rand(64, 1, 8, 8)
    with FlopCounterMode(display=False) as counter:
        module_loss(config.loss)(images, model(images)).backward()  # type: ignore[no-untyped-call]
    return counter.get_total_flops() / len(images)


def _matmul_gflops() -> float:
    """float32 GFLOP/s of a 2048 x 1024 x 1024 matrix product on torch's threads (best of 5)."""
    a, b = torch.rand(2048, 1024), torch.rand(1024, 1024)
    a @ b
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * 2048 * 1024 * 1024 / best / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=None, help="the grid's first N points")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1, help="pairs of runs (default 1)")
    parser.add_argument("--json", default=None, help="also write the measured numbers to this file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    preset = study_preset("default")
    with tempfile.TemporaryDirectory() as tmp:
        make_trigger_dataset(preset.dataset_config("signal"), Path(tmp) / "tc.h5")
        rows, _ = read_trigger_cells(Path(tmp) / "tc.h5")
    train, val, _ = split_rows(rows.event, preset.split, seed=preset.seed)
    train_tc, val_tc = rows.tc[train], rows.tc[val]
    n_train = int((module_inputs(train_tc)[1] > 0).sum())  # non-empty modules: what trains
    grid = preset.ae_grid()[: args.members]
    configs = [
        dataclasses.replace(preset.training_config(d, b), epochs=args.epochs) for d, b in grid
    ]
    passes = n_train * args.epochs * len(configs)
    print(f"default preset grid: {len(configs)} AEs ({', '.join(f'{d}x{b}' for d, b in grid)}), "
          f"{n_train:,} training modules, {args.epochs} epoch(s), batch {configs[0].batch_size}, "
          f"torch threads: {args.threads}, CPU cores: {os.cpu_count()}", flush=True)  # fmt: skip

    load_before = os.getloadavg()[0]
    seconds: dict[str, list[float]] = {"one_at_a_time": [], "grid": []}
    order = [k for p in range(args.repeat)
             for k in (("one_at_a_time", "grid"), ("grid", "one_at_a_time"))[p % 2]]  # fmt: skip
    for kind in order:
        t0 = time.perf_counter()
        if kind == "grid":
            train_module_grid(configs, train_tc, val_tc)
        else:
            for config in configs:
                train_module_autoencoder(config, train_tc, val_tc)
        seconds[kind].append(time.perf_counter() - t0)
        print(f"{kind:14s} {seconds[kind][-1]:7.1f} s  "
              f"{passes / seconds[kind][-1]:9,.0f} module-passes/s", flush=True)  # fmt: skip
    load_after = os.getloadavg()[0]

    rate = {k: passes * len(v) / sum(v) for k, v in seconds.items()}
    ratio = rate["grid"] / rate["one_at_a_time"]
    flops = float(np.mean([_flops_per_pass(c) for c in configs]))
    peak = _matmul_gflops()
    achieved = {k: r * flops / 1e9 for k, r in rate.items()}
    print(f"grid together / one at a time = {ratio:.2f}x "
          f"(goal >= {GOAL:g}x: {'met' if ratio >= GOAL else 'MISSED'}); "
          f"load average {load_before:.1f} before, {load_after:.1f} after")  # fmt: skip
    print(f"model: {flops / 1e3:,.0f} kFLOP per module-pass (forward + backward, torch's count); "
          f"together {achieved['grid']:.2f} GFLOP/s, one at a time "
          f"{achieved['one_at_a_time']:.2f} GFLOP/s, against {peak:.1f} GFLOP/s of a float32 "
          f"matrix product on {args.threads} threads ({100 * achieved['grid'] / peak:.1f} % "
          f"and {100 * achieved['one_at_a_time'] / peak:.1f} % of it)")  # fmt: skip
    if args.json:
        write_json(args.json, {
            "benchmark": "grid_training", "hgcal_ae_version": __version__,
            "cpu_count": os.cpu_count(), "torch_threads": args.threads, "members": len(configs),
            "grid": [list(p) for p in grid], "epochs": args.epochs, "train_modules": n_train,
            "module_passes": passes, "seconds": seconds, "passes_per_s": rate, "ratio": ratio,
            "goal": GOAL, "met": ratio >= GOAL, "flops_per_pass": flops,
            "gflops": achieved, "matmul_gflops": peak, "load_average": [load_before, load_after],
        })  # fmt: skip


if __name__ == "__main__":
    main()
