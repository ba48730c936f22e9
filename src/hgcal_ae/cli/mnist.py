"""``hgcal-ae mnist`` and ``hgcal-ae mnist-scan``: the MNIST autoencoder example."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hgcal_ae.cli.common import (
    add_batch_options,
    add_run_options,
    batch_parameters,
    check_run_options,
    csv_items,
    read_summary,
    run_workflow,
    task_parameters,
)
from hgcal_ae.errors import ConfigError

__all__ = ["add_parsers"]


def _add_training_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("training")
    g.add_argument("--loss", default="bce", help="bce or mse (default bce)")
    g.add_argument("--epochs", type=int, default=10, help="training epochs (default 10)")
    g.add_argument(
        "--limit",
        type=int,
        default=0,
        help="train on the first K training images (default: all 50,000)",
    )
    g.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    g.add_argument("--batch-size", type=int, default=128)
    g.add_argument("--learning-rate", type=float, default=1e-3)
    g.add_argument("--dataset", default="mnist", help="mnist or fashion-mnist (default mnist)")
    g.add_argument(
        "--data-dir",
        default=os.environ.get("MNIST_DIR") or None,
        help="folder with the IDX files or mnist.pkl.gz (default $MNIST_DIR)",
    )
    g.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda or cuda:N")


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("mnist", help="train an MNIST autoencoder and draw its pictures")
    p.add_argument("--latent-dim", required=True, help="size of the latent space, 1..784")
    p.add_argument("--arch", default="conv", help="conv or dense (default conv)")
    _add_training_options(p)
    add_run_options(p)
    p.set_defaults(handler=_run)

    p = sub.add_parser("mnist-scan", help="scan the latent dimension of the MNIST autoencoder")
    p.add_argument("--latent-dims", default="2,4,8,16,28,32,64", help="comma-separated latent dims")
    p.add_argument("--arch", default="conv", help="comma-separated: conv, dense (default conv)")
    p.add_argument(
        "--tolerance",
        type=float,
        default=0.05,
        help="relative loss tolerance for the 'smallest latent dim' (default 0.05)",
    )
    _add_training_options(p)
    add_run_options(p)
    add_batch_options(p)
    p.set_defaults(handler=_run)


def _check(args: argparse.Namespace, archs: Sequence[str]) -> None:
    """Validate before anything runs, so bad input fails fast with one line and creates no
    folder (the output folder appears when the run writes into it)."""
    from hgcal_ae.datasets.catalog import dataset_spec
    from hgcal_ae.datasets.mnist import load_images
    from hgcal_ae.models.autoencoders import ARCHITECTURES
    from hgcal_ae.models.device import resolve_device
    from hgcal_ae.models.losses import image_loss

    dataset_spec(args.dataset)
    image_loss(args.loss)
    for arch in archs:
        if arch not in ARCHITECTURES:
            msg = f"unknown arch {arch!r}; expected one of {', '.join(ARCHITECTURES)}"
            raise ConfigError(msg)
    check_run_options(args)
    if args.epochs < 1:
        msg = f"--epochs must be >= 1, got {args.epochs}"
        raise ConfigError(msg)
    if args.limit < 0:
        msg = f"--limit must be >= 0 (0: all images), got {args.limit}"
        raise ConfigError(msg)
    resolve_device(args.device)
    if args.data_dir:
        load_images(args.dataset, args.data_dir)  # verify the user's files now, not mid-run


def _run(args: argparse.Namespace) -> int:
    from hgcal_ae.models.autoencoders import check_latent_dim
    from hgcal_ae.workflows import mnist as wf

    archs = csv_items(args.arch, "--arch")
    if args.command == "mnist":
        dims = [check_latent_dim(args.latent_dim)]
        if len(archs) != 1:
            msg = f"--arch takes one architecture here, got {args.arch!r}"
            raise ConfigError(msg)
    else:
        dims = [check_latent_dim(d) for d in csv_items(args.latent_dims, "--latent-dims")]
    _check(args, archs)
    common = task_parameters(
        args, "dataset", "loss", "epochs", "limit", "seed", "batch_size", "learning_rate", "device"
    )
    common["data_dir"] = args.data_dir or ""
    task: wf.MnistExample | wf.LatentScan
    if args.command == "mnist":
        task = wf.MnistExample(arch=archs[0], latent_dim=dims[0], **common)
        where = task.run_dir
    else:
        scan = {"latent_dims": dims, "archs": archs, "tolerance": args.tolerance, **common}
        task = wf.LatentScan(**scan)
        where = task.scan_dir
        if batch := batch_parameters(args):  # the trainings as a law workflow first
            from hgcal_ae.cli.common import run_grid
            from hgcal_ae.workflows.grid import TrainScanGrid

            run_grid(TrainScanGrid(**scan, **batch), args)
    run_workflow([task], args)
    _print_results(where / "summary.json", args.loss)
    print(f"done: pictures and summary.json are in {where}")
    for path in sorted(where.glob("*.png")) + sorted(where.glob("*.gif")):
        print(f"  {path}")
    if (where / "reconstructions").is_dir():
        print(f"  {where / 'reconstructions'}/epoch_*.png")
    return 0


def _print_results(summary_path: Path, loss: str) -> None:
    """The numbers a user wants to see at once: final losses, or the scan table."""
    summary = read_summary(summary_path)
    key = f"val_{loss}_per_pixel"
    if "table" not in summary:
        final = summary["final"]
        print(
            f"epoch {final['epoch']}: validation {loss.upper()} {final[key]:.4f}, test {final[f'test_{loss}_per_pixel']:.4f} per pixel"
        )
        return
    print(f"{'arch':>6} {'latent dim':>10} {'val ' + loss.upper():>10}")
    for row in summary["table"]:
        print(f"{row['arch']:>6} {row['latent_dim']:>10} {row[key]:>10.4f}")
    for arch, dim in summary["smallest_latent_dim"].items():
        print(
            f"{arch}: smallest latent dim within tolerance of the best: {dim} ({summary['criterion']})"
        )
