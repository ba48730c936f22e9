"""ln Γ and the regularised lower incomplete Γ (scipy wrappers) against closed forms and quadrature."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hgcal_ae.errors import ConfigError
from hgcal_ae.simulation._special import gammainc_lower, lgamma

X_GRID = np.linspace(0.0, 60.0, 241)


def test_lgamma_matches_math() -> None:
    a = np.concatenate([np.linspace(0.05, 1.0, 40), np.linspace(1.0, 200.0, 400)])
    expected = np.array([math.lgamma(v) for v in a])
    np.testing.assert_allclose(lgamma(a), expected, rtol=1e-13, atol=1e-13)


def test_p_of_one_is_exponential_cdf() -> None:
    np.testing.assert_allclose(gammainc_lower(1.0, X_GRID), -np.expm1(-X_GRID), rtol=0, atol=1e-14)


@pytest.mark.parametrize("n", [2, 3, 5, 8, 13, 20])
def test_integer_shape_closed_form(n: int) -> None:
    # P(n, x) = 1 − e^{−x} Σ_{k<n} x^k/k!
    k = np.arange(n)[:, None]
    terms = X_GRID[None, :] ** k / np.array([math.factorial(i) for i in range(n)])[:, None]
    expected = 1.0 - np.exp(-X_GRID) * terms.sum(axis=0)
    np.testing.assert_allclose(gammainc_lower(float(n), X_GRID), expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize("n", [1, 2, 4, 9, 19])
def test_half_integer_shape_closed_form(n: int) -> None:
    # P(n + 1/2, x) = erf(√x) − e^{−x} Σ_{k<n} x^{k+1/2}/Γ(k + 3/2)
    erf = np.array([math.erf(math.sqrt(v)) for v in X_GRID])
    k = np.arange(n)[:, None]
    gam = np.array([math.gamma(i + 1.5) for i in range(n)])[:, None]
    expected = erf - np.exp(-X_GRID) * (X_GRID[None, :] ** (k + 0.5) / gam).sum(axis=0)
    np.testing.assert_allclose(gammainc_lower(n + 0.5, X_GRID), expected, rtol=0, atol=1e-10)


def _quadrature(a: float, x: np.ndarray, n_points: int) -> np.ndarray:
    """P(a, x) by the trapezoid rule after t = s^m (m a − 1 ≥ 5 smooths the t = 0 end)."""
    m = max(1, math.ceil(6.0 / a))
    s = x[None, :] ** (1.0 / m) * np.linspace(0.0, 1.0, n_points)[:, None]
    integrand = m * s ** (m * a - 1.0) * np.exp(-(s**m) - math.lgamma(a))
    return np.trapezoid(integrand, s, axis=0)


@pytest.mark.parametrize("a", [1.1, 1.37, 2.2, 3.7, 6.45, 11.3, 20.0])
def test_against_quadrature(a: float) -> None:
    # Richardson extrapolation of two trapezoid sums removes the h² term.
    coarse = _quadrature(a, X_GRID, 10_001)
    fine = _quadrature(a, X_GRID, 20_001)
    expected = (4.0 * fine - coarse) / 3.0
    np.testing.assert_allclose(gammainc_lower(a, X_GRID), expected, rtol=0, atol=1e-10)


def test_p_of_a_at_a() -> None:
    # P(a, a) → 1/2 from above as a grows; P(1, 1) = 1 − 1/e; P(2, 2) = 1 − 3/e².
    values = gammainc_lower(np.array([1.0, 2.0]), np.array([1.0, 2.0]))
    np.testing.assert_allclose(values, [1 - math.exp(-1), 1 - 3 * math.exp(-2)], atol=1e-15)
    big = gammainc_lower(np.array([10.0, 100.0, 1000.0]), np.array([10.0, 100.0, 1000.0]))
    assert np.all(np.diff(big) < 0)
    assert np.all(big > 0.5)
    assert big[-1] == pytest.approx(0.5 + 1 / (3 * math.sqrt(2 * math.pi * 1000)), abs=1e-4)


def test_monotonic_bounded_and_broadcast() -> None:
    a = np.linspace(1.1, 20.0, 12)[:, None]
    p = gammainc_lower(a, X_GRID[None, :])
    assert p.shape == (12, X_GRID.size)
    assert np.all(np.diff(p, axis=1) >= 0)
    assert np.all((p >= 0) & (p <= 1))
    assert np.all(p[:, 0] == 0)
    np.testing.assert_allclose(p[:, -1], 1.0, atol=1e-10)


@pytest.mark.parametrize(("a", "x", "match"), [(0.0, 1.0, "a > 0"), (2.0, -1.0, "x >= 0")])
def test_bad_arguments(a: float, x: float, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        gammainc_lower(a, x)


def test_bad_lgamma_argument() -> None:
    with pytest.raises(ConfigError, match="a > 0"):
        lgamma(np.array([1.0, np.nan]))
