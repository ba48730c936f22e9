"""EventBatch: dtypes, sizes, selection and the checks of its arrays."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, replace

import numpy as np
import pytest

from hgcal_ae.datasets.event_batch import EVENT_FIELDS, HIT_FIELDS, EventBatch
from hgcal_ae.errors import ConfigError, SchemaError


def assert_batches_equal(got: EventBatch, expected: EventBatch) -> None:
    for field in fields(EventBatch):
        a, b = getattr(got, field.name), getattr(expected, field.name)
        assert a.dtype == b.dtype, field.name
        np.testing.assert_array_equal(a, b, err_msg=field.name)


def test_batch_coerces_dtypes_and_helpers(
    rng: np.random.Generator, random_batch: Callable[..., EventBatch]
) -> None:
    batch = random_batch(rng)
    for name, dtype in {**EVENT_FIELDS, **HIT_FIELDS, "hit_offsets": np.dtype(np.int64)}.items():
        assert getattr(batch, name).dtype == dtype, name
    assert batch.hits_per_event().sum() == batch.n_hits
    index = batch.event_index_of_hits()
    assert index.shape == (batch.n_hits,)
    np.testing.assert_array_equal(
        np.bincount(index, minlength=batch.n_events), batch.hits_per_event()
    )


def test_select_mask_and_indices_agree(
    rng: np.random.Generator, random_batch: Callable[..., EventBatch]
) -> None:
    batch = random_batch(rng, n_events=60)
    mask = rng.random(60) < 0.4
    assert_batches_equal(batch.select(mask), batch.select(np.flatnonzero(mask)))
    reordered = batch.select([5, 2, 2, -1])
    np.testing.assert_array_equal(reordered.event_id, batch.event_id[[5, 2, 2, 59]])
    lo, hi = batch.hit_offsets[5], batch.hit_offsets[6]
    np.testing.assert_array_equal(reordered.energy_mip[: hi - lo], batch.energy_mip[lo:hi])
    reordered.validate()
    with pytest.raises(ConfigError, match="out of range"):
        batch.select([60])
    with pytest.raises(ConfigError, match="shape"):
        batch.select(np.ones(3, bool))


def test_validate_names_bad_field(
    rng: np.random.Generator, random_batch: Callable[..., EventBatch]
) -> None:
    batch = random_batch(rng, n_events=20)
    offsets = batch.hit_offsets.copy()
    with pytest.raises(SchemaError, match=r"'hit_offsets' must end at n_hits = \d+, got"):
        replace(batch, hit_offsets=offsets + np.r_[np.zeros(20, np.int64), 1]).validate()
    with pytest.raises(SchemaError, match="'hit_offsets' must start at 0"):
        replace(batch, hit_offsets=offsets + 1).validate()
    swapped = offsets.copy()
    swapped[[5, 6]] = swapped[[6, 5]] + np.array([1, 0])
    with pytest.raises(SchemaError, match="'hit_offsets' must be non-decreasing"):
        replace(batch, hit_offsets=swapped).validate()
    with pytest.raises(SchemaError, match=r"'hit_offsets' has length 20, expected 21"):
        replace(batch, hit_offsets=offsets[:-1]).validate()
    with pytest.raises(SchemaError, match=r"'pdg' has length 19, expected 20 \(n_events\)"):
        replace(batch, pdg=batch.pdg[1:]).validate()
    with pytest.raises(SchemaError, match=r"'x_cm' has length"):
        replace(batch, x_cm=batch.x_cm[1:]).validate()
