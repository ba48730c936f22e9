"""luigi workflow of the MNIST autoencoder example.

Chain (each task's output folder is built from its parameters)::

    PrepareImages ─► TrainAutoencoder ─┬─► ReconstructionGrids ─► TrainingAnimation ─┐
                                       ├─► CostCurve ───────────────────────────────┤
                                       └─► LatentSpace ─────────────────────────────┴─► MnistExample
    MnistExample × latent dims × archs ─► LatentScan

Run it from the ``hgcal-ae`` CLI, or with luigi itself::

    luigi --module hgcal_ae.workflows.mnist MnistExample --latent-dim 28 --local-scheduler

Every task only wires: the parameters live in three shared classes (the data set, the
training settings, one model), every output is a whole-checked target, and each run calls
:mod:`hgcal_ae.models.image_example` and :mod:`hgcal_ae.plots`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import luigi

from hgcal_ae import __version__
from hgcal_ae.atomic import write_csv, write_json
from hgcal_ae.datasets.image_splits import ImageSplits
from hgcal_ae.datasets.mnist import cache_path, load_cached, prepare_cache
from hgcal_ae.errors import ConfigError
from hgcal_ae.models.autoencoders import ImageAutoencoder
from hgcal_ae.models.device import resolve_device
from hgcal_ae.models.image_example import example_summary, latent_scan, train_image_autoencoder
from hgcal_ae.models.store import encode_images, images_to_tensor, load_trained
from hgcal_ae.models.training import TrainingConfig, TrainingResult
from hgcal_ae.plots import latent_projection, latent_scan_plot, training_gif
from hgcal_ae.plots.image_example import epoch_grids, training_cost_curve
from hgcal_ae.workflows.base import HgcalTask
from hgcal_ae.workflows.targets import WholeTarget

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

    def output(self) -> WholeTarget:
        return WholeTarget(str(cache_path(self.dataset)))

    def run(self) -> None:
        self.report(0.0, f"reading and verifying {self.dataset}")
        if not self.output().exists():  # a cache that is there but not whole is built again
            Path(self.output().path).unlink(missing_ok=True)
        prepare_cache(self.dataset, self.data_dir or None)


class TrainingSettings(ImageDataParameters):
    """How models are trained, whatever their architecture and latent dim: shared by a
    single example and a latent scan."""

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

    def config_for(self, arch: str, latent_dim: int) -> TrainingConfig:
        """The training configuration of one model (validates every setting)."""
        return TrainingConfig(
            arch=arch,
            latent_dim=latent_dim,
            loss=self.loss,
            epochs=self.epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            seed=self.seed,
        )

    @property
    def settings_name(self) -> str:
        """The settings part of folder names, e.g. ``bce_seed0_e10_n2000``."""
        name = f"{self.loss}_seed{self.seed}_e{self.epochs}"
        if self.limit:
            name += f"_n{self.limit}"
        if self.batch_size != DEFAULTS.batch_size:
            name += f"_b{self.batch_size}"
        if self.learning_rate != DEFAULTS.learning_rate:
            name += f"_lr{self.learning_rate:g}"
        return name


class TrainingParameters(TrainingSettings):
    """The parameters that decide a trained model, shared by every task downstream."""

    arch = luigi.ChoiceParameter(choices=["conv", "dense"], default=DEFAULTS.arch)
    latent_dim = luigi.IntParameter(default=DEFAULTS.latent_dim)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.training_config()  # validates latent dim, epochs, batch size, learning rate

    def training_config(self) -> TrainingConfig:
        return self.config_for(self.arch, self.latent_dim)

    @property
    def run_name(self) -> str:
        """Readable folder name, e.g. ``conv_latent28_bce_seed0_e10_n2000``."""
        return f"{self.arch}_latent{self.latent_dim}_{self.settings_name}"

    @property
    def run_dir(self) -> Path:
        return self.root / self.dataset / self.run_name

    def target(self, *parts: str) -> WholeTarget:
        return self.local_target(self.dataset, self.run_name, *parts)

    def load_model(self) -> tuple[ImageAutoencoder, TrainingResult, dict[str, Any]]:
        return load_trained(Path(self.clone(TrainAutoencoder).output().path))


class TrainAutoencoder(TrainingParameters):
    """Train, checkpointing every epoch; a killed run resumes at the last finished epoch."""

    def requires(self) -> PrepareImages:
        data: PrepareImages = self.clone(PrepareImages)  # luigi's clone is unannotated
        return data

    def output(self) -> WholeTarget:
        return self.target("model.pt")

    def run(self) -> None:
        config = self.training_config()
        train_image_autoencoder(
            config, self.images(), self.output().path, limit=self.limit,
            device=resolve_device(self.device), checkpoint=self.run_dir / "checkpoint.pt",
            on_epoch=lambda r: self.report(
                r.epoch / config.epochs,
                f"epoch {r.epoch}/{config.epochs}: train {r.train_loss:.4f}, val {r.val_loss:.4f}",
            ),
            progress=os.isatty(2),
        )  # fmt: skip


class FromTrainedModel(TrainingParameters):
    """A task that draws from one trained model (``model.pt`` of :class:`TrainAutoencoder`)."""

    def requires(self) -> TrainAutoencoder:
        training: TrainAutoencoder = self.clone(TrainAutoencoder)  # luigi's clone is unannotated
        return training


class ReconstructionGrids(FromTrainedModel):
    """One PNG per epoch: the fixed validation images above their reconstructions."""

    def output(self) -> list[WholeTarget]:
        return [
            self.target("reconstructions", f"epoch_{k:03d}.png") for k in range(1, self.epochs + 1)
        ]

    def run(self) -> None:
        _, result, payload = self.load_model()
        images = self.images().val_x[payload["snapshot_index"]]
        epoch_grids(images, result, [t.path for t in self.output()])


class CostCurve(FromTrainedModel):
    """Train and validation loss against epoch."""

    def output(self) -> WholeTarget:
        return self.target("cost.png")

    def run(self) -> None:
        _, result, _ = self.load_model()
        training_cost_curve(result, self.output().path, dataset=self.dataset)


class TrainingAnimation(TrainingParameters):
    """An animated GIF of the per-epoch reconstruction grids."""

    def requires(self) -> ReconstructionGrids:
        grids: ReconstructionGrids = self.clone(ReconstructionGrids)  # luigi's clone is unannotated
        return grids

    def output(self) -> WholeTarget:
        return self.target("training.gif")

    def run(self) -> None:
        training_gif([t.path for t in self.input()], self.output().path)


class LatentSpace(FromTrainedModel):
    """The validation set's latent codes projected to 2-D, coloured by class."""

    def output(self) -> WholeTarget:
        return self.target("latent_space.png")

    def run(self) -> None:
        model, _, _ = self.load_model()
        data = self.images()
        latent_projection(
            encode_images(model, images_to_tensor(data.val_x)),
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

    def output(self) -> WholeTarget:
        return self.target("summary.json")

    def run(self) -> None:
        model, result, payload = self.load_model()
        inputs = self.input()
        outputs = {
            "model": inputs["model"].path,
            "reconstructions": [t.path for t in inputs["grids"]],
            "cost_curve": inputs["cost"].path,
            "animation": inputs["gif"].path,
            "latent_space": inputs["latent"].path,
            "summary": self.output().path,
        }
        summary = example_summary(
            model, result, payload, self.images(), limit=self.limit, outputs=outputs
        )
        write_json(self.output().path, summary)


class LatentScan(TrainingSettings):
    """Train every latent dim × arch; plot validation loss against latent dim."""

    latent_dims = luigi.ListParameter(default=(2, 4, 8, 16, 28, 32, 64))
    archs = luigi.ListParameter(default=("conv",))
    tolerance = luigi.FloatParameter(default=0.05, description="relative loss tolerance")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.latent_dims or not self.archs:
            msg = "a latent scan needs at least one latent dim and one arch"
            raise ConfigError(msg)
        if not self.tolerance >= 0:  # also catches NaN
            msg = f"tolerance must be >= 0, got {self.tolerance!r}"
            raise ConfigError(msg)
        for arch in self.archs:
            for dim in self.latent_dims:
                self.config_for(arch, dim)  # validates arch, latent dim and the settings

    def requires(self) -> dict[tuple[str, int], MnistExample]:
        return {
            (arch, int(dim)): self.clone(MnistExample, arch=arch, latent_dim=int(dim))
            for arch in self.archs
            for dim in self.latent_dims
        }

    @property
    def scan_name(self) -> str:
        """Readable folder name, e.g. ``scan_conv-dense_bce_seed0_e10_n2000``."""
        return f"scan_{'-'.join(self.archs)}_{self.settings_name}"

    @property
    def scan_dir(self) -> Path:
        return self.root / self.dataset / self.scan_name

    def output(self) -> dict[str, WholeTarget]:
        where = (self.dataset, self.scan_name)
        return {
            "plot": self.local_target(*where, "latent_scan.png"),
            "table": self.local_target(*where, "latent_scan.csv"),
            "summary": self.local_target(*where, "summary.json"),
        }

    def run(self) -> None:
        summaries = {
            key: (json.loads(Path(target.path).read_text(encoding="utf-8")), target.path)
            for key, target in self.input().items()
        }
        scan = latent_scan(summaries, loss=self.loss, tolerance=self.tolerance)
        out = {name: target.path for name, target in self.output().items()}
        write_csv(out["table"], scan.rows, scan.columns)
        latent_scan_plot(scan.losses, tolerance=self.tolerance, loss_name=self.loss.upper(),
                         path=out["plot"], smallest=scan.smallest)  # fmt: skip
        parameters = {
            k: v for k, v in self.to_str_params().items() if k not in ("device", "threads")
        }
        write_json(out["summary"], {"workflow": "mnist-scan", "hgcal_ae_version": __version__,
                                    "parameters": parameters, **scan.as_dict(), "outputs": out})  # fmt: skip
