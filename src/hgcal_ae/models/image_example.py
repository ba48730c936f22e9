"""The MNIST example's steps as plain functions: train and save, summarise, scan.

Public API::

    train_image_autoencoder(config, data, path, *, limit=0, device="cpu", checkpoint=None,
                            on_epoch=None, progress=False) -> Path
    example_summary(model, result, payload, data, *, limit, outputs) -> dict
    latent_scan(summaries, *, loss, tolerance) -> LatentScanResult

``hgcal_ae.workflows.mnist`` wires them into luigi tasks; they run without luigi too.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from hgcal_ae import __version__
from hgcal_ae.datasets.image_splits import ImageSplits, first_of_each_class
from hgcal_ae.errors import ConfigError
from hgcal_ae.models.scan import smallest_within_tolerance
from hgcal_ae.models.store import images_to_tensor, save_trained
from hgcal_ae.models.training import (
    EpochRecord,
    TrainingConfig,
    TrainingResult,
    evaluate_loss,
    train_autoencoder,
)

__all__ = ["LatentScanResult", "example_summary", "latent_scan", "train_image_autoencoder"]

PathLike = str | os.PathLike[str]


def train_image_autoencoder(
    config: TrainingConfig,
    data: ImageSplits,
    path: PathLike,
    *,
    limit: int = 0,
    device: torch.device | str = "cpu",
    checkpoint: Path | None = None,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    progress: bool = False,
) -> Path:
    """Train on the first ``limit`` training images (0: all) and save ``model.pt`` at ``path``.

    The first validation image of each class is reconstructed after every epoch (the
    snapshots of :func:`~hgcal_ae.models.training.train_autoencoder`); their indices and
    labels, the device, the number of training images and the wall time go into the file.
    A finished training removes its ``checkpoint``; a killed one resumes from it.

    Raises
    ------
    ConfigError
        If ``limit`` is negative.
    OutputError
        If ``path`` cannot be written (a full disk included); nothing is left at ``path``.
    """
    if limit < 0:
        msg = f"limit must be >= 0 (0 means all images), got {limit}"
        raise ConfigError(msg)
    train_x = data.train_x[: limit or None]
    snaps = first_of_each_class(data.val_y, len(data.class_names))
    t0 = time.time()
    result = train_autoencoder(
        config,
        images_to_tensor(train_x),
        images_to_tensor(data.val_x),
        device=device,
        checkpoint=checkpoint,
        snapshot_images=images_to_tensor(data.val_x[snaps]),
        on_epoch=on_epoch,
        progress=progress,
    )
    save_trained(
        Path(path),
        result,
        snapshot_index=snaps,
        snapshot_labels=data.val_y[snaps],
        device=str(device),
        n_train=len(train_x),
        task_seconds=time.time() - t0,
    )
    if checkpoint is not None:
        checkpoint.unlink(missing_ok=True)
    return Path(path)


def example_summary(
    model: nn.Module,
    result: TrainingResult,
    payload: Mapping[str, Any],
    data: ImageSplits,
    *,
    limit: int,
    outputs: Mapping[str, Any],
) -> dict[str, Any]:
    """The content of one example's ``summary.json``, with the test loss measured here.

    Parameters
    ----------
    model, result, payload
        What :func:`~hgcal_ae.models.store.load_trained` returns for the trained model.
    data
        The data set it was trained on; its test split gives the test loss.
    limit
        The number of training images asked for (0: all).
    outputs
        The files of the example by name (paths, or lists of paths).
    """
    loss = result.config.loss
    test_loss = evaluate_loss(model, images_to_tensor(data.test_x), loss)
    last = result.history[-1]
    return {
        "workflow": "mnist",
        "hgcal_ae_version": __version__,
        "parameters": {**result.config.__dict__, "dataset": data.name, "limit": limit},
        "data": {**data.summary(), "train_used": int(payload["n_train"])},
        "device": payload["device"],
        "history": [r.__dict__ for r in result.history],
        "final": {
            "epoch": last.epoch,
            f"train_{loss}_per_pixel": last.train_loss,
            f"val_{loss}_per_pixel": last.val_loss,
            f"test_{loss}_per_pixel": test_loss,
        },
        "resumed_from_epoch": result.resumed_from,
        "wall_time_s": {"training": result.wall_time_s, "train_task": payload["task_seconds"]},
        "outputs": dict(outputs),
    }


@dataclass(frozen=True)
class LatentScanResult:
    """A latent-dimension scan: one table row per trained example, and the answers."""

    rows: list[dict[str, Any]]
    losses: dict[str, list[tuple[int, float]]]  # arch -> (latent dim, validation loss)
    smallest: dict[str, int]  # arch -> smallest latent dim within the tolerance
    criterion: str

    @property
    def columns(self) -> list[str]:
        return list(self.rows[0])

    def as_dict(self) -> dict[str, Any]:
        """The criterion, the answers, the best point per arch and the table."""
        return {
            "criterion": self.criterion,
            "smallest_latent_dim": self.smallest,
            "best": {a: min(pts, key=lambda p: p[1]) for a, pts in self.losses.items()},
            "table": self.rows,
        }


def latent_scan(
    summaries: Mapping[tuple[str, int], tuple[Mapping[str, Any], PathLike]],
    *,
    loss: str,
    tolerance: float,
) -> LatentScanResult:
    """Tabulate the examples of a scan and find the smallest good-enough latent dim per arch.

    Parameters
    ----------
    summaries
        ``(arch, latent_dim)`` -> (the example's ``summary.json`` content, its path).
    loss
        The loss the examples were trained with (``"bce"`` or ``"mse"``).
    tolerance
        Relative tolerance on the validation loss (:func:`smallest_within_tolerance`).
    """
    if not summaries:
        msg = "a latent scan needs at least one trained example"
        raise ConfigError(msg)
    key, test_key = f"val_{loss}_per_pixel", f"test_{loss}_per_pixel"
    rows = [
        {"arch": arch, "latent_dim": dim, key: s["final"][key], test_key: s["final"][test_key],
         "training_s": s["wall_time_s"]["training"], "summary": os.fspath(path)}
        for (arch, dim), (s, path) in sorted(summaries.items())
    ]  # fmt: skip
    archs: Sequence[str] = list(dict.fromkeys(arch for arch, _ in summaries))
    losses = {a: [(r["latent_dim"], r[key]) for r in rows if r["arch"] == a] for a in archs}
    return LatentScanResult(
        rows=rows,
        losses=losses,
        smallest={a: smallest_within_tolerance(pts, tolerance) for a, pts in losses.items()},
        criterion=f"smallest latent dim with validation {loss.upper()} <= best * (1 + {tolerance})",
    )
