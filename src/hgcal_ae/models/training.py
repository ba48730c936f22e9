"""The training loop: seeded, checkpointed every epoch, resumable.

A run writes ``checkpoint.pt`` after every finished epoch (atomically).  Calling
:func:`train_autoencoder` again with the same configuration and checkpoint path continues at
the next epoch, and ends with the same weights as an uninterrupted run on the CPU: the
initial weights, the batch order of every epoch and the optimiser state all follow from
the seed and the checkpoint.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict, TypeVar, Unpack

import numpy as np
import numpy.typing as npt
import torch
from torch import nn
from tqdm.auto import tqdm

from hgcal_ae.atomic import atomic_path
from hgcal_ae.errors import ConfigError, DataError
from hgcal_ae.models.autoencoders import ARCHITECTURES, build_autoencoder, check_latent_dim
from hgcal_ae.models.experiment_log import epoch_logger
from hgcal_ae.models.losses import image_loss

__all__ = [
    "EpochRecord",
    "LoopResult",
    "RunOptions",
    "TrainingConfig",
    "TrainingResult",
    "evaluate_loss",
    "fit",
    "save_torch",
    "seeded_model",
    "train_autoencoder",
]

ModelT = TypeVar("ModelT", bound=nn.Module)


@dataclass(frozen=True)
class TrainingConfig:
    """Everything that decides the trained weights (the device does not, within tolerance)."""

    arch: str = "conv"
    latent_dim: int = 28
    loss: str = "bce"
    epochs: int = 10
    batch_size: int = 128
    learning_rate: float = 1e-3
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "latent_dim", check_latent_dim(self.latent_dim))
        if self.arch not in ARCHITECTURES:
            msg = f"unknown arch {self.arch!r}; expected one of {', '.join(ARCHITECTURES)}"
            raise ConfigError(msg)
        image_loss(self.loss)
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                msg = f"{name} must be a positive integer, got {value!r}"
                raise ConfigError(msg)
        if not self.learning_rate > 0:
            msg = f"learning rate must be positive, got {self.learning_rate!r}"
            raise ConfigError(msg)


@dataclass(frozen=True)
class EpochRecord:
    """Losses (per pixel) and wall time of one epoch."""

    epoch: int
    train_loss: float
    val_loss: float
    seconds: float


class RunOptions(TypedDict, total=False):
    """How a training runs, not what it learns: the keyword options of every training here.

    Attributes
    ----------
    device : torch.device or str
        Where to train (default ``"cpu"``); inputs are moved there.
    checkpoint : Path or None
        Per-epoch checkpoint file; if it exists, training resumes after its epoch.  With a
        checkpoint, the epochs' losses also go to TensorBoard event files in
        ``<its folder>/tensorboard`` when ``tensorboard`` is installed
        (:mod:`~hgcal_ae.models.experiment_log`).
    on_epoch : callable or None
        Called with each finished epoch's :class:`EpochRecord` (after the checkpoint is
        written).
    progress : bool
        Show a tqdm bar over the batches of each epoch (default False).
    """

    device: torch.device | str
    checkpoint: Path | None
    on_epoch: Callable[[EpochRecord], None] | None
    progress: bool


@dataclass
class TrainingResult:
    """A trained model with its history and the per-epoch reconstructions of fixed images."""

    model: nn.Module
    config: TrainingConfig
    history: list[EpochRecord]
    snapshots: npt.NDArray[np.float32]  # (epochs, k, 28, 28) reconstructions in [0, 1]
    resumed_from: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def wall_time_s(self) -> float:
        return float(sum(r.seconds for r in self.history))


def _batch_order(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The permutation of training images for ``epoch``: a function of seed and epoch only."""
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n, generator=generator)


@torch.no_grad()
def evaluate_loss(
    model: nn.Module, images: torch.Tensor, loss: str, batch_size: int = 1000
) -> float:
    """Mean per-pixel ``loss`` of ``model`` on ``images`` (``(N, 1, 28, 28)`` in [0, 1])."""
    fn = image_loss(loss)
    was_training = model.training
    model.eval()
    total = 0.0
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size]
        total += float(fn(model(batch), batch)) * len(batch)
    model.train(was_training)
    return total / max(len(images), 1)


def save_torch(path: Path, payload: Any) -> Path:
    """``torch.save`` ``payload`` to ``path`` atomically; a full disk is an ``OutputError``.

    torch writes through a Python file object here, so that a failed write keeps its
    ``OSError`` (errno ``ENOSPC``) in the chain of the ``RuntimeError`` torch raises, and
    :func:`~hgcal_ae.atomic.atomic_path` reports "no space left on device writing ..."
    naming ``path``.
    """
    with atomic_path(path) as tmp, tmp.open("wb") as fh:
        torch.save(payload, fh)
    return path


def _save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    save_torch(path, state)


def _load_checkpoint(path: Path, config: Any) -> dict[str, Any]:
    """Read a checkpoint and check that it belongs to ``config`` (same class and settings)."""
    try:
        state: dict[str, Any] = torch.load(path, map_location="cpu", weights_only=False)
        saved = type(config)(**state["config"])
    except Exception as exc:  # a truncated or foreign file: say which one
        msg = f"checkpoint {str(path)!r} is unreadable ({exc}); delete it to start the run afresh"
        raise DataError(msg) from exc
    if dataclasses.replace(saved, epochs=config.epochs) != config:
        msg = (
            f"checkpoint {str(path)!r} belongs to another configuration ({saved}); "
            f"expected {config}; delete it or choose another output directory"
        )
        raise ConfigError(msg)
    return state


@dataclass
class LoopResult:
    """History of a :func:`fit`, with the per-epoch snapshots and where it resumed."""

    history: list[EpochRecord]
    snapshots: list[npt.NDArray[np.float32]]
    resumed_from: int


def seeded_model(build: Callable[[], ModelT], seed: int, device: torch.device) -> ModelT:
    """``build()`` under torch's generator seeded with ``seed``, moved to ``device``.

    The initial weights follow from the seed alone; the caller's generator state is kept.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build()
    return model.to(device)


def fit(
    model: nn.Module,
    config: Any,
    train: torch.Tensor,
    val: torch.Tensor,
    *,
    batch_loss: Callable[[nn.Module, torch.Tensor], torch.Tensor],
    evaluate: Callable[[nn.Module, torch.Tensor], float],
    snapshot: Callable[[nn.Module], npt.NDArray[np.float32]] | None = None,
    **run: Unpack[RunOptions],
) -> LoopResult:
    """The training loop shared by every autoencoder: Adam, seeded batches, epoch checkpoints.

    ``config`` is a frozen dataclass with ``epochs``, ``batch_size``, ``learning_rate`` and
    ``seed``; a checkpoint is resumed only if it was written under the same configuration
    (the epoch count may differ).  ``batch_loss(model, batch)`` is minimised, ``evaluate``
    gives the validation loss after each epoch, ``snapshot`` whatever the caller keeps per
    epoch (e.g. reconstructions of fixed inputs); ``run`` are the :class:`RunOptions`.
    """
    device = torch.device(run.get("device", "cpu"))
    checkpoint, on_epoch = run.get("checkpoint"), run.get("on_epoch")
    progress = run.get("progress", False)
    # Subnormal floats (tiny activations and gradients near a sigmoid's or ReLU's floor) make
    # CPU kernels 20x slower: epochs of the module AE took 25 s instead of 1.3 s without this.
    torch.set_flush_denormal(True)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    train, val = train.to(device), val.to(device)
    history: list[EpochRecord] = []
    snapshots: list[npt.NDArray[np.float32]] = []
    start_epoch = 1
    if checkpoint is not None and checkpoint.is_file():
        state = _load_checkpoint(checkpoint, config)
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimizer"])
        history = [EpochRecord(**r) for r in state["history"]]
        snapshots = list(state["snapshots"])
        start_epoch = int(state["epoch"]) + 1
    n = len(train)
    # TensorBoard event files beside the checkpoint, when the optional package is there
    log = epoch_logger(checkpoint) if checkpoint is not None else None
    try:
        model.train()
        for epoch in range(start_epoch, config.epochs + 1):
            t0 = time.perf_counter()
            order = _batch_order(n, config.seed, epoch).to(device)
            running = torch.zeros((), device=device)
            batches = range(0, n, config.batch_size)
            for start in tqdm(
                batches, desc=f"epoch {epoch}/{config.epochs}", disable=not progress, leave=False
            ):
                batch = train[order[start : start + config.batch_size]]
                optimiser.zero_grad(set_to_none=True)
                loss = batch_loss(model, batch)
                loss.backward()  # type: ignore[no-untyped-call]  # unannotated in torch
                optimiser.step()
                running += loss.detach() * len(batch)
            train_loss = float(running) / n
            model.eval()
            with torch.no_grad():
                val_loss = evaluate(model, val)
                if snapshot is not None:
                    snapshots.append(snapshot(model))
            model.train()
            record = EpochRecord(epoch, train_loss, val_loss, time.perf_counter() - t0)
            history.append(record)
            if checkpoint is not None:
                _save_checkpoint(
                    checkpoint,
                    {
                        "config": dataclasses.asdict(config),
                        "epoch": epoch,
                        "model": model.state_dict(),
                        "optimizer": optimiser.state_dict(),
                        "history": [dataclasses.asdict(r) for r in history],
                        "snapshots": snapshots,
                    },
                )
            if log is not None:
                log(record)
            if on_epoch is not None:
                on_epoch(record)
    finally:
        if log is not None:
            log.close()
    model.eval()
    return LoopResult(history=history, snapshots=snapshots, resumed_from=start_epoch - 1)


def train_autoencoder(
    config: TrainingConfig,
    train_images: torch.Tensor,
    val_images: torch.Tensor,
    *,
    snapshot_images: torch.Tensor | None = None,
    **run: Unpack[RunOptions],
) -> TrainingResult:
    """Train an autoencoder with Adam, checkpointing after every epoch.

    Parameters
    ----------
    config
        Architecture, latent dim, loss, epochs, batch size, learning rate and seed.
    train_images, val_images
        Float tensors ``(N, 1, 28, 28)`` in [0, 1] (on any device; moved to ``device``).
    snapshot_images
        A few fixed images ``(k, 1, 28, 28)`` whose reconstructions are kept for every epoch.
    **run
        ``device``, ``checkpoint`` (resumed when it exists), ``on_epoch``, ``progress``:
        see :class:`RunOptions`.
    """
    device = torch.device(run.get("device", "cpu"))
    model = seeded_model(
        lambda: build_autoencoder(config.arch, config.latent_dim), config.seed, device
    )
    loss_fn = image_loss(config.loss)
    snaps_in = (snapshot_images if snapshot_images is not None else val_images[:0]).to(device)
    done = fit(
        model,
        config,
        train_images,
        val_images,
        batch_loss=lambda m, batch: loss_fn(m(batch), batch),
        evaluate=lambda m, images: evaluate_loss(m, images, config.loss),
        snapshot=lambda m: torch.sigmoid(m(snaps_in)).squeeze(1).float().cpu().numpy(),
        **run,
    )
    history, snapshots, resumed_from = done.history, done.snapshots, done.resumed_from
    model.eval()
    return TrainingResult(
        model=model,
        config=config,
        history=history,
        snapshots=np.stack(snapshots) if snapshots else np.zeros((0, 0, 28, 28), np.float32),
        resumed_from=resumed_from,
    )
