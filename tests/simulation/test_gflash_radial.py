"""GFlash radial kernels: the depth variable tau, radial profiles, radii, spot counts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hgcal_ae.errors import ConfigError
from hgcal_ae.simulation.gflash_radial import (
    radial_parameters,
    sample_radius,
    sample_radius_grouped,
    spots_per_shower,
    tau_of_depth,
)
from hgcal_ae.simulation.medium import tb2018_medium

MEDIUM = tb2018_medium("W75Cu25")


def test_tau_is_depth_over_mean_shower_maximum() -> None:
    # For the mean shower (α_i = ⟨α⟩) τ = t/T_i; a shower with larger α at equal T is shallower.
    assert tau_of_depth(6.0, 3.0, 4.0, 4.0) == pytest.approx(2.0)
    assert tau_of_depth(6.0, 3.0, 8.0, 4.0) > 2.0
    tau = tau_of_depth(np.linspace(0, 20, 5)[:, None], np.array([5.0, 8.0]), 4.0, 4.5)
    assert tau.shape == (5, 2)


@pytest.mark.parametrize("energy", [1.0, 20.0, 100.0, 300.0])
@pytest.mark.parametrize("reading", ["Cu75W25", "W75Cu25"])
def test_radial_parameters_positive(energy: float, reading: str) -> None:
    tau = np.linspace(0.0, 3.0, 301)
    r_core, r_tail, p_core = radial_parameters(tau, energy, tb2018_medium(reading))
    assert r_core.shape == r_tail.shape == p_core.shape == tau.shape
    assert np.all(r_core > 0)
    assert np.all(r_tail > r_core)
    assert np.all((p_core > 0) & (p_core <= 1))
    # The core widens with depth.
    assert np.all(np.diff(r_core) > 0)


def test_radial_parameters_values() -> None:
    r_core, r_tail, p_core = radial_parameters(0.0, 100.0, MEDIUM)
    ln_e, z, one_minus_ehat, fs = math.log(100.0), 54.7, 0.22, 1.09
    assert r_core == pytest.approx(0.0251 + 0.00319 * ln_e - 0.0203 * one_minus_ehat + 0.0397 / fs)
    k4 = 0.3585 + 0.0412 * ln_e
    r_t = (0.659 - 0.00309 * z) * (math.exp(2.59 * 0.645) + math.exp(-k4 * 0.645))
    assert r_tail == pytest.approx(r_t - 0.14 * one_minus_ehat - 0.495 / fs)
    arg = (0.401 + 0.00187 * z) / (1.313 - 0.0686 * ln_e)
    p = (2.632 - 0.00094 * z) * math.exp(arg - math.exp(arg))
    assert p_core == pytest.approx(p + one_minus_ehat * (0.348 - 0.642 * math.exp(-1) / fs))


def test_core_fraction_matches_p(rng: np.random.Generator) -> None:
    n, p = 200_000, 0.37
    # A tail of zero width puts every tail spot at r = 0, so the core spots are those with r > 0.
    r = sample_radius(np.ones(n), 0.0, p, rng)
    assert r.shape == (n,)
    assert np.mean(r > 0) == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / n))


def test_mixture_cdf(rng: np.random.Generator) -> None:
    n, p, r_c, r_t = 200_000, 0.6, 0.1, 1.5
    r = sample_radius(np.full(n, r_c), np.full(n, r_t), np.full(n, p), rng)
    for edge in (0.05, 0.1, 0.5, 1.5, 5.0):
        expected = p * edge**2 / (edge**2 + r_c**2) + (1 - p) * edge**2 / (edge**2 + r_t**2)
        assert np.mean(r < edge) == pytest.approx(expected, abs=0.005)


def test_pure_core_median_is_core_radius(rng: np.random.Generator) -> None:
    r = sample_radius(0.2, 5.0, np.ones(100_001), rng)
    assert np.median(r) == pytest.approx(0.2, rel=0.02)


def test_sample_radius_rejects_bad_probability(rng: np.random.Generator) -> None:
    with pytest.raises(ConfigError, match=r"p_core in \[0, 1\]"):
        sample_radius(0.1, 1.0, 1.2, rng)


def test_spots_per_shower() -> None:
    n = spots_per_shower(np.array([1.0, 100.0]), 0.22)
    np.testing.assert_allclose(n, [10.3 / 0.22, 10.3 / 0.22 * 100.0**0.959], rtol=1e-14)
    with pytest.raises(ConfigError, match="stochastic_term"):
        spots_per_shower(10.0, 0.0)


def test_grouped_radii_follow_the_same_distribution_as_sample_radius():
    rng = np.random.default_rng(11)
    r_core, r_tail, p_core = np.array([0.2, 0.5]), np.array([1.0, 3.0]), np.array([0.8, 0.3])
    counts = np.array([60_000, 40_000])
    grouped = sample_radius_grouped(counts, r_core, r_tail, p_core, rng, dtype=np.float64)
    assert grouped.shape == (100_000,)
    reference = sample_radius(
        np.repeat(r_core, counts), np.repeat(r_tail, counts), np.repeat(p_core, counts), rng
    )
    for lo, hi in ((0, 60_000), (60_000, 100_000)):  # spots come out ordered by group
        q = [0.1, 0.25, 0.5, 0.75, 0.9]
        np.testing.assert_allclose(
            np.quantile(grouped[lo:hi], q), np.quantile(reference[lo:hi], q), rtol=0.03
        )


def test_grouped_radii_with_zero_counts():
    rng = np.random.default_rng(1)
    out = sample_radius_grouped(np.array([0, 3, 0]), np.ones(3), np.ones(3), np.full(3, 0.5), rng)
    assert out.shape == (3,) and out.dtype == np.float32 and np.all(out >= 0)
