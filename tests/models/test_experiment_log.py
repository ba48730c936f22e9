"""TensorBoard event files of the shared training loop (the optional `tensorboard` extra)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from torch import nn

from hgcal_ae.models.experiment_log import TENSORBOARD_DIR
from hgcal_ae.models.training import fit


@dataclass(frozen=True)
class _Config:
    epochs: int = 3
    batch_size: int = 16
    learning_rate: float = 1e-2
    seed: int = 0


def _train(tmp_path: Path, epochs: int = 3) -> list[tuple[float, float]]:
    gen = torch.Generator().manual_seed(1)
    data = torch.rand(64, 4, generator=gen)
    torch.manual_seed(0)
    model = nn.Linear(4, 4)
    result = fit(
        model, _Config(epochs=epochs), data[:48], data[48:],
        batch_loss=lambda m, b: ((m(b) - b) ** 2).mean(),
        evaluate=lambda m, v: float(((m(v) - v) ** 2).mean()),
        checkpoint=tmp_path / "checkpoint.pt",
    )  # fmt: skip
    return [(r.train_loss, r.val_loss) for r in result.history]


def _scalars(log_dir: Path, tag: str) -> dict[int, float]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    values: dict[int, float] = {}
    for run in sorted(p.parent for p in log_dir.rglob("events.out.tfevents.*")):
        acc = EventAccumulator(str(run))
        acc.Reload()
        values |= {e.step: e.value for e in acc.Scalars(tag)}
    return values


def test_every_epoch_is_logged_beside_the_checkpoint_and_a_resume_adds_the_rest(
    tmp_path: Path,
) -> None:
    pytest.importorskip("tensorboard", reason="the optional `tensorboard` extra")
    first = _train(tmp_path, epochs=2)
    history = _train(tmp_path, epochs=3)  # resumes from the checkpoint of epoch 2
    assert history[:2] == first
    log_dir = tmp_path / TENSORBOARD_DIR
    train = _scalars(log_dir, "loss/train")
    val = _scalars(log_dir, "loss/validation")
    assert sorted(train) == [1, 2, 3] and sorted(val) == [1, 2, 3]
    for epoch, (train_loss, val_loss) in enumerate(history, start=1):
        assert train[epoch] == pytest.approx(train_loss, rel=1e-6)  # stored as float32
        assert val[epoch] == pytest.approx(val_loss, rel=1e-6)
    assert sorted(_scalars(log_dir, "seconds_per_epoch")) == [1, 2, 3]


def test_without_tensorboard_training_is_the_same_and_writes_no_logs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_logs = _train(tmp_path / "with")
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # an import error
    without = _train(tmp_path / "without")
    assert without == with_logs
    assert not (tmp_path / "without" / TENSORBOARD_DIR).exists()
