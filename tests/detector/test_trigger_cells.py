"""Tests of the trigger-cell map of the 8-inch sensors: 48 TCs, their cells, areas and centres."""

from __future__ import annotations

import numpy as np
import pytest

from hgcal_ae.detector.hexagons import in_wafer, sensor
from hgcal_ae.detector.trigger_cells import (
    N_TRIGGER_CELLS,
    tc_coords,
    tc_pitch_cm,
    trigger_cell_map,
)
from hgcal_ae.errors import ConfigError

K = {"ld8": 2, "hd8": 3}
# TC areas of one rhombus in twelfths of a full cell, rows = TC row 0..3 (see cells.py)
AREA_TWELFTHS = {
    "ld8": [[47, 44, 44, 45], [52, 48, 48, 48], [52, 48, 48, 48], [52, 48, 48, 48]],
    "hd8": [[107, 102, 102, 103], [114, 108, 108, 108], [114, 108, 108, 108], [114, 108, 108, 108]],
}


@pytest.mark.parametrize("name", ["ld8", "hd8"])
def test_every_cell_in_one_tc_of_k2_cells(name: str) -> None:
    tc_map = trigger_cell_map(name)
    lattice = sensor(name)
    k = K[name]
    assert tc_map.cells_per_tc == k * k
    assert tc_map.tc_of_cell.shape == (lattice.n_cells,)
    assert np.array_equal(np.bincount(tc_map.tc_of_cell), np.full(N_TRIGGER_CELLS, k * k))
    # cells_of_tc is a partition of the cells, consistent with tc_of_cell
    assert np.array_equal(np.sort(tc_map.cells_of_tc.ravel()), np.arange(lattice.n_cells))
    assert np.all(tc_map.tc_of_cell[tc_map.cells_of_tc] == np.arange(48)[:, None])
    assert np.array_equal(16 * tc_map.tc_rhombus + 4 * tc_map.tc_row + tc_map.tc_col, np.arange(48))
    assert trigger_cell_map(name) is tc_map  # cached


@pytest.mark.parametrize("name", ["ld8", "hd8"])
def test_tc_areas(name: str) -> None:
    tc_map = trigger_cell_map(name)
    lattice = sensor(name)
    full = lattice.wafer_area_cm2 / lattice.n_cells
    twelfths = tc_map.tc_area_cm2.reshape(3, 4, 4) / full * 12
    expected = np.broadcast_to(np.array(AREA_TWELFTHS[name], dtype=float), (3, 4, 4))
    np.testing.assert_allclose(twelfths, expected, atol=1e-9)
    # inner TCs have exactly k^2 full cells, and the TCs tile the wafer
    inner = (tc_map.tc_row >= 1) & (tc_map.tc_col >= 1)
    np.testing.assert_allclose(tc_map.tc_area_cm2[inner], K[name] ** 2 * full)
    np.testing.assert_allclose(tc_map.tc_area_cm2.sum(), lattice.wafer_area_cm2)


@pytest.mark.parametrize("name", ["ld8", "hd8"])
def test_tc_centres_inside_and_cells_adjacent(name: str) -> None:
    tc_map = trigger_cell_map(name)
    lattice = sensor(name)
    assert in_wafer(lattice, tc_map.tc_x_cm, tc_map.tc_y_cm).all()
    tc = tc_map.tc_of_cell
    distance = np.hypot(lattice.x_cm - tc_map.tc_x_cm[tc], lattice.y_cm - tc_map.tc_y_cm[tc])
    assert distance.max() < 2 * lattice.pitch_cm
    # each rhombus is the +120 degree image of the previous one: centres rotate too
    angle = 2 * np.pi / 3
    x0, y0 = tc_map.tc_x_cm[:16], tc_map.tc_y_cm[:16]
    rotated_x = np.cos(angle) * x0 - np.sin(angle) * y0
    rotated_y = np.sin(angle) * x0 + np.cos(angle) * y0
    np.testing.assert_allclose(rotated_x, tc_map.tc_x_cm[16:32], atol=1e-9)
    np.testing.assert_allclose(rotated_y, tc_map.tc_y_cm[16:32], atol=1e-9)


def test_no_map_for_six_inch_sensor() -> None:
    with pytest.raises(ConfigError, match="only the 8-inch wafers"):
        trigger_cell_map("tb2018_6inch")


@pytest.mark.parametrize("name", ["ld8", "hd8"])
def test_coords_and_pitch(name: str) -> None:
    tc_map = trigger_cell_map(name)
    coords = tc_coords(name)
    np.testing.assert_array_equal(coords, np.column_stack([tc_map.tc_x_cm, tc_map.tc_y_cm]))
    assert not coords.flags.writeable
    assert tc_pitch_cm(name) == pytest.approx(2.4168015, abs=1e-5)  # Ecoder's TC spacing
