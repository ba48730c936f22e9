"""The exact EMD solver on any number of cells with any metric ground distance, against POT."""

from __future__ import annotations

import numpy as np
import pytest

from hgcal_ae.errors import ConfigError
from hgcal_ae.metrics.emd import emd, emd_with_distance

ot = pytest.importorskip("ot")


def _distance(xy: np.ndarray) -> np.ndarray:
    return np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=-1))


def _rows(rng: np.random.Generator, n_rows: int, n: int) -> np.ndarray:
    """Rows with 1..n non-zero cells at random places (dense and sparse rows alike)."""
    out = np.zeros((n_rows, n))
    for row in out:
        k = rng.integers(1, n + 1)
        row[rng.choice(n, size=k, replace=False)] = rng.exponential(size=k)
    return out


@pytest.mark.parametrize("n", [7, 48, 109])
def test_any_number_of_cells_equals_pot(n: int) -> None:
    rng = np.random.default_rng(n)
    dist = _distance(rng.uniform(-8.0, 8.0, size=(n, 2)))
    a, b = _rows(rng, 60, n), _rows(rng, 60, n)
    b[:20] = a[:20] + rng.uniform(0.0, 0.05, size=(20, n))  # nearly equal rows, dense output
    got = emd_with_distance(a, b, dist)
    ref = np.array([ot.emd2(x / x.sum(), y / y.sum(), dist) for x, y in zip(a, b, strict=True)])
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=0.0)
    np.testing.assert_array_equal(emd_with_distance(a, b, dist, parallel=False), got)


def test_degenerate_grid_of_109_cells_equals_pot() -> None:
    # many equal distances: degenerate optima, the Bland's-rule path of the pivots
    y, x = np.divmod(np.arange(109), 11)
    dist = _distance(np.column_stack([x, y]).astype(np.float64))
    rng = np.random.default_rng(7)
    a, b = _rows(rng, 40, 109), _rows(rng, 40, 109)
    got = emd_with_distance(a, b, dist)
    ref = np.array([ot.emd2(x / x.sum(), y / y.sum(), dist) for x, y in zip(a, b, strict=True)])
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-12)


def test_48_cells_give_what_emd_gives() -> None:
    rng = np.random.default_rng(3)
    xy = rng.uniform(-8.0, 8.0, size=(48, 2))
    a, b = _rows(rng, 50, 48), _rows(rng, 50, 48)
    np.testing.assert_array_equal(emd_with_distance(a, b, _distance(xy)), emd(a, b, xy))


def test_empty_rows_keep_the_sentinels() -> None:
    dist = _distance(np.arange(10.0).reshape(5, 2))
    a = np.array([[0.0] * 5, [1.0, 0, 0, 0, 0]])
    b = np.array([[1.0, 0, 0, 0, 0], [0.0] * 5])
    assert emd_with_distance(a, b, dist).tolist() == [-1.0, -0.5]


@pytest.mark.parametrize(
    ("dist", "match"),
    [
        (np.zeros((4, 4)), r"dist must be the \(5, 5\) ground distance .*got \(4, 4\)"),
        (np.ones((5, 5)), r"zero diagonal"),
        (np.triu(np.ones((5, 5)), 1), r"symmetric"),
    ],
)
def test_bad_ground_distance_is_one_clear_error(dist: np.ndarray, match: str) -> None:
    a = np.ones((2, 5))
    with pytest.raises(ConfigError, match=match):
        emd_with_distance(a, a, dist)
