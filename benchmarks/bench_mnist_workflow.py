"""Overhead of the luigi workflow over a bare PyTorch loop, measured in one run.

Both train the same model (conv autoencoder, latent dim 28, BCE, Adam, batch 128) on the same
50,000 real MNIST digits with the same torch thread count, alternating A/B so that machine
noise hits both alike.  The bare loop computes the validation loss each epoch, as any
training script does; the workflow also checkpoints, keeps the per-epoch reconstructions,
and then draws its pictures and writes summary.json.

Prints two ratios:

* per epoch: the workflow's epoch (from its history) over the bare loop's epoch (goal <= 1.10);
* end to end: the whole workflow (data from the cache, training, every picture, the summary)
  over the bare loop (data from the cache, training) for the same number of epochs.

With ``--json PATH`` the measured numbers are also written to PATH (``hgcal-ae docs`` makes
the benchmark table of docs/benchmarks.md from it).

Usage: python benchmarks/bench_mnist_workflow.py [--epochs 3] [--repeats 2] [--arch conv] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch

from hgcal_ae import __version__
from hgcal_ae.atomic import write_json
from hgcal_ae.datasets.mnist import load_images, prepare_cache
from hgcal_ae.models.autoencoders import build_autoencoder
from hgcal_ae.models.store import images_to_tensor
from hgcal_ae.workflows.mnist import MnistExample
from hgcal_ae.workflows.runner import run_tasks


def bare_loop(arch: str, epochs: int, seed: int) -> tuple[float, list[float]]:
    """Load the cached data and train with a plain loop; return total and per-epoch seconds."""
    t0 = time.perf_counter()
    data = load_images("mnist")
    x, v = images_to_tensor(data.train_x), images_to_tensor(data.val_x)
    torch.manual_seed(seed)
    model = build_autoencoder(arch, 28)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    per_epoch = []
    for _ in range(epochs):
        te = time.perf_counter()
        model.train()
        for idx in torch.randperm(len(x)).split(128):
            batch = x[idx]
            opt.zero_grad()
            loss = loss_fn(model(batch), batch)
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            val = sum(float(loss_fn(model(b), b)) * len(b) for b in v.split(1000)) / len(v)
        per_epoch.append(time.perf_counter() - te)
    assert val < 0.3
    return time.perf_counter() - t0, per_epoch


GOAL_RATIO = 1.10  # the workflow's epoch at most 10 % slower than the bare loop's


def workflow(arch: str, epochs: int, seed: int, out: Path) -> tuple[float, list[float]]:
    t0 = time.perf_counter()
    task = MnistExample(
        output_dir=str(out), arch=arch, latent_dim=28, epochs=epochs, seed=seed, device="cpu"
    )
    run_tasks([task])
    total = time.perf_counter() - t0
    summary = json.loads(Path(task.output().path).read_text())
    return total, [h["seconds"] for h in summary["history"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--arch", default="conv")
    parser.add_argument("--json", default=None, help="also write the measured numbers to this file")
    args = parser.parse_args()
    prepare_cache("mnist")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, arch {args.arch}, "
          f"{args.epochs} epochs x {args.repeats} repeats, 50,000 training digits")  # fmt: skip
    bare_total, bare_epoch, wf_total, wf_epoch = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            t, e = bare_loop(args.arch, args.epochs, seed=r)
            bare_total.append(t)
            bare_epoch += e
            t, e = workflow(args.arch, args.epochs, seed=r, out=Path(tmp) / f"run{r}")
            wf_total.append(t)
            wf_epoch += e
            print(f"repeat {r}: bare {bare_total[-1]:.1f} s, workflow {wf_total[-1]:.1f} s")
    be, we = statistics.median(bare_epoch), statistics.median(wf_epoch)
    bt, wt = statistics.median(bare_total), statistics.median(wf_total)
    print(f"per epoch  : bare {be:.2f} s, workflow {we:.2f} s, ratio {we / be:.3f} "
          f"(overhead {100 * (we / be - 1):+.1f} %, goal <= {100 * (GOAL_RATIO - 1):+.0f} %)")  # fmt: skip
    print(f"end to end : bare {bt:.1f} s, workflow {wt:.1f} s, ratio {wt / bt:.3f} "
          f"(overhead {100 * (wt / bt - 1):+.1f} %; includes drawing {args.epochs} grids, cost curve, GIF, "
          "latent projection and the test-set loss)")  # fmt: skip
    if args.json:
        write_json(args.json, {
            "benchmark": "mnist_workflow", "hgcal_ae_version": __version__, "cpu_count": os.cpu_count(),
            "arch": args.arch, "epochs": args.epochs, "repeats": args.repeats,
            "torch_threads": torch.get_num_threads(),
            "per_epoch": {"bare_s": be, "workflow_s": we, "ratio": we / be, "goal_ratio": GOAL_RATIO},
            "end_to_end": {"bare_s": bt, "workflow_s": wt, "ratio": wt / bt},
        })  # fmt: skip


if __name__ == "__main__":
    main()
