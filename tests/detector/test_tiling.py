"""Tests of the tiling of a layer with several wafers."""

from __future__ import annotations

import numpy as np
import pytest

from hgcal_ae.detector import hexagons
from hgcal_ae.detector.hexagons import CellLattice, in_wafer, sensor
from hgcal_ae.detector.tiling import (
    SENSOR_SEPARATION_CM,
    Tiling,
    global_cell_centres,
    hex_tiling,
    locate,
)
from hgcal_ae.errors import ConfigError


@pytest.fixture(params=hexagons.SENSOR_NAMES)
def lattice(request: pytest.FixtureRequest) -> CellLattice:
    return sensor(request.param)


def _random_layer_points(tiling: Tiling, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    half = np.abs(tiling.x_cm).max() + tiling.spacing_cm
    return rng.uniform(-half, half, n), rng.uniform(-half, half, n)


@pytest.mark.parametrize(("rings", "n_modules"), [(0, 1), (1, 7), (2, 19), (3, 37)])
def test_number_of_wafers(rings: int, n_modules: int) -> None:
    tiling = hex_tiling(sensor("ld8"), rings)
    assert tiling.n_modules == n_modules
    np.testing.assert_array_equal(tiling.module_id, np.arange(n_modules))
    assert np.bincount(tiling.ring).tolist() == [1] + [6 * r for r in range(1, rings + 1)]
    assert (tiling.x_cm[0], tiling.y_cm[0]) == (0.0, 0.0)


def test_default_gap_is_the_design_sensor_separation() -> None:
    tiling = hex_tiling(sensor("hd8"), 1)
    assert SENSOR_SEPARATION_CM == 0.1
    assert tiling.gap_cm == 0.1
    assert tiling.spacing_cm == pytest.approx(16.74408 + 0.1)
    ring1 = tiling.ring == 1
    np.testing.assert_allclose(np.hypot(tiling.x_cm[ring1], tiling.y_cm[ring1]), 16.84408)


@pytest.mark.parametrize("gap_cm", [0.0, 0.1, 0.5])
def test_wafers_do_not_overlap(lattice: CellLattice, gap_cm: float) -> None:
    tiling = hex_tiling(lattice, 2, gap_cm=gap_cm)
    dx = tiling.x_cm[:, None] - tiling.x_cm[None]
    dy = tiling.y_cm[:, None] - tiling.y_cm[None]
    dist = np.hypot(dx, dy)[~np.eye(tiling.n_modules, dtype=bool)]
    assert dist.min() == pytest.approx(lattice.wafer_flat_to_flat_cm + gap_cm)
    # no point lies in the interior of two wafers
    x, y = _random_layer_points(tiling, 20_000, seed=11)
    shrink = 1.0 - 1e-9
    inside = np.stack(
        [
            in_wafer(lattice, (x - cx) / shrink, (y - cy) / shrink)
            for cx, cy in zip(tiling.x_cm, tiling.y_cm, strict=True)
        ]
    )
    assert inside.sum(axis=0).max() == 1


def test_points_in_the_gap_give_minus_one(lattice: CellLattice) -> None:
    tiling = hex_tiling(lattice, 1)
    ring1 = np.flatnonzero(tiling.ring == 1)
    # midpoints between the central wafer and each neighbour, and points along the gap
    mx, my = tiling.x_cm[ring1] / 2, tiling.y_cm[ring1] / 2
    along = np.linspace(-0.4, 0.4, 9) * lattice.wafer_flat_to_flat_cm / np.sqrt(3)
    normal = np.stack([mx, my]) / np.hypot(mx, my)
    px = (mx[:, None] - normal[1][:, None] * along).ravel()
    py = (my[:, None] + normal[0][:, None] * along).ravel()
    module, cell = locate(tiling, lattice, px, py)
    np.testing.assert_array_equal(module, -1)
    np.testing.assert_array_equal(cell, -1)


def test_points_just_inside_a_wafer_edge_are_found() -> None:
    lat = sensor("ld8")
    tiling = hex_tiling(lat, 1)
    ring1 = np.flatnonzero(tiling.ring == 1)
    # 0.1 mm inside the flat side of each outer wafer that faces the centre
    unit = np.stack([tiling.x_cm[ring1], tiling.y_cm[ring1]]) / tiling.spacing_cm
    depth = 0.5 * lat.wafer_flat_to_flat_cm - 0.01
    px = tiling.x_cm[ring1] - unit[0] * depth
    py = tiling.y_cm[ring1] - unit[1] * depth
    module, cell = locate(tiling, lat, px, py)
    np.testing.assert_array_equal(module, ring1)
    assert np.all(cell >= 0)
    # and the mirror points inside the central wafer
    module, cell = locate(tiling, lat, unit[0] * depth, unit[1] * depth)
    np.testing.assert_array_equal(module, 0)
    assert np.all(cell >= 0)


def test_locate_is_consistent_with_per_wafer_locate(lattice: CellLattice) -> None:
    tiling = hex_tiling(lattice, 2)
    x, y = _random_layer_points(tiling, 30_000, seed=2018)
    module, cell = locate(tiling, lattice, x, y)
    assert module.dtype == cell.dtype == np.int64
    np.testing.assert_array_equal(module < 0, cell < 0)
    found = module >= 0
    assert 0.3 < found.mean() < 0.9
    m = module[found]
    local = hexagons.locate(lattice, x[found] - tiling.x_cm[m], y[found] - tiling.y_cm[m])
    np.testing.assert_array_equal(cell[found], local)
    # a point that is not located lies in no cell of any wafer
    missed = ~found
    for cx, cy in zip(tiling.x_cm, tiling.y_cm, strict=True):
        assert np.all(hexagons.locate(lattice, x[missed] - cx, y[missed] - cy) == -1)


def test_without_gap_the_wafers_cover_the_centre() -> None:
    lat = sensor("hd8")
    tiling = hex_tiling(lat, 1, gap_cm=0.0)
    rng = np.random.default_rng(3)
    radius = 1.1 * lat.wafer_flat_to_flat_cm * np.sqrt(rng.uniform(0, 1, 10_000))
    phi = rng.uniform(0, 2 * np.pi, 10_000)
    module, cell = locate(tiling, lat, radius * np.cos(phi), radius * np.sin(phi))
    assert np.all(module >= 0)
    assert np.all(cell >= 0)


def test_global_cell_centres(lattice: CellLattice) -> None:
    tiling = hex_tiling(lattice, 1)
    gx, gy = global_cell_centres(tiling, lattice)
    assert gx.shape == gy.shape == (7, lattice.n_cells)
    np.testing.assert_allclose(gx[0], lattice.x_cm)
    module, cell = locate(tiling, lattice, gx, gy)
    np.testing.assert_array_equal(module, np.repeat(np.arange(7)[:, None], lattice.n_cells, 1))
    np.testing.assert_array_equal(cell, np.tile(np.arange(lattice.n_cells), (7, 1)))


def test_non_finite_points_are_outside() -> None:
    lat = sensor("ld8")
    module, cell = locate(hex_tiling(lat, 1), lat, [np.nan, 0.0, np.inf], [0.0, np.nan, 1e300])
    np.testing.assert_array_equal(module, -1)
    np.testing.assert_array_equal(cell, -1)


def test_tiling_is_read_only() -> None:
    tiling = hex_tiling(sensor("ld8"), 1)
    with pytest.raises(ValueError, match="read-only"):
        tiling.x_cm[0] = 1.0


@pytest.mark.parametrize("rings", [-1, 1.5, "2", True])
def test_bad_rings(rings: object) -> None:
    with pytest.raises(ConfigError, match="rings must be a non-negative integer"):
        hex_tiling(sensor("ld8"), rings)  # type: ignore[arg-type]


@pytest.mark.parametrize("gap_cm", [-0.1, float("nan"), float("inf")])
def test_bad_gap(gap_cm: float) -> None:
    with pytest.raises(ConfigError, match="gap_cm must be a finite length"):
        hex_tiling(sensor("ld8"), 1, gap_cm=gap_cm)


def test_lattice_must_match_tiling() -> None:
    tiling = hex_tiling(sensor("ld8"), 1)
    with pytest.raises(ConfigError, match="built for sensor 'ld8', got lattice 'hd8'"):
        locate(tiling, sensor("hd8"), 0.0, 0.0)
    with pytest.raises(ConfigError, match="built for sensor 'ld8'"):
        global_cell_centres(tiling, sensor("tb2018_6inch"))
