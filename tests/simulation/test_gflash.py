"""GFlash longitudinal kernels: mean profiles, their fluctuations, the Γ profile; bad energies."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from hgcal_ae.errors import ConfigError
from hgcal_ae.simulation.gflash import (
    ALPHA_MIN,
    T_MIN,
    gamma_cdf,
    gamma_profile,
    longitudinal_fluctuations,
    mean_longitudinal,
    sample_longitudinal,
)
from hgcal_ae.simulation.gflash_radial import radial_parameters, spots_per_shower
from hgcal_ae.simulation.medium import tb2018_medium

MEDIUM = tb2018_medium("W75Cu25")
N_SHOWERS = 20_000


def test_mean_longitudinal_values_and_shape() -> None:
    energy = np.array([[20.0, 100.0], [300.0, 1.0]])
    T, alpha = mean_longitudinal(energy, MEDIUM)
    assert T.shape == alpha.shape == energy.shape
    ln_y = math.log(100e3 / 11.7)
    expected_t = ln_y - 0.858 - 0.59 / 1.09 - 0.53 * (1 - 0.78)
    expected_alpha = 0.21 + (0.492 + 2.38 / 54.7) * ln_y - 0.444 / 1.09
    assert T[0, 1] == pytest.approx(expected_t, rel=1e-14)
    assert alpha[0, 1] == pytest.approx(expected_alpha, rel=1e-14)


def test_mean_depth_grows_like_log_energy() -> None:
    energy = np.geomspace(1.0, 1000.0, 50)
    T, alpha = mean_longitudinal(energy, MEDIUM)
    np.testing.assert_allclose(np.diff(T) / np.diff(np.log(energy)), 1.0, atol=1e-9)
    T_20, _ = mean_longitudinal(20.0, MEDIUM)
    T_300, _ = mean_longitudinal(300.0, MEDIUM)
    depth_gain = T_300 - T_20
    assert depth_gain == pytest.approx(math.log(15.0), abs=1e-12)
    assert np.all(np.diff(alpha) > 0)


def test_sampling_is_deterministic() -> None:
    energy = np.geomspace(1.0, 300.0, 200)
    first = sample_longitudinal(energy, MEDIUM, np.random.default_rng(7))
    second = sample_longitudinal(energy, MEDIUM, np.random.default_rng(7))
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
        assert a.shape == energy.shape


def test_sampled_moments_at_100_gev(rng: np.random.Generator) -> None:
    energy = np.full(N_SHOWERS, 100.0)
    T, alpha = sample_longitudinal(energy, MEDIUM, rng)
    par = longitudinal_fluctuations(100.0, MEDIUM)
    # The clamps are far below the distributions at 100 GeV (T ~ 7.6 X0, α ~ 4.9).
    assert T.min() > 2 * T_MIN
    assert alpha.min() > 2 * ALPHA_MIN
    ln_t, ln_alpha = np.log(T), np.log(alpha)
    se = 1 / math.sqrt(N_SHOWERS)
    assert abs(ln_t.mean() - par.mean_ln_t) < 4 * par.sigma_ln_t * se
    assert abs(ln_alpha.mean() - par.mean_ln_alpha) < 4 * par.sigma_ln_alpha * se
    assert ln_t.std() == pytest.approx(par.sigma_ln_t, rel=0.03)
    assert ln_alpha.std() == pytest.approx(par.sigma_ln_alpha, rel=0.03)
    assert np.corrcoef(ln_t, ln_alpha)[0, 1] == pytest.approx(par.rho, abs=0.02)


def test_sampling_clamps_hold(rng: np.random.Generator) -> None:
    # Just above the validity limit the widths hit the σ ≤ 0.5 clamp and T, α the floors.
    energy = np.full(N_SHOWERS, 0.1)
    par = longitudinal_fluctuations(energy[:1], MEDIUM)
    assert par.sigma_ln_t[0] == 0.5
    T, alpha = sample_longitudinal(energy, MEDIUM, rng)
    assert T.min() == T_MIN
    assert alpha.min() == ALPHA_MIN
    # Both floors bite for a sizeable fraction of these showers.
    assert 0.05 < np.mean(T == T_MIN) < 0.95
    assert 0.05 < np.mean(alpha == ALPHA_MIN) < 0.95


def test_fluctuations_below_validity_raise() -> None:
    with pytest.raises(ConfigError, match=r"fluctuations need E > 0\.0865 GeV"):
        sample_longitudinal(np.array([10.0, 0.05]), MEDIUM, np.random.default_rng(0))


def test_profile_is_normalised_and_cdf_consistent() -> None:
    t = np.linspace(0.0, 60.0, 60_001)
    T = np.array([[2.0], [7.5], [12.0]])
    alpha = np.array([[2.5], [4.6], [9.0]])  # α ≥ 2: smooth at t = 0 for the trapezoid rule
    f = gamma_profile(t, T, alpha)
    np.testing.assert_allclose(np.trapezoid(f, t, axis=1), 1.0, atol=1e-6)
    # The maximum sits at T.
    np.testing.assert_allclose(t[np.argmax(f, axis=1)], T[:, 0], atol=1e-3)
    cdf = gamma_cdf(t, T, alpha)
    assert np.all(np.diff(cdf, axis=1) >= 0)
    np.testing.assert_allclose(cdf[:, -1], 1.0, atol=1e-10)
    # Slice energies from the cdf match the integral of the pdf.
    slice_from_cdf = gamma_cdf(6.0, T, alpha) - gamma_cdf(3.0, T, alpha)
    window = (t >= 3.0) & (t <= 6.0)
    np.testing.assert_allclose(
        slice_from_cdf[:, 0], np.trapezoid(f[:, window], t[window], axis=1), atol=1e-8
    )


def test_profile_zero_before_front_face() -> None:
    assert np.all(gamma_profile([-1.0, 0.0], 5.0, 3.0) == 0)
    assert np.all(gamma_cdf([-1.0, 0.0], 5.0, 3.0) == 0)


def test_profile_rejects_alpha_not_above_one() -> None:
    with pytest.raises(ConfigError, match="alpha > 1"):
        gamma_cdf(1.0, 5.0, 1.0)


@pytest.mark.parametrize("bad", [0.0, -5.0, np.nan, np.inf])
@pytest.mark.parametrize(
    "call",
    [
        lambda e: mean_longitudinal(e, MEDIUM),
        lambda e: sample_longitudinal(e, MEDIUM, np.random.default_rng(0)),
        lambda e: radial_parameters(1.0, e, MEDIUM),
        lambda e: spots_per_shower(e, 0.22),
    ],
    ids=["mean", "sample", "radial", "spots"],
)
def test_bad_energy(bad: float, call: Callable[[np.ndarray], object]) -> None:
    with pytest.raises(ConfigError, match="energy_gev must be finite and > 0 GeV"):
        call(np.array([50.0, bad]))
