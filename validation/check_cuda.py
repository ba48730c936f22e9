"""Prove the CUDA path: the same trainings on ``cpu`` and ``cuda`` give the same results.

Runs, from one seed each:

1. the MNIST dense and conv autoencoders (latent 32, real MNIST from the project's cache);
2. the published module autoencoder (16 x 9 bits, telescope loss) on trigger cells simulated by
   the project (ld8, odd layers);
3. a checkpoint written by a CUDA training resumed on the CPU (and the other way round).

For each it prints the per-epoch validation losses on both devices, their largest relative
difference and the time per epoch on each, and writes everything to ``summary.json``.  The
devices agree when every relative loss difference is below ``--rtol`` (default 2 %: cuDNN's
convolutions use TF32 and other summation orders, so trajectories drift apart slowly; the
first-epoch losses agree much more tightly, see the printed numbers).

Usage::

    python validation/check_cuda.py --output-dir OUT [--epochs 3] [--images 10000]

Exits 1 when CUDA is missing or a comparison fails.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

from hgcal_ae.atomic import ensure_dir, write_json
from hgcal_ae.datasets.mnist import load_cached, prepare_cache
from hgcal_ae.datasets.trigger_cells import read_trigger_cells
from hgcal_ae.metrics.emd import emd
from hgcal_ae.models.module_training import (
    ModuleTrainingConfig,
    decode_modules,
    train_module_autoencoder,
)
from hgcal_ae.models.training import TrainingConfig, train_autoencoder
from hgcal_ae.study.showers import TriggerDatasetConfig, make_trigger_dataset
from hgcal_ae.trigger.formats import tc_lsb_mip


def _images(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(array.astype(np.float32) / 255.0).unsqueeze(1)


def _compare(name: str, runs: list[list], rtol: float, devices: tuple[str, str]) -> dict:
    cpu = np.array([r.val_loss for r in runs[0]])
    gpu = np.array([r.val_loss for r in runs[1]])
    rel = np.abs(gpu - cpu) / np.abs(cpu)
    t_cpu = float(np.mean([r.seconds for r in runs[0]]))
    t_gpu = float(np.mean([r.seconds for r in runs[1]]))
    ok = bool(np.all(rel < rtol))
    print(f"{name}: val loss {devices[0]:5s} {np.array2string(cpu, precision=6)}")
    print(f"{name}: val loss {devices[1]:5s} {np.array2string(gpu, precision=6)}")
    print(
        f"{name}: max rel diff {rel.max():.2e} (first epoch {rel[0]:.2e}), "
        f"s/epoch {devices[0]} {t_cpu:.2f} {devices[1]} {t_gpu:.2f} (ratio {t_cpu / t_gpu:.1f}) -> "
        f"{'OK' if ok else 'FAIL'}"
    )
    return {
        "val_loss_cpu": cpu.tolist(),
        "val_loss_cuda": gpu.tolist(),
        "max_rel_diff": float(rel.max()),
        "first_epoch_rel_diff": float(rel[0]),
        "s_per_epoch_cpu": t_cpu,
        "s_per_epoch_cuda": t_gpu,
        "agree": ok,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--output-dir", type=Path, required=True)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--images", type=int, default=10000, help="MNIST training images")
    p.add_argument("--events", type=int, default=150, help="showers per energy for the module AE")
    p.add_argument("--rtol", type=float, default=0.02)
    p.add_argument(
        "--devices", default="cpu,cuda", help="the two devices compared (cpu,cpu tests the script)"
    )
    args = p.parse_args(argv)
    ref, dev = args.devices.split(",")
    if "cuda" in (ref, dev) and not torch.cuda.is_available():
        print("check_cuda: no CUDA device on this machine", file=sys.stderr)
        return 1
    out = ensure_dir(args.output_dir)
    summary: dict = {
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu only",
        "torch": torch.__version__,
        "epochs": args.epochs,
        "rtol": args.rtol,
    }

    # 1. MNIST autoencoders
    splits = load_cached("mnist", prepare_cache("mnist").parent)
    train, val = _images(splits.train_x[: args.images]), _images(splits.val_x[:2000])
    for arch in ("dense", "conv"):
        config = TrainingConfig(arch=arch, latent_dim=32, epochs=args.epochs, seed=7)
        runs = [train_autoencoder(config, train, val, device=d).history for d in (ref, dev)]
        summary[f"mnist_{arch}"] = _compare(f"mnist {arch}", runs, args.rtol, (ref, dev))

    # 2. the module autoencoder on simulated trigger cells
    data_path = out / "trigger_cells.h5"
    t0 = time.perf_counter()
    make_trigger_dataset(
        TriggerDatasetConfig(events_per_energy=args.events, events_per_group=1, seed=3), data_path
    )
    data, _ = read_trigger_cells(data_path)
    summary["trigger_dataset_s"] = time.perf_counter() - t0
    event = data.event
    train_rows = event % 5 != 0
    tc_train, tc_val = data.tc[train_rows], data.tc[~train_rows]
    summary["modules"] = {"train": len(tc_train), "val": len(tc_val)}
    config = ModuleTrainingConfig(epochs=args.epochs, seed=5)
    runs, models = [], []
    for device in (ref, dev):
        model, fit = train_module_autoencoder(config, tc_train, tc_val, device=device)
        models.append(model.to("cpu"))
        runs.append(fit.history)
    summary["module_ae"] = _compare("module AE", runs, args.rtol, (ref, dev))
    lsb = tc_lsb_mip("ld8")
    emd_cpu, emd_gpu = (
        float(np.mean(emd(tc_val, decode_modules(m, tc_val, lsb=lsb, zero_suppress=0.1))))
        for m in models
    )
    rel = abs(emd_gpu - emd_cpu) / emd_cpu
    print(
        f"module AE: mean EMD of decoded validation modules {ref} {emd_cpu:.4f} {dev} {emd_gpu:.4f} cm"
    )
    summary["module_ae"].update(
        mean_emd_cpu_cm=emd_cpu,
        mean_emd_cuda_cm=emd_gpu,
        emd_rel_diff=rel,
        emd_agree=rel < args.rtol,
    )

    # 3. checkpoints cross devices: stop after epoch 1 on one device, finish on the other
    config = TrainingConfig(arch="conv", latent_dim=32, epochs=2, seed=11)
    cross = {}
    for first, second in ((dev, ref), (ref, dev)):
        ckpt = out / f"ckpt_{first}_then_{second}.pt"
        ckpt.unlink(missing_ok=True)
        one = TrainingConfig(**{**config.__dict__, "epochs": 1})
        train_autoencoder(one, train, val, device=first, checkpoint=ckpt)
        done = train_autoencoder(config, train, val, device=second, checkpoint=ckpt)
        straight = train_autoencoder(config, train, val, device=first)
        a, b = done.history[-1].val_loss, straight.history[-1].val_loss
        cross[f"{first}_then_{second}_{len(cross)}"] = {
            "resumed_from": done.resumed_from,
            "val_loss": a,
            "uninterrupted_val_loss": b,
            "rel_diff": abs(a - b) / b,
            "agree": done.resumed_from == 1 and abs(a - b) / b < args.rtol,
        }
        print(
            f"checkpoint {first} -> {second}: resumed after epoch {done.resumed_from}, "
            f"val loss {a:.6f} vs uninterrupted {b:.6f} on {first}"
        )
    summary["checkpoint_across_devices"] = cross

    checks = [summary[k]["agree"] for k in ("mnist_dense", "mnist_conv", "module_ae")]
    checks += [summary["module_ae"]["emd_agree"]] + [c["agree"] for c in cross.values()]
    summary["all_agree"] = bool(all(checks))
    summary["paths"] = {"summary": str(out / "summary.json"), "trigger_cells": str(data_path)}
    write_json(out / "summary.json", summary)
    print(
        "CUDA check:", "PASSED" if summary["all_agree"] else "FAILED", f"({out / 'summary.json'})"
    )
    return 0 if summary["all_agree"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
