"""Tests of the sensors' hexagonal cell lattices."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from hgcal_ae.detector.hexagons import (
    SENSOR_NAMES,
    CellLattice,
    in_wafer,
    locate,
    neighbours,
    read_only_arrays,
    sensor,
)
from hgcal_ae.errors import ConfigError

EIGHT_INCH = ("ld8", "hd8")
WAFER_8INCH_CM = 16.74408  # physics.md section 4


@pytest.fixture(params=SENSOR_NAMES)
def lattice(request: pytest.FixtureRequest) -> CellLattice:
    return sensor(request.param)


def _random_points(lat: CellLattice, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Uniform points in a box 10 % larger than the wafer hexagon."""
    rng = np.random.default_rng(seed)
    half = 0.55 * lat.wafer_flat_to_flat_cm * 2 / np.sqrt(3)
    return rng.uniform(-half, half, n), rng.uniform(-half, half, n)


def _brute_nearest(lat: CellLattice, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    d2 = (x[:, None] - lat.x_cm[None]) ** 2 + (y[:, None] - lat.y_cm[None]) ** 2
    return d2.argmin(axis=1)


def _in_polygon(poly: np.ndarray, x: np.ndarray, y: np.ndarray) -> npt.NDArray[np.bool_]:
    """Points inside convex counter-clockwise polygons, one polygon per point."""
    a, b = poly, np.roll(poly, -1, axis=1)
    cross = (b[..., 0] - a[..., 0]) * (y[:, None] - a[..., 1]) - (b[..., 1] - a[..., 1]) * (
        x[:, None] - a[..., 0]
    )
    return np.all(cross >= -1e-9, axis=1)


def _boundary_distance(lat: CellLattice) -> np.ndarray:
    angles = np.deg2rad([0.0, 60.0, 120.0])
    proj = np.abs(np.outer(lat.x_cm, np.cos(angles)) + np.outer(lat.y_cm, np.sin(angles)))
    return 0.5 * lat.wafer_flat_to_flat_cm - proj.max(axis=1)


@pytest.mark.parametrize(("name", "n_cells"), [("tb2018_6inch", 109), ("ld8", 192), ("hd8", 432)])
def test_cell_counts(name: str, n_cells: int) -> None:
    lat = sensor(name)
    assert lat.n_cells == n_cells
    assert lat.u.shape == lat.v.shape == lat.x_cm.shape == lat.area_cm2.shape == (n_cells,)
    assert len(set(zip(lat.u.tolist(), lat.v.tolist(), strict=True))) == n_cells


def test_eight_inch_follow_the_cmssw_uv_rule() -> None:
    for name, n in (("ld8", 8), ("hd8", 12)):
        lat = sensor(name)
        assert lat.cells_per_side == n
        assert lat.n_cells == 3 * n * n
        assert lat.u.min() == lat.v.min() == 0
        assert lat.u.max() == lat.v.max() == 2 * n - 1
        assert np.all(lat.v - lat.u < n)
        assert np.all(lat.u - lat.v <= n)


def test_six_inch_sensor_geometry_and_the_133_positions() -> None:
    lat = sensor("tb2018_6inch")
    assert lat.cell_side_cm == 0.6496345
    assert lat.pitch_cm == pytest.approx(1.125, abs=1e-3)
    assert lat.wafer_flat_to_flat_cm / np.sqrt(3) == pytest.approx(7.146, abs=1e-3)  # side
    assert lat.cells_per_side == 0
    assert not lat.fills_wafer
    # lattice positions with the centre inside the wafer: the 133 cells of [GV] / [TB]
    du, dv = np.meshgrid(np.arange(-15, 16), np.arange(-15, 16), indexing="ij")
    xy = np.stack([du.ravel(), dv.ravel()], axis=1) @ lat.basis_cm.T + lat.origin_cm
    centre_inside = in_wafer(lat, xy[:, 0], xy[:, 1])
    assert centre_inside.sum() == 133
    # the modelled cells are the full ones among them; the cell at the centre is (0, 0)
    assert lat.index_of(0, 0) >= 0
    assert lat.x_cm[lat.index_of(0, 0)] == 0.0
    # every modelled cell lies entirely inside the wafer
    assert in_wafer(lat, lat.vertices_cm[..., 0], lat.vertices_cm[..., 1]).all()


def test_six_inch_full_cells_match_the_geant4_rows() -> None:
    # [G4ex]/[TQ]: 109 full cells in rows of 7,6,7,6,5,6,5,4,5,4,3 mirrored, counted across
    # the lines of cells parallel to a wafer side: here the columns at x = (2u + v) pitch / 2
    lat = sensor("tb2018_6inch")
    column = 2 * lat.u + lat.v
    counts = np.bincount(column - column.min())
    half = [7, 6, 7, 6, 5, 6, 5, 4, 5, 4, 3]
    assert counts.tolist() == half[::-1] + half[1:]
    np.testing.assert_allclose(np.unique(lat.x_cm), (np.arange(21) - 10) * lat.pitch_cm / 2)


def test_cell_areas(lattice: CellLattice) -> None:
    full = 1.5 * np.sqrt(3) * lattice.cell_side_cm**2
    assert np.all(lattice.area_cm2 > 0)
    if lattice.fills_wafer:
        # the cells tile the wafer exactly
        assert lattice.area_cm2.sum() == pytest.approx(lattice.wafer_area_cm2, rel=1e-12)
        assert full == pytest.approx(lattice.wafer_area_cm2 / lattice.n_cells, rel=1e-12)
    else:
        # only full cells: 109 of them cover 90.1 % of the wafer hexagon
        np.testing.assert_allclose(lattice.area_cm2, full, rtol=1e-12)
        assert full == pytest.approx(1.097, abs=1e-3)  # physics.md 1.2
        assert lattice.area_cm2.sum() / lattice.wafer_area_cm2 == pytest.approx(0.9008, abs=1e-4)


@pytest.mark.parametrize(("name", "low", "high"), [("ld8", 1.25, 1.27), ("hd8", 0.55, 0.565)])
def test_full_cell_area_matches_physics_md(name: str, low: float, high: float) -> None:
    lat = sensor(name)
    assert lat.wafer_area_cm2 == pytest.approx(np.sqrt(3) / 2 * WAFER_8INCH_CM**2)
    assert low <= np.median(lat.area_cm2) <= high
    assert np.median(lat.area_cm2) == pytest.approx(lat.wafer_area_cm2 / lat.n_cells)


@pytest.mark.parametrize("name", EIGHT_INCH)
def test_edge_cells_are_truncated_extended_or_corners(name: str) -> None:
    lat = sensor(name)
    n = lat.cells_per_side
    sixths = np.round(6 * lat.area_cm2 / (lat.wafer_area_cm2 / lat.n_cells), 9)
    values, counts = np.unique(sixths, return_counts=True)
    expected = {5.0: 3 * (n - 2), 5.5: 6, 6.0: 3 * n * n - 6 * n + 3, 7.0: 3 * (n - 1)}
    assert dict(zip(values.tolist(), counts.tolist(), strict=True)) == expected
    truncated = (lat.u == 0) | (lat.v == 2 * n - 1) | (lat.u - lat.v == n)
    assert np.all(sixths[truncated] <= 5.5)


def test_centres_and_outlines_inside_wafer(lattice: CellLattice) -> None:
    assert in_wafer(lattice, lattice.x_cm, lattice.y_cm).all()
    assert in_wafer(lattice, lattice.vertices_cm[..., 0], lattice.vertices_cm[..., 1]).all()
    # the wafer is centred on the origin
    assert np.all(_boundary_distance(lattice) > 0)


def test_neighbours_are_one_pitch_away_and_symmetric(lattice: CellLattice) -> None:
    nb = neighbours(lattice)
    assert nb.shape == (lattice.n_cells, 6)
    assert nb.dtype == np.int64
    i, k = np.nonzero(nb >= 0)
    j = nb[i, k]
    dist = np.hypot(lattice.x_cm[j] - lattice.x_cm[i], lattice.y_cm[j] - lattice.y_cm[i])
    np.testing.assert_allclose(dist, lattice.pitch_cm, rtol=1e-12)
    # offset k and k+3 are opposite: j's neighbour in the opposite direction is i
    np.testing.assert_array_equal(nb[j, (k + 3) % 6], i)
    # the six directions are 60 degrees apart, counter-clockwise
    d = lattice.neighbour_offsets @ lattice.basis_cm.T
    angles = np.degrees(np.arctan2(d[:, 1], d[:, 0]))
    np.testing.assert_allclose(np.diff(np.unwrap(np.deg2rad(angles))), np.deg2rad(60.0))


def test_interior_cells_have_six_neighbours(lattice: CellLattice) -> None:
    n_nb = (neighbours(lattice) >= 0).sum(axis=1)
    interior = _boundary_distance(lattice) > 1.5 * lattice.pitch_cm
    assert interior.sum() > lattice.n_cells // 3
    assert np.all(n_nb[interior] == 6)
    assert np.all(n_nb >= 3)


@pytest.mark.parametrize("name", EIGHT_INCH)
def test_eight_inch_edge_cells_have_fewer_neighbours(name: str) -> None:
    lat = sensor(name)
    n = lat.cells_per_side
    n_nb = (neighbours(lat) >= 0).sum(axis=1)
    edge = (lat.u == 0) | (lat.v == 0) | (lat.u == 2 * n - 1) | (lat.v == 2 * n - 1)
    edge |= (lat.u - lat.v == n) | (lat.v - lat.u == n - 1)
    assert edge.sum() == 6 * n - 3
    assert np.all(n_nb[~edge] == 6)
    assert np.all(n_nb[edge] < 6)


def test_locate_cell_centres(lattice: CellLattice) -> None:
    index = locate(lattice, lattice.x_cm, lattice.y_cm)
    np.testing.assert_array_equal(index, np.arange(lattice.n_cells))


def test_locate_agrees_with_brute_force(lattice: CellLattice) -> None:
    x, y = _random_points(lattice, 20_000, seed=20181017)
    index = locate(lattice, x, y)
    assert index.dtype == np.int64
    inside = in_wafer(lattice, x, y)
    nearest = _brute_nearest(lattice, x, y)
    # a located point lies in the nearest cell and inside that cell's outline
    found = index >= 0
    np.testing.assert_array_equal(index[found], nearest[found])
    assert _in_polygon(lattice.vertices_cm[index[found]], x[found], y[found]).all()
    if lattice.fills_wafer:
        np.testing.assert_array_equal(index[inside], nearest[inside])
        assert found.sum() == inside.sum()
    else:
        # points on the unmodelled partial cells: inside the wafer, outside every full cell
        missed = inside & ~found
        assert missed.any()
        assert not _in_polygon(lattice.vertices_cm[nearest[missed]], x[missed], y[missed]).any()
        assert missed.mean() / inside.mean() == pytest.approx(0.099, abs=0.01)


def test_locate_outside_wafer_gives_minus_one(lattice: CellLattice) -> None:
    x, y = _random_points(lattice, 20_000, seed=7)
    outside = ~in_wafer(lattice, x, y)
    assert outside.sum() > 1000
    assert np.all(locate(lattice, x[outside], y[outside]) == -1)
    far_x = np.array([1e3, -1e6, 0.0, 30.0, -12.0])
    far_y = np.array([0.0, 5.0, 1e9, -30.0, 12.0])
    np.testing.assert_array_equal(locate(lattice, far_x, far_y), -1)
    # non-finite and huge coordinates are outside too (and raise no warning)
    odd = np.array([np.nan, np.inf, -np.inf, 1e300, 0.0])
    np.testing.assert_array_equal(locate(lattice, odd, odd[::-1]), -1)


def test_locate_broadcasts_over_any_shape(lattice: CellLattice) -> None:
    x = np.linspace(-5.0, 5.0, 24).reshape(2, 3, 4)
    index = locate(lattice, x, 0.5)
    assert index.shape == (2, 3, 4)
    np.testing.assert_array_equal(index.ravel(), locate(lattice, x.ravel(), np.full(24, 0.5)))
    assert locate(lattice, 0.01, 0.02).shape == ()


@pytest.mark.parametrize("name", EIGHT_INCH)
def test_cell_areas_match_a_dense_grid(name: str) -> None:
    lat = sensor(name)
    step = lat.cell_side_cm / 40
    half = lat.wafer_flat_to_flat_cm / np.sqrt(3)
    grid = np.arange(-half, half, step) + 0.5 * step
    gx, gy = np.meshgrid(grid, grid)
    counts = np.bincount(locate(lat, gx, gy).ravel() + 1, minlength=lat.n_cells + 1)
    np.testing.assert_allclose(counts[1:] * step**2, lat.area_cm2, rtol=0.03)
    assert counts[1:].sum() * step**2 == pytest.approx(lat.wafer_area_cm2, rel=2e-3)


@pytest.mark.parametrize("name", EIGHT_INCH)
def test_rhombi(name: str) -> None:
    lat = sensor(name)
    n = lat.cells_per_side
    assert np.bincount(lat.rhombus).tolist() == [n * n] * 3
    for r in range(3):
        sel = lat.rhombus == r
        assert sorted(set(lat.rhombus_row[sel].tolist())) == list(range(n))
        assert sorted(set(lat.rhombus_col[sel].tolist())) == list(range(n))
        pairs = set(zip(lat.rhombus_row[sel].tolist(), lat.rhombus_col[sel].tolist(), strict=True))
        assert len(pairs) == n * n
    r0 = lat.rhombus == 0
    np.testing.assert_array_equal(lat.rhombus_row[r0], lat.u[r0])
    np.testing.assert_array_equal(lat.rhombus_col[r0], lat.v[r0])


@pytest.mark.parametrize("name", EIGHT_INCH)
def test_rhombi_are_rotations_of_each_other(name: str) -> None:
    lat = sensor(name)
    key = {
        (int(r), int(a), int(b)): i
        for i, (r, a, b) in enumerate(
            zip(lat.rhombus, lat.rhombus_row, lat.rhombus_col, strict=True)
        )
    }
    for turn in (1, 2):
        angle = np.deg2rad(120.0 * turn)
        for i in np.flatnonzero(lat.rhombus == 0):
            j = key[(turn, int(lat.rhombus_row[i]), int(lat.rhombus_col[i]))]
            xr = np.cos(angle) * lat.x_cm[i] - np.sin(angle) * lat.y_cm[i]
            yr = np.sin(angle) * lat.x_cm[i] + np.cos(angle) * lat.y_cm[i]
            assert (xr, yr) == pytest.approx((lat.x_cm[j], lat.y_cm[j]), abs=1e-9)
            assert lat.area_cm2[j] == pytest.approx(lat.area_cm2[i], rel=1e-9)


def test_rhombus_trigger_cell_blocks() -> None:
    # 2x2 (LD) or 3x3 (HD) cells per trigger cell inside each rhombus -> 16 x 3 = 48
    for name, k in (("ld8", 2), ("hd8", 3)):
        lat = sensor(name)
        tc = lat.rhombus * 16 + (lat.rhombus_row // k) * 4 + lat.rhombus_col // k
        assert np.bincount(tc).tolist() == [k * k] * 48


def test_six_inch_has_no_rhombi() -> None:
    lat = sensor("tb2018_6inch")
    for array in (lat.rhombus, lat.rhombus_row, lat.rhombus_col):
        assert np.all(array == -1)


def test_sensor_is_cached_and_read_only() -> None:
    assert sensor("ld8") is sensor("ld8")
    lat = sensor("hd8")
    with pytest.raises(ValueError, match="read-only"):
        lat.x_cm[0] = 0.0


def test_read_only_arrays_freezes_every_array_attribute() -> None:
    class Holder:
        def __init__(self) -> None:
            self.a, self.b, self.n = np.zeros(3), np.arange(4), 5

    holder = Holder()
    read_only_arrays(holder)
    assert not holder.a.flags.writeable and not holder.b.flags.writeable
    assert holder.n == 5
    with pytest.raises(ValueError, match="read-only"):
        holder.b[0] = 1


@pytest.mark.parametrize("bad", ["ld", "HD8", "", "tb2018"])
def test_unknown_sensor(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"unknown sensor .*'tb2018_6inch', 'ld8', 'hd8'"):
        sensor(bad)
