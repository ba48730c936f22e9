"""The MNIST example's training pictures, titled from the trained model's settings.

Public API::

    epoch_grids(images, result, paths) -> list[Path]     # one reconstruction grid per epoch
    training_cost_curve(result, path, *, dataset) -> Path
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from hgcal_ae.errors import ConfigError
from hgcal_ae.models.training import TrainingResult
from hgcal_ae.plots.curves import cost_curve
from hgcal_ae.plots.images import reconstruction_grid

__all__ = ["epoch_grids", "training_cost_curve"]

PathLike = str | os.PathLike[str]


def epoch_grids(
    images: npt.NDArray[np.uint8], result: TrainingResult, paths: Sequence[PathLike]
) -> list[Path]:
    """Draw, for every epoch, the fixed images above their reconstructions after that epoch.

    Parameters
    ----------
    images
        The fixed validation images, ``uint8`` of shape ``(k, 28, 28)``, in the order of
        ``result.snapshots``' second axis.
    result
        The trained model's history and per-epoch reconstructions ``(epochs, k, 28, 28)``.
    paths
        One destination per epoch of ``result.history``.
    """
    if len(paths) != len(result.history) or len(result.snapshots) != len(result.history):
        msg = (
            f"expected one path and one snapshot per epoch ({len(result.history)}), "
            f"got {len(paths)} paths and {len(result.snapshots)} snapshots"
        )
        raise ConfigError(msg)
    config = result.config
    inputs = images.astype(np.float32) / 255.0
    return [
        reconstruction_grid(
            inputs,
            snapshot,
            title=f"{config.arch} AE, latent dim {config.latent_dim} — epoch {record.epoch}/{config.epochs}"
            f" — val {config.loss.upper()} {record.val_loss:.4f}",
            path=path,
        )
        for record, snapshot, path in zip(result.history, result.snapshots, paths, strict=True)
    ]


def training_cost_curve(result: TrainingResult, path: PathLike, *, dataset: str) -> Path:
    """Training and validation loss of ``result`` against epoch, titled with its model."""
    config = result.config
    return cost_curve(
        [r.epoch for r in result.history],
        [r.train_loss for r in result.history],
        [r.val_loss for r in result.history],
        loss_name=config.loss.upper(),
        title=f"{dataset}: {config.arch} AE, latent dim {config.latent_dim}",
        path=path,
    )
