"""TensorBoard event files of a training, beside its checkpoint (an optional extra).

Every training of the package goes through :func:`hgcal_ae.models.training.fit`; when it
is given a checkpoint file, it also writes the losses and the time of each epoch as
TensorBoard scalars into ``<checkpoint folder>/tensorboard/``, so that

    tensorboard --logdir output/

shows every training of a run (a whole AE grid, a latent scan) side by side.  The event
files need the ``tensorboard`` package (``pip install 'hgcal-ae[tensorboard]'``, no
TensorFlow); without it training runs exactly the same and writes no event files.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Protocol

__all__ = ["TENSORBOARD_DIR", "EpochLogger", "epoch_logger"]

TENSORBOARD_DIR = "tensorboard"
"""The folder of the event files, beside the training's checkpoint."""


class _Record(Protocol):  # models.training.EpochRecord (which imports this module)
    @property
    def epoch(self) -> int: ...
    @property
    def train_loss(self) -> float: ...
    @property
    def val_loss(self) -> float: ...
    @property
    def seconds(self) -> float: ...


class EpochLogger:
    """Writes one epoch's losses and seconds as TensorBoard scalars; flushed every epoch,
    so a training that is stopped leaves the epochs it finished."""

    def __init__(self, writer: Any) -> None:
        self._writer = writer

    def __call__(self, record: _Record) -> None:
        self._writer.add_scalar("loss/train", record.train_loss, record.epoch)
        self._writer.add_scalar("loss/validation", record.val_loss, record.epoch)
        self._writer.add_scalar("seconds_per_epoch", record.seconds, record.epoch)
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()


def epoch_logger(checkpoint: Path) -> EpochLogger | None:
    """An :class:`EpochLogger` writing into ``<checkpoint folder>/tensorboard``, or None
    when the ``tensorboard`` package is not installed."""
    with warnings.catch_warnings():
        # tensorboard's own imports may warn (protobuf, pkg_resources): not ours to show
        warnings.simplefilter("ignore")
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            return None
        writer = SummaryWriter(log_dir=str(checkpoint.parent / TENSORBOARD_DIR))
    return EpochLogger(writer)
