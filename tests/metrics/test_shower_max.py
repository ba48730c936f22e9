"""Tests of the shower-maximum depth: per-event parabola and the Gamma fit of a mean profile."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import gamma

from hgcal_ae.errors import ConfigError
from hgcal_ae.metrics.shower_max import mean_profile_t_max, profile_t_max

# depth of the 28 CE-E layers, "Sum X0 analysis" of physics.md table 1.3 [X0]
X0_ANALYSIS = np.array(
    [0.943, 1.923, 2.858, 3.838, 4.773, 5.753, 6.688, 7.668, 8.603, 9.583, 10.518, 11.498,
     12.433, 13.413, 14.348, 15.328, 16.263, 17.243, 18.178, 19.157, 20.092, 21.240, 22.174,
     23.322, 24.256, 25.505, 26.440, 27.725]
)  # fmt: skip


def _gamma_profile(t: np.ndarray, alpha: float, beta: float, energy: float = 100.0) -> np.ndarray:
    return energy * gamma.pdf(t, alpha, scale=1.0 / beta)


def test_mean_profile_t_max_recovers_gamma_peak() -> None:
    alpha, beta = 4.2, 0.52
    fit = mean_profile_t_max(_gamma_profile(X0_ANALYSIS, alpha, beta), X0_ANALYSIS)
    assert fit.values["t_max"] == pytest.approx((alpha - 1) / beta, rel=1e-6)
    assert fit.values["alpha"] == pytest.approx(alpha, rel=1e-6)
    assert fit.values["beta"] == pytest.approx(beta, rel=1e-6)


def test_mean_profile_t_max_error_covers_noise(rng: np.random.Generator) -> None:
    alpha, beta = 4.2, 0.52
    truth = _gamma_profile(X0_ANALYSIS, alpha, beta, energy=1000.0)
    err = 0.03 * truth + 0.5
    fit = mean_profile_t_max(truth + rng.normal(0.0, err), X0_ANALYSIS, profile_err=err)
    assert 0 < fit.errors["t_max"] < 0.5
    assert abs(fit.values["t_max"] - (alpha - 1) / beta) < 3 * fit.errors["t_max"]
    assert fit.chi2 / fit.ndf < 2.5


def test_mean_profile_t_max_with_layer_thickness() -> None:
    widths = np.diff(np.concatenate(([0.0], X0_ANALYSIS)))
    y = _gamma_profile(X0_ANALYSIS, 3.5, 0.5, energy=50.0) * widths
    fit = mean_profile_t_max(y, X0_ANALYSIS, layer_x0=widths)
    assert fit.values["E"] == pytest.approx(50.0, rel=1e-6)
    assert fit.values["t_max"] == pytest.approx(5.0, rel=1e-6)


def test_profile_t_max_per_event() -> None:
    params = [(4.2, 0.52), (3.0, 0.5), (6.0, 0.6)]
    t_fine = np.linspace(0.25, 28.0, 112)  # 0.25 X0 sampling: the parabola is nearly exact
    profiles = np.stack([_gamma_profile(t_fine, a, b) for a, b in params])
    expected = np.array([(a - 1) / b for a, b in params])
    np.testing.assert_allclose(profile_t_max(profiles, t_fine), expected, atol=0.02)
    # on the real ~1 X0 layer spacing the parabola stays within a fraction of a layer
    coarse = np.stack([_gamma_profile(X0_ANALYSIS, a, b) for a, b in params])
    np.testing.assert_allclose(profile_t_max(coarse, X0_ANALYSIS), expected, atol=0.3)
    assert profile_t_max(coarse[0], X0_ANALYSIS) == pytest.approx(expected[0], abs=0.3)


def test_profile_t_max_edges_and_empty() -> None:
    t = np.arange(1.0, 6.0)
    profiles = np.array([[5.0, 3, 2, 1, 0], [0, 1, 2, 3, 5], [0, 0, 0, 0, 0], [1, 2, 2, 1, 0]])
    out = profile_t_max(profiles, t)
    assert out[0] == 1.0 and out[1] == 5.0 and np.isnan(out[2])
    assert out[3] == pytest.approx(2.5)
    with pytest.raises(ConfigError, match="increasing depths"):
        profile_t_max(profiles, t[::-1])
