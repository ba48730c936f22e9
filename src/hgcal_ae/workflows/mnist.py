"""luigi workflow of the MNIST autoencoder example.

Chain (each task's output folder is built from its parameters)::

    PrepareImages ─► TrainAutoencoder ─┬─► ReconstructionGrids ─► TrainingAnimation ─┐
                                       ├─► CostCurve ───────────────────────────────┤
                                       └─► LatentSpace ─────────────────────────────┴─► MnistExample
    MnistExample × latent dims × archs ─► LatentScan

Run it from the ``hgcal-ae`` CLI, or with luigi itself::

    luigi --module hgcal_ae.workflows.mnist MnistExample --latent-dim 28 --local-scheduler
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import luigi
import numpy as np
import torch

from hgcal_ae import __version__
from hgcal_ae.atomic import write_csv, write_json
from hgcal_ae.datasets.mnist import (
    ImageSplits,
    cache_path,
    first_of_each_class,
    load_cached,
    prepare_cache,
)
from hgcal_ae.errors import ConfigError
from hgcal_ae.models.autoencoders import check_latent_dim
from hgcal_ae.models.device import resolve_device
from hgcal_ae.models.scan import smallest_within_tolerance
from hgcal_ae.models.store import encode_images, images_to_tensor, load_trained, save_trained
from hgcal_ae.models.training import TrainingConfig, evaluate_loss, train_autoencoder
from hgcal_ae.plots import (
    cost_curve,
    latent_projection,
    latent_scan_plot,
    reconstruction_grid,
    training_gif,
)
from hgcal_ae.workflows.base import HgcalTask

__all__ = [
    "CostCurve",
    "LatentScan",
    "LatentSpace",
    "MnistExample",
    "PrepareImages",
    "ReconstructionGrids",
    "TrainAutoencoder",
    "TrainingAnimation",
]

DEFAULTS = TrainingConfig()


class ImageDataParameters(HgcalTask):
    dataset = luigi.ChoiceParameter(choices=["mnist", "fashion-mnist"], default="mnist")
    data_dir = luigi.Parameter(
        default="",
        significant=False,
        description="folder with the IDX files or mnist.pkl.gz ($MNIST_DIR)",
    )

    def images(self) -> ImageSplits:
        """The verified, cached data set (built by :class:`PrepareImages`)."""
        return load_cached(self.dataset)


class PrepareImages(ImageDataParameters):
    """Convert the data set once into the compact, verified cache (``$HGCAL_AE_CACHE``)."""

    def output(self) -> luigi.LocalTarget:
        return luigi.LocalTarget(str(cache_path(self.dataset)))

    def run(self) -> None:
        self.report(0.0, f"reading and verifying {self.dataset}")
        prepare_cache(self.dataset, self.data_dir or None)


class TrainingParameters(ImageDataParameters):
    """The parameters that decide a trained model, shared by every task downstream."""

    arch = luigi.ChoiceParameter(choices=["conv", "dense"], default=DEFAULTS.arch)
    latent_dim = luigi.IntParameter(default=DEFAULTS.latent_dim)
    loss = luigi.ChoiceParameter(choices=["bce", "mse"], default=DEFAULTS.loss)
    epochs = luigi.IntParameter(default=DEFAULTS.epochs)
    limit = luigi.IntParameter(
        default=0, description="train on the first K training images (0: all)"
    )
    seed = luigi.IntParameter(default=DEFAULTS.seed)
    batch_size = luigi.IntParameter(default=DEFAULTS.batch_size)
    learning_rate = luigi.FloatParameter(default=DEFAULTS.learning_rate)
    device = luigi.Parameter(
        default="auto", significant=False, description="auto, cpu, cuda or cuda:N"
    )
    threads = luigi.IntParameter(
        default=0,
        significant=False,
        description="torch CPU threads (0: $HGCAL_AE_THREADS_PER_WORKER, i.e. cores // workers)",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.limit < 0:
            msg = f"limit must be >= 0 (0 means all images), got {self.limit}"
            raise ConfigError(msg)
        self.training_config()  # validates latent dim, epochs, batch size, learning rate

    def training_config(self) -> TrainingConfig:
        return TrainingConfig(
            arch=self.arch,
            latent_dim=self.latent_dim,
            loss=self.loss,
            epochs=self.epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            seed=self.seed,
        )

    @property
    def run_name(self) -> str:
        """Readable folder name, e.g. ``conv_latent28_bce_seed0_e10_n2000``."""
        name = f"{self.arch}_latent{self.latent_dim}_{self.loss}_seed{self.seed}_e{self.epochs}"
        if self.limit:
            name += f"_n{self.limit}"
        if self.batch_size != DEFAULTS.batch_size:
            name += f"_b{self.batch_size}"
        if self.learning_rate != DEFAULTS.learning_rate:
            name += f"_lr{self.learning_rate:g}"
        return name

    @property
    def run_dir(self) -> Path:
        return self.root / self.dataset / self.run_name

    def target(self, *parts: str) -> luigi.LocalTarget:
        return self.local_target(self.dataset, self.run_name, *parts)

    def load_model(self) -> tuple[torch.nn.Module, Any, dict[str, Any]]:
        return load_trained(Path(self.input_model().path))

    def input_model(self) -> luigi.LocalTarget:
        return self.clone(TrainAutoencoder).output()


class TrainAutoencoder(TrainingParameters):
    """Train, checkpointing every epoch; a killed run resumes at the last finished epoch."""

    def requires(self) -> PrepareImages:
        return self.clone(PrepareImages)

    def output(self) -> luigi.LocalTarget:
        return self.target("model.pt")

    def run(self) -> None:
        device = resolve_device(self.device)
        data = self.images()
        train_x = data.train_x[: self.limit or None]
        snaps = first_of_each_class(data.val_y, len(data.class_names))
        config = self.training_config()

        def on_epoch(record: Any) -> None:
            self.report(
                record.epoch / config.epochs,
                f"epoch {record.epoch}/{config.epochs}: train {record.train_loss:.4f}, val {record.val_loss:.4f}",
            )

        t0 = time.time()
        result = train_autoencoder(
            config,
            images_to_tensor(train_x),
            images_to_tensor(data.val_x),
            device=device,
            checkpoint=self.run_dir / "checkpoint.pt",
            snapshot_images=images_to_tensor(data.val_x[snaps]),
            on_epoch=on_epoch,
            progress=os.isatty(2),
        )
        save_trained(
            Path(self.output().path),
            result,
            snapshot_index=snaps,
            snapshot_labels=data.val_y[snaps],
            device=str(device),
            n_train=len(train_x),
            task_seconds=time.time() - t0,
        )
        (self.run_dir / "checkpoint.pt").unlink(missing_ok=True)


class ReconstructionGrids(TrainingParameters):
    """One PNG per epoch: the fixed validation images above their reconstructions."""

    def requires(self) -> TrainAutoencoder:
        return self.clone(TrainAutoencoder)

    def output(self) -> list[luigi.LocalTarget]:
        return [
            self.target("reconstructions", f"epoch_{k:03d}.png") for k in range(1, self.epochs + 1)
        ]

    def run(self) -> None:
        _, result, payload = self.load_model()
        data = self.images()
        inputs = data.val_x[payload["snapshot_index"]].astype(np.float32) / 255.0
        for record, snap, target in zip(
            result.history, result.snapshots, self.output(), strict=True
        ):
            title = (
                f"{self.arch} AE, latent dim {self.latent_dim} — epoch {record.epoch}/{self.epochs}"
                f" — val {self.loss.upper()} {record.val_loss:.4f}"
            )
            reconstruction_grid(inputs, snap, title=title, path=target.path)


class CostCurve(TrainingParameters):
    """Train and validation loss against epoch."""

    def requires(self) -> TrainAutoencoder:
        return self.clone(TrainAutoencoder)

    def output(self) -> luigi.LocalTarget:
        return self.target("cost.png")

    def run(self) -> None:
        _, result, _ = self.load_model()
        cost_curve(
            [r.epoch for r in result.history],
            [r.train_loss for r in result.history],
            [r.val_loss for r in result.history],
            loss_name=self.loss.upper(),
            title=f"{self.dataset}: {self.arch} AE, latent dim {self.latent_dim}",
            path=self.output().path,
        )


class TrainingAnimation(TrainingParameters):
    """An animated GIF of the per-epoch reconstruction grids."""

    def requires(self) -> ReconstructionGrids:
        return self.clone(ReconstructionGrids)

    def output(self) -> luigi.LocalTarget:
        return self.target("training.gif")

    def run(self) -> None:
        training_gif([t.path for t in self.input()], self.output().path)


class LatentSpace(TrainingParameters):
    """The validation set's latent codes projected to 2-D, coloured by class."""

    def requires(self) -> TrainAutoencoder:
        return self.clone(TrainAutoencoder)

    def output(self) -> luigi.LocalTarget:
        return self.target("latent_space.png")

    def run(self) -> None:
        model, _, _ = self.load_model()
        data = self.images()
        latents = encode_images(model, images_to_tensor(data.val_x))
        latent_projection(
            latents,
            data.val_y,
            class_names=list(data.class_names),
            title=f"{self.dataset} validation set, {self.arch} AE latent dim {self.latent_dim}",
            path=self.output().path,
        )


class MnistExample(TrainingParameters):
    """The whole example for one setting; writes ``summary.json``."""

    def requires(self) -> dict[str, luigi.Task]:
        return {
            "model": self.clone(TrainAutoencoder),
            "grids": self.clone(ReconstructionGrids),
            "cost": self.clone(CostCurve),
            "gif": self.clone(TrainingAnimation),
            "latent": self.clone(LatentSpace),
        }

    def output(self) -> luigi.LocalTarget:
        return self.target("summary.json")

    def run(self) -> None:
        model, result, payload = self.load_model()
        data = self.images()
        test_loss = evaluate_loss(model, images_to_tensor(data.test_x), self.loss)
        inputs = self.input()
        last = result.history[-1]
        summary = {
            "workflow": "mnist",
            "hgcal_ae_version": __version__,
            "parameters": {**result.config.__dict__, "dataset": self.dataset, "limit": self.limit},
            "data": {**data.summary(), "train_used": int(payload["n_train"])},
            "device": payload["device"],
            "history": [r.__dict__ for r in result.history],
            "final": {
                "epoch": last.epoch,
                f"train_{self.loss}_per_pixel": last.train_loss,
                f"val_{self.loss}_per_pixel": last.val_loss,
                f"test_{self.loss}_per_pixel": test_loss,
            },
            "resumed_from_epoch": result.resumed_from,
            "wall_time_s": {"training": result.wall_time_s, "train_task": payload["task_seconds"]},
            "outputs": {
                "model": inputs["model"].path,
                "reconstructions": [t.path for t in inputs["grids"]],
                "cost_curve": inputs["cost"].path,
                "animation": inputs["gif"].path,
                "latent_space": inputs["latent"].path,
                "summary": self.output().path,
            },
        }
        write_json(self.output().path, summary)


class LatentScan(ImageDataParameters):
    """Train every latent dim × arch; plot validation loss against latent dim."""

    latent_dims = luigi.ListParameter(default=[2, 4, 8, 16, 28, 32, 64])
    archs = luigi.ListParameter(default=["conv"])
    loss = luigi.ChoiceParameter(choices=["bce", "mse"], default=DEFAULTS.loss)
    epochs = luigi.IntParameter(default=DEFAULTS.epochs)
    limit = luigi.IntParameter(default=0)
    seed = luigi.IntParameter(default=DEFAULTS.seed)
    tolerance = luigi.FloatParameter(default=0.05, description="relative loss tolerance")
    device = luigi.Parameter(default="auto", significant=False)
    threads = luigi.IntParameter(default=0, significant=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.latent_dims or not self.archs:
            msg = "a latent scan needs at least one latent dim and one arch"
            raise ConfigError(msg)
        for dim in self.latent_dims:
            check_latent_dim(dim)
        for arch in self.archs:
            if arch not in ("conv", "dense"):
                msg = f"unknown arch {arch!r}; expected one of conv, dense"
                raise ConfigError(msg)

    def requires(self) -> dict[tuple[str, int], MnistExample]:
        return {
            (arch, int(dim)): MnistExample(
                output_dir=self.output_dir,
                dataset=self.dataset,
                data_dir=self.data_dir,
                arch=arch,
                latent_dim=int(dim),
                loss=self.loss,
                epochs=self.epochs,
                limit=self.limit,
                seed=self.seed,
                device=self.device,
                threads=self.threads,
            )
            for arch in self.archs
            for dim in self.latent_dims
        }

    @property
    def scan_dir(self) -> Path:
        name = f"scan_{'-'.join(self.archs)}_{self.loss}_seed{self.seed}_e{self.epochs}"
        if self.limit:
            name += f"_n{self.limit}"
        return self.root / self.dataset / name

    def output(self) -> dict[str, luigi.LocalTarget]:
        return {
            "plot": luigi.LocalTarget(str(self.scan_dir / "latent_scan.png")),
            "table": luigi.LocalTarget(str(self.scan_dir / "latent_scan.csv")),
            "summary": luigi.LocalTarget(str(self.scan_dir / "summary.json")),
        }

    def run(self) -> None:
        import json

        key = f"val_{self.loss}_per_pixel"
        rows = []
        for (arch, dim), target in sorted(self.input().items()):
            with open(target.path, encoding="utf-8") as fh:
                s = json.load(fh)
            rows.append({"arch": arch, "latent_dim": dim, key: s["final"][key],
                         f"test_{self.loss}_per_pixel": s["final"][f"test_{self.loss}_per_pixel"],
                         "training_s": s["wall_time_s"]["training"], "summary": target.path})  # fmt: skip
        results = {
            a: [(r["latent_dim"], r[key]) for r in rows if r["arch"] == a] for a in self.archs
        }
        smallest = {a: smallest_within_tolerance(pts, self.tolerance) for a, pts in results.items()}
        out = self.output()
        write_csv(out["table"].path, rows, list(rows[0]))
        latent_scan_plot(
            results,
            tolerance=self.tolerance,
            loss_name=self.loss.upper(),
            path=out["plot"].path,
            smallest=smallest,
        )
        write_json(
            out["summary"].path,
            {
                "workflow": "mnist-scan",
                "hgcal_ae_version": __version__,
                "parameters": {
                    k: v for k, v in self.to_str_params().items() if k not in ("device", "threads")
                },
                "criterion": f"smallest latent dim with validation {self.loss.upper()} <= best * (1 + {self.tolerance})",
                "smallest_latent_dim": smallest,
                "best": {a: min(pts, key=lambda p: p[1]) for a, pts in results.items()},
                "table": rows,
                "outputs": {k: t.path for k, t in out.items()},
            },
        )
