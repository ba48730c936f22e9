"""Tests of trigger-cell maps with another grouping than the 48-TC default (k x k cells per TC)."""

from __future__ import annotations

import numpy as np
import pytest

from hgcal_ae.datasets.event_batch import EventBatch
from hgcal_ae.detector.hexagons import sensor
from hgcal_ae.detector.setups import detector_setup
from hgcal_ae.detector.trigger_cells import N_TRIGGER_CELLS, trigger_cell_map
from hgcal_ae.errors import ConfigError
from hgcal_ae.trigger.cells import (
    cells_to_trigger_cells,
    module_trigger_cells,
)

# (sensor, k, TCs per module = 3 (N/k)^2)
GROUPINGS = [
    ("hd8", 1, 432),
    ("hd8", 2, 108),
    ("hd8", 3, 48),
    ("hd8", 4, 27),
    ("hd8", 6, 12),
    ("hd8", 12, 3),
    ("ld8", 1, 192),
    ("ld8", 2, 48),
    ("ld8", 4, 12),
    ("ld8", 8, 3),
]


def test_hd8_two_by_two_has_108_tcs_of_four_cells() -> None:
    tc_map = trigger_cell_map("hd8", 2)
    lattice = sensor("hd8")
    full = lattice.wafer_area_cm2 / lattice.n_cells
    assert tc_map.n_tc == 108
    assert (tc_map.cells_per_tc, tc_map.cells_per_tc_side, tc_map.tcs_per_rhombus_side) == (4, 2, 6)
    assert tc_map.cells_of_tc.shape == (108, 4)
    assert np.array_equal(np.bincount(tc_map.tc_of_cell), np.full(108, 4))
    assert np.array_equal(
        36 * tc_map.tc_rhombus + 6 * tc_map.tc_row + tc_map.tc_col, np.arange(108)
    )
    # interior TCs are exactly 4 full cells; the edge ones hold cut/extended edge cells
    inner = (tc_map.tc_row >= 1) & (tc_map.tc_col >= 1)
    assert inner.sum() == 3 * 25
    np.testing.assert_allclose(tc_map.tc_area_cm2[inner], 4 * full)
    assert not np.allclose(tc_map.tc_area_cm2[~inner], 4 * full)
    np.testing.assert_allclose(tc_map.tc_area_cm2.sum(), lattice.wafer_area_cm2)


@pytest.mark.parametrize(("name", "k", "n_tc"), GROUPINGS)
def test_every_grouping_partitions_the_wafer(name: str, k: int, n_tc: int) -> None:
    tc_map = trigger_cell_map(name, k)
    lattice = sensor(name)
    grid = tc_map.tcs_per_rhombus_side
    assert tc_map.n_tc == n_tc == 3 * grid**2
    assert tc_map.cells_per_tc == k * k
    assert np.array_equal(np.sort(tc_map.cells_of_tc.ravel()), np.arange(lattice.n_cells))
    assert np.all(tc_map.tc_of_cell[tc_map.cells_of_tc] == np.arange(n_tc)[:, None])
    ids = grid**2 * tc_map.tc_rhombus + grid * tc_map.tc_row + tc_map.tc_col
    assert np.array_equal(ids, np.arange(n_tc))
    np.testing.assert_allclose(tc_map.tc_area_cm2.sum(), lattice.wafer_area_cm2)
    # same three-fold symmetry as the default map: rhombus 1 is rhombus 0 turned by 120 deg
    per = grid**2
    c, s = np.cos(2 * np.pi / 3), np.sin(2 * np.pi / 3)
    x0, y0 = tc_map.tc_x_cm[:per], tc_map.tc_y_cm[:per]
    np.testing.assert_allclose(c * x0 - s * y0, tc_map.tc_x_cm[per : 2 * per], atol=1e-9)
    np.testing.assert_allclose(s * x0 + c * y0, tc_map.tc_y_cm[per : 2 * per], atol=1e-9)
    assert trigger_cell_map(name, k) is tc_map  # cached


def test_default_is_the_48_tc_map() -> None:
    for name, k in (("hd8", 3), ("ld8", 2)):
        default = trigger_cell_map(name)
        assert default is trigger_cell_map(name, k) is trigger_cell_map(name, np.int64(k))
        assert default.n_tc == N_TRIGGER_CELLS == 48
    # cells (k = 1): one cell per TC, centred on it
    cells = trigger_cell_map("hd8", 1)
    lattice = sensor("hd8")
    np.testing.assert_allclose(cells.tc_x_cm[cells.tc_of_cell], lattice.x_cm, atol=1e-12)
    np.testing.assert_allclose(cells.tc_area_cm2[cells.tc_of_cell], lattice.area_cm2)


@pytest.mark.parametrize(
    ("name", "k", "allowed"),
    [
        ("hd8", 5, r"\[1, 2, 3, 4, 6, 12\]"),
        ("hd8", 0, r"\[1, 2, 3, 4, 6, 12\]"),
        ("hd8", -3, r"\[1, 2, 3, 4, 6, 12\]"),
        ("hd8", 24, r"\[1, 2, 3, 4, 6, 12\]"),
        ("hd8", 2.0, r"\[1, 2, 3, 4, 6, 12\]"),
        ("hd8", True, r"\[1, 2, 3, 4, 6, 12\]"),
        ("ld8", 3, r"\[1, 2, 4, 8\]"),
        ("ld8", "2", r"\[1, 2, 4, 8\]"),
    ],
)
def test_bad_k_is_refused(name: str, k: object, allowed: str) -> None:
    pattern = rf"cells_per_tc_side={k!r} does not divide the .* sensor '{name}'; expected one of {allowed}"
    with pytest.raises(ConfigError, match=pattern):
        trigger_cell_map(name, k)  # type: ignore[arg-type]
    setup = detector_setup(name)
    with pytest.raises(ConfigError, match="cells_per_tc_side"):
        module_trigger_cells(EventBatch.empty(), setup, cells_per_tc_side=k)  # type: ignore[arg-type]


@pytest.mark.parametrize(("name", "k", "n_tc"), GROUPINGS)
def test_energy_conserved_by_every_grouping(
    name: str, k: int, n_tc: int, rng: np.random.Generator
) -> None:
    tc_map = trigger_cell_map(name, k)
    energy = rng.exponential(2.0, size=(4, 3, tc_map.n_cells))
    tc = cells_to_trigger_cells(energy, tc_map)
    assert tc.shape == (4, 3, n_tc)
    np.testing.assert_allclose(tc.sum(axis=-1), energy.sum(axis=-1), rtol=1e-12)


def test_three_by_three_tcs_are_sums_of_their_cells(rng: np.random.Generator) -> None:
    tc_map = trigger_cell_map("hd8", 3)
    energy = rng.exponential(1.0, size=(5, 432))
    expected = energy[:, tc_map.cells_of_tc].sum(axis=-1)  # (5, 48): the 9 cells of each TC
    np.testing.assert_allclose(cells_to_trigger_cells(energy, tc_map), expected, rtol=1e-12)
    # and summing the cell-level (k = 1) units gives the same TCs
    cells = trigger_cell_map("hd8", 1)
    per_cell = cells_to_trigger_cells(energy, cells)  # (5, 432) in k = 1 TC order
    np.testing.assert_allclose(per_cell[:, cells.tc_of_cell], energy)


def test_bad_cell_axis_names_the_map(rng: np.random.Generator) -> None:
    with pytest.raises(ConfigError, match=r"\(\.\.\., 432\).*got \(2, 192\)"):
        cells_to_trigger_cells(np.zeros((2, 192)), trigger_cell_map("hd8", 2))


def _random_hits(rng: np.random.Generator, n_events: int = 6) -> EventBatch:
    """Events with random hits on hd8: layers 1..28, all 7 wafers, energies in MIP."""
    setup = detector_setup("hd8")
    counts = rng.integers(20, 200, n_events)
    n = int(counts.sum())
    zero = np.zeros(n)
    return EventBatch.from_counts(
        counts,
        event_id=np.arange(n_events),
        true_energy_gev=np.full(n_events, 50.0),
        layer=rng.integers(1, 29, n),
        x_cm=zero,
        y_cm=zero,
        z_cm=zero,
        energy_mip=rng.exponential(3.0, n) + 0.5,
        cell=rng.integers(0, setup.cells_per_layer, n),
    )


def test_module_trigger_cells_at_any_k(rng: np.random.Generator) -> None:
    setup = detector_setup("hd8")
    batch = _random_hits(rng)
    default = module_trigger_cells(batch, setup, layers=range(1, 28, 2))
    by_k = {
        k: module_trigger_cells(batch, setup, layers=range(1, 28, 2), cells_per_tc_side=k)
        for k in (1, 2, 3)
    }
    for k, n_tc in ((1, 432), (2, 108), (3, 48)):
        rows = by_k[k]
        assert rows.tc.shape == (default.n_rows, n_tc)
        for field in ("event", "layer", "module"):
            assert np.array_equal(getattr(rows, field), getattr(default, field))
        np.testing.assert_allclose(rows.tc.sum(axis=1), default.tc.sum(axis=1), rtol=1e-12)
    np.testing.assert_array_equal(by_k[3].tc, default.tc)
    # grouping the cell-level rows gives the TC rows
    for k in (2, 3):
        tc_map = trigger_cell_map("hd8", k)
        cells = trigger_cell_map("hd8", 1)
        per_lattice_cell = by_k[1].tc[:, cells.tc_of_cell]  # back to the lattice's cell order
        np.testing.assert_allclose(cells_to_trigger_cells(per_lattice_cell, tc_map), by_k[k].tc)
