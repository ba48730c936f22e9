"""Tests of the batched EMD against POT's exact ``ot.emd2``, row by row (econt.md section 5)."""

from __future__ import annotations

import numpy as np
import pytest

from hgcal_ae.detector.trigger_cells import N_TRIGGER_CELLS as N_TC
from hgcal_ae.detector.trigger_cells import trigger_cell_map
from hgcal_ae.errors import ConfigError
from hgcal_ae.metrics.emd import default_tc_coords, emd

ot = pytest.importorskip("ot")

ATOL = 1e-6  # the agreement required with POT; observed differences are ~1e-14


def _grid() -> np.ndarray:
    """A 6 x 8 rectangular grid of pitch 1: many equal distances, hence degenerate optima."""
    y, x = np.mgrid[0:6, 0:8]
    return np.column_stack([x.ravel(), y.ravel()]).astype(np.float64)


@pytest.fixture(params=["grid", "random"])
def coords(request: pytest.FixtureRequest, rng: np.random.Generator) -> np.ndarray:
    return _grid() if request.param == "grid" else rng.uniform(-8.0, 8.0, size=(N_TC, 2))


def _pot(a: np.ndarray, b: np.ndarray, coords: np.ndarray) -> np.ndarray:
    """The reference: Ecoder's loop of ot.emd2 on unit-normalised rows."""
    m = ot.dist(coords, coords, metric="euclidean")
    return np.array([ot.emd2(x / x.sum(), y / y.sum(), m) for x, y in zip(a, b, strict=True)])


def _sparse(rng: np.random.Generator, n: int, k_max: int) -> np.ndarray:
    """Rows with 1..k_max non-zero TCs at random places, like real modules."""
    out = np.zeros((n, N_TC))
    for row in out:
        k = rng.integers(1, k_max + 1)
        row[rng.choice(N_TC, size=k, replace=False)] = rng.exponential(size=k)
    return out


def test_dense_random_rows_match_pot(rng: np.random.Generator, coords: np.ndarray) -> None:
    a = rng.random((300, N_TC))
    b = rng.random((300, N_TC))
    np.testing.assert_allclose(emd(a, b, coords), _pot(a, b, coords), rtol=0, atol=ATOL)


def test_sparse_rows_match_pot(rng: np.random.Generator, coords: np.ndarray) -> None:
    a = _sparse(rng, 300, 6)
    b = _sparse(rng, 300, 6)
    np.testing.assert_allclose(emd(a, b, coords), _pot(a, b, coords), rtol=0, atol=ATOL)


def test_sparse_input_dense_reconstruction_matches_pot(
    rng: np.random.Generator, coords: np.ndarray
) -> None:
    a = _sparse(rng, 300, 8)
    b = a + rng.uniform(0.0, 0.05, size=a.shape)  # the autoencoder case: noise on every TC
    np.testing.assert_allclose(emd(a, b, coords), _pot(a, b, coords), rtol=0, atol=ATOL)


def test_ties_and_degenerate_supports_match_pot(rng: np.random.Generator) -> None:
    grid = _grid()
    # small integer charges on the grid: equal masses, equal distances, partial overlaps
    a = rng.integers(0, 3, size=(300, N_TC)).astype(np.float64) * (rng.random((300, 1)) < 0.5)
    a += (rng.random((300, N_TC)) < 0.1) * 2.0
    a[:, 0] += 1.0  # no empty rows
    b = a.copy()
    b[:100] = a[:100, rng.permutation(N_TC)]  # same masses, shuffled places
    b[100:200] = np.roll(a[100:200], 1, axis=1) + a[100:200]  # overlapping supports
    same_support = a[200:] > 0
    b[200:] = same_support * rng.integers(1, 3, size=(100, N_TC))  # identical supports
    np.testing.assert_allclose(emd(a, b, grid), _pot(a, b, grid), rtol=0, atol=ATOL)


def test_identical_rows_give_zero(rng: np.random.Generator, coords: np.ndarray) -> None:
    a = np.concatenate([rng.random((50, N_TC)), _sparse(rng, 50, 6)])
    np.testing.assert_array_equal(emd(a, a, coords), 0.0)


def test_moving_a_unit_charge_gives_the_distance_of_the_centres(coords: np.ndarray) -> None:
    i, j = np.nonzero(~np.eye(N_TC, dtype=bool))  # every ordered pair of different TCs
    a = np.eye(N_TC)[i]
    b = np.eye(N_TC)[j]
    expected = np.sqrt(((coords[i] - coords[j]) ** 2).sum(axis=1))
    np.testing.assert_allclose(emd(a, b, coords), expected, rtol=1e-15, atol=0)


def test_symmetric_in_its_arguments(rng: np.random.Generator, coords: np.ndarray) -> None:
    a = np.concatenate([rng.random((100, N_TC)), _sparse(rng, 100, 6)])
    b = np.concatenate([_sparse(rng, 100, 6), rng.random((100, N_TC))])
    np.testing.assert_allclose(emd(a, b, coords), emd(b, a, coords), rtol=0, atol=1e-12)


def test_invariant_under_row_scaling(rng: np.random.Generator, coords: np.ndarray) -> None:
    a = _sparse(rng, 200, 6)
    b = a + rng.uniform(0.0, 0.1, size=a.shape)
    scale_a = rng.uniform(1e-3, 1e4, size=(200, 1))
    scale_b = rng.uniform(1e-3, 1e4, size=(200, 1))
    np.testing.assert_allclose(
        emd(a * scale_a, b * scale_b, coords), emd(a, b, coords), rtol=0, atol=1e-12
    )


def test_unit_divides_the_distance(rng: np.random.Generator, coords: np.ndarray) -> None:
    a = _sparse(rng, 50, 6)
    b = rng.random((50, N_TC))
    half_pitch = 0.5 * 2.4168015  # Ecoder's oneHexCell
    np.testing.assert_allclose(
        emd(a, b, coords, unit=half_pitch), emd(a, b, coords) / half_pitch, rtol=1e-13
    )


def test_sentinels_mark_empty_modules(rng: np.random.Generator) -> None:
    a = rng.random((4, N_TC))
    b = rng.random((4, N_TC))
    a[0] = 0.0  # empty input
    b[1] = 0.0  # empty output
    a[2] = b[2] = 0.0  # both empty: the input sentinel wins
    got = emd(a, b, _grid())
    np.testing.assert_array_equal(got[:3], [-1.0, -0.5, -1.0])
    np.testing.assert_allclose(got[3], _pot(a[3:], b[3:], _grid())[0], atol=ATOL)


def test_rows_are_independent_and_parallel_is_deterministic(
    rng: np.random.Generator, coords: np.ndarray
) -> None:
    a = np.concatenate([rng.random((100, N_TC)), _sparse(rng, 100, 8)])
    b = np.concatenate([_sparse(rng, 100, 8), a[100:] + rng.random((100, N_TC))])
    batch = emd(a, b, coords)
    np.testing.assert_array_equal(emd(a, b, coords, parallel=False), batch)
    np.testing.assert_array_equal(emd(a[::-1], b[::-1], coords)[::-1], batch)
    np.testing.assert_array_equal(emd(a[7:8], b[7:8], coords), batch[7:8])


def test_empty_batch() -> None:
    got = emd(np.zeros((0, N_TC)), np.zeros((0, N_TC)), _grid())
    assert got.shape == (0,)
    assert got.dtype == np.float64


@pytest.mark.parametrize(
    ("a", "b", "match"),
    [
        (np.ones(N_TC), np.ones(N_TC), r"a must have shape \(N, 48\).*got \(48,\)"),
        (np.ones((3, 47)), np.ones((3, 47)), r"a must have shape \(N, 48\).*got \(3, 47\)"),
        (np.ones((3, 48)), np.ones((2, 48)), r"same shape.*a \(3, 48\) and b \(2, 48\)"),
        (np.ones((3, 48)), np.full((3, 48), np.nan), r"b must be finite.*144 NaN/inf"),
        (np.full((3, 48), np.inf), np.ones((3, 48)), r"a must be finite"),
        (-np.ones((3, 48)), np.ones((3, 48)), r"a must be non-negative.*got minimum -1\.0"),
    ],
)
def test_bad_charges_raise(a: np.ndarray, b: np.ndarray, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        emd(a, b, _grid())


@pytest.mark.parametrize(
    ("coords", "match"),
    [
        (np.ones((48, 3)), r"coords must be the \(48, 2\) TC centres.*got shape \(48, 3\)"),
        (np.ones((47, 2)), r"got shape \(47, 2\)"),
        (np.full((48, 2), np.nan), r"coords must be finite"),
    ],
)
def test_bad_coords_raise(coords: np.ndarray, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        emd(np.ones((2, N_TC)), np.ones((2, N_TC)), coords)


@pytest.mark.parametrize("unit", [0.0, -1.0, np.nan])
def test_bad_unit_raises(unit: float) -> None:
    with pytest.raises(ConfigError, match="unit must be a positive length"):
        emd(np.ones((2, N_TC)), np.ones((2, N_TC)), _grid(), unit=unit)


def test_default_coords_are_the_ld8_trigger_cells(rng: np.random.Generator) -> None:
    tc_map = trigger_cell_map("ld8")
    coords = np.column_stack([tc_map.tc_x_cm, tc_map.tc_y_cm])
    np.testing.assert_array_equal(default_tc_coords(), coords)
    a = _sparse(rng, 100, 6)
    b = a + rng.uniform(0.0, 0.05, size=a.shape)
    np.testing.assert_allclose(emd(a, b), _pot(a, b, coords), rtol=0, atol=ATOL)
