"""Tests of ModuleRows, the one type of module rows: checks, selections, offsets."""

from __future__ import annotations

import numpy as np
import pytest

from hgcal_ae.datasets.module_rows import EVENT_TRUTH, ModuleRows
from hgcal_ae.errors import ConfigError, DataError


def _rows() -> ModuleRows:
    """Three events: 0 has two rows, 1 none, 2 one row."""
    tc = np.arange(3 * 48, dtype=np.float32).reshape(3, 48)
    return ModuleRows.build(
        event=[0, 0, 2], layer=[1, 3, 5], module=[0, 4, 6], tc=tc, n_events=3,
        true_energy_gev=[20.0, 50.0, 100.0], event_id=[10, 11, 12],
    )  # fmt: skip


def test_build_fills_unknown_truth_and_keeps_dtypes() -> None:
    rows = _rows()
    assert (rows.n_rows, rows.n_events, rows.n_tc) == (3, 3, 48)
    assert rows.tc.dtype == np.float32 and rows.event.dtype == np.int64
    assert rows.pdg.dtype == np.int32 and np.all(rows.pdg == 0)
    assert np.isnan(rows.true_x_cm).all() and np.isnan(rows.cell_energy_gev_total).all()
    assert set(EVENT_TRUTH) <= set(vars(rows))
    np.testing.assert_array_equal(rows.event_offsets(), [0, 2, 2, 3])
    np.testing.assert_array_equal(rows.module_sums(), rows.tc.astype(np.float64).sum(axis=1))


def test_select_rows_renumbers_the_events_that_keep_rows() -> None:
    rows = _rows()
    part = rows.select_rows(np.array([2, 1]))
    np.testing.assert_array_equal(part.event, [1, 0])  # events 0 and 2 -> 0 and 1
    np.testing.assert_array_equal(part.event_id, [10, 12])
    np.testing.assert_array_equal(part.tc, rows.tc[[2, 1]])
    mask = part.select_rows(np.array([True, False]))
    np.testing.assert_array_equal(mask.event_id, [12])


def test_select_events_keeps_events_without_rows() -> None:
    rows = _rows()
    part = rows.select_events(np.array([1, 2]))
    assert part.n_events == 2 and part.n_rows == 1
    np.testing.assert_array_equal(part.event, [1])
    np.testing.assert_array_equal(part.true_energy_gev, [50.0, 100.0])
    assert rows.select_events(np.arange(3)).equals(rows)
    with pytest.raises(ConfigError, match="increasing and unique"):
        rows.select_events(np.array([2, 1]))


def test_with_tc_and_with_truth() -> None:
    rows = _rows()
    doubled = rows.with_tc(rows.tc * 2)
    np.testing.assert_array_equal(doubled.module_sums(), 2 * rows.module_sums())
    assert doubled.event is rows.event
    truth = rows.with_truth(cell_energy_gev_total=np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(truth.cell_energy_gev_total, [1.0, 2.0, 3.0])
    with pytest.raises(ConfigError, match=r"expected charges of shape \(3, n_tc\)"):
        rows.with_tc(np.ones((2, 48)))
    with pytest.raises(ConfigError, match="unknown per-event fields"):
        rows.with_truth(energy=np.ones(3))


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"tc": np.full((3, 48), np.nan)}, DataError, "NaN or infinite charges in 3 of 3 rows"),
        ({"tc": -np.ones((3, 48))}, DataError, "charges >= 0"),
        ({"tc": np.ones(48)}, ConfigError, r"'tc' must have shape \(M, n_tc\)"),
        ({"layer": [1, 29, 3]}, ConfigError, r"'layer' must lie in 1\.\.28"),
        ({"event": [0, 0, 3]}, ConfigError, r"'event' must lie in 0\.\.2"),
        ({"event": [0, 0]}, ConfigError, r"'event' must have shape \(3,\)"),
        ({"module": [0.5, 1.0, 2.0]}, ConfigError, "'module' must hold integers"),
        ({"true_energy_gev": [1.0, 2.0]}, ConfigError, r"'true_energy_gev' must have shape \(3,\)"),
    ],
)
def test_bad_rows_are_refused_not_dropped(change: dict, error: type, message: str) -> None:
    rows = _rows()
    fields = {
        name: getattr(rows, name) for name in ("event", "layer", "module", "tc", *EVENT_TRUTH)
    }
    with pytest.raises(error, match=message):
        ModuleRows(**(fields | change))


def test_one_nan_row_is_counted_and_named() -> None:
    rows = _rows()
    tc = rows.tc.copy()
    tc[1, 7] = np.nan
    with pytest.raises(DataError, match=r"in 1 of 3 rows \(first: row 1\); refusing them"):
        rows.with_tc(tc)


def test_offsets_need_rows_grouped_by_event() -> None:
    rows = _rows().select_rows(np.array([2, 0]))
    with pytest.raises(ConfigError, match="not sorted by event"):
        rows.event_offsets()
