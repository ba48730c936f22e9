"""Shared fixtures of the dataset tests: random event batches, a tiny MNIST-like data set."""

from __future__ import annotations

import gzip
from collections.abc import Callable

import numpy as np
import pytest

from hgcal_ae.datasets.catalog import DatasetSpec, IdxFile, dataset_spec
from hgcal_ae.datasets.event_batch import EventBatch
from hgcal_ae.datasets.idx import idx_bytes, sha256

#: The four IDX files of the MNIST layout.
MNIST_NAMES = tuple(file.name for file in dataset_spec("mnist").files)


def _random_batch(
    rng: np.random.Generator, n_events: int = 50, mean_hits: float = 8.0, first_id: int = 0
) -> EventBatch:
    counts = rng.poisson(mean_hits, n_events)
    counts[: min(2, n_events)] = 0  # events without hits must survive too
    n_hits = int(counts.sum())
    return EventBatch.from_counts(
        counts,
        event_id=np.arange(first_id, first_id + n_events),
        pdg=rng.choice([11, -11, 22, 0], n_events),
        true_energy_gev=rng.uniform(10, 300, n_events),
        true_x_cm=rng.normal(0, 1, n_events),
        true_y_cm=np.where(rng.random(n_events) < 0.2, np.nan, rng.normal(0, 1, n_events)),
        angle_x_rad=rng.normal(0, 0.01, n_events),
        angle_y_rad=rng.normal(0, 0.01, n_events),
        layer=rng.integers(1, 29, n_hits),
        cell=rng.integers(-1, 10_000, n_hits),
        x_cm=rng.normal(0, 3, n_hits),
        y_cm=rng.normal(0, 3, n_hits),
        z_cm=rng.uniform(0, 30, n_hits),
        energy_mip=rng.exponential(5, n_hits),
    )


@pytest.fixture
def random_batch() -> Callable[..., EventBatch]:
    """``random_batch(rng, n_events=50, mean_hits=8.0, first_id=0)``: a batch of random showers.

    The first two events have no hits (they must survive every operation too).
    """
    return _random_batch


@pytest.fixture
def tiny(rng):
    """A tiny data set in the MNIST layout, with a catalogue entry holding its own checksums."""
    arrays = (
        rng.integers(0, 256, size=(12, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, size=12, dtype=np.uint8),
        rng.integers(0, 256, size=(3, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, size=3, dtype=np.uint8),
    )
    files = [
        IdxFile(name, sha256(idx_bytes(a)), sha256(gzip.compress(idx_bytes(a), mtime=0)))
        for name, a in zip(MNIST_NAMES, arrays, strict=True)
    ]
    spec = DatasetSpec("tiny", *files, class_names=tuple("0123456789"), n_validation=4)
    return spec, arrays
