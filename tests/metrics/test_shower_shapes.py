"""Tests of the per-event shower shapes on CSR hit arrays, against slow reference loops."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import gamma

from hgcal_ae.errors import ConfigError
from hgcal_ae.metrics.shower_shapes import (
    barycentre,
    containment_radius,
    event_index,
    event_sums,
    hit_multiplicity,
    longitudinal_profile,
    mean_profile_t_max,
    profile_t_max,
)

# depth of the 28 CE-E layers, "Sum X0 analysis" of physics.md table 1.3 [X0]
X0_ANALYSIS = np.array(
    [0.943, 1.923, 2.858, 3.838, 4.773, 5.753, 6.688, 7.668, 8.603, 9.583, 10.518, 11.498,
     12.433, 13.413, 14.348, 15.328, 16.263, 17.243, 18.178, 19.157, 20.092, 21.240, 22.174,
     23.322, 24.256, 25.505, 26.440, 27.725]
)  # fmt: skip


@pytest.fixture
def toy(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Small random CSR event sample, including empty events at the start, middle and end."""
    counts = rng.integers(0, 25, size=40)
    counts[[0, 17, 39]] = 0
    offsets = np.concatenate(([0], np.cumsum(counts)))
    n = int(offsets[-1])
    return {
        "offsets": offsets,
        "x": rng.normal(0.0, 3.0, n),
        "y": rng.normal(1.0, 2.0, n),
        "energy": rng.exponential(2.0, n),
        "layer": rng.integers(1, 29, n),
    }


def test_multiplicity_and_event_index(toy: dict[str, np.ndarray]) -> None:
    o = toy["offsets"]
    np.testing.assert_array_equal(hit_multiplicity(o), np.diff(o))
    ev = event_index(o)
    for i in range(o.size - 1):
        assert np.all(ev[o[i] : o[i + 1]] == i)


def test_sums_profiles_barycentre_match_a_loop(toy: dict[str, np.ndarray]) -> None:
    o, x, y, e, lay = (toy[k] for k in ("offsets", "x", "y", "energy", "layer"))
    sums = event_sums(e, o)
    profile = longitudinal_profile(lay, e, o)
    xb, yb = barycentre(x, y, e, o)
    assert profile.shape == (o.size - 1, 28)
    for i in range(o.size - 1):
        sl = slice(o[i], o[i + 1])
        assert sums[i] == pytest.approx(e[sl].sum())
        ref = np.zeros(28)
        for layer, energy in zip(lay[sl], e[sl], strict=True):
            ref[layer - 1] += energy
        np.testing.assert_allclose(profile[i], ref, atol=1e-12)
        if o[i] == o[i + 1]:
            assert np.isnan(xb[i]) and np.isnan(yb[i])
        else:
            assert xb[i] == pytest.approx(np.sum(e[sl] * x[sl]) / e[sl].sum())
            assert yb[i] == pytest.approx(np.sum(e[sl] * y[sl]) / e[sl].sum())


def _r_loop(x: np.ndarray, y: np.ndarray, e: np.ndarray, fraction: float) -> float:
    cx, cy = np.sum(e * x) / e.sum(), np.sum(e * y) / e.sum()
    r = np.hypot(x - cx, y - cy)
    order = np.argsort(r, kind="stable")
    cum = 0.0
    for k in order:
        cum += e[k]
        if cum >= fraction * e.sum() * (1 - 1e-12):
            return float(r[k])
    raise AssertionError


@pytest.mark.parametrize("fraction", [0.5, 0.9, 1.0])
def test_containment_radius_matches_a_loop(toy: dict[str, np.ndarray], fraction: float) -> None:
    o, x, y, e = (toy[k] for k in ("offsets", "x", "y", "energy"))
    r = containment_radius(x, y, e, o, fraction=fraction)
    for i in range(o.size - 1):
        sl = slice(o[i], o[i + 1])
        if o[i] == o[i + 1]:
            assert np.isnan(r[i])
        else:
            assert r[i] == pytest.approx(_r_loop(x[sl], y[sl], e[sl], fraction))


def test_containment_radius_of_a_ring() -> None:
    phi = np.linspace(0.0, 2 * np.pi, 36, endpoint=False)
    radii = np.array([1.5, 4.0])
    x = np.concatenate([2.0 + r * np.cos(phi) for r in radii])
    y = np.concatenate([-1.0 + r * np.sin(phi) for r in radii])
    offsets = np.array([0, 36, 72])
    r90 = containment_radius(x, y, np.ones(72), offsets)
    np.testing.assert_allclose(r90, radii, rtol=1e-12)


def test_containment_radius_of_ten_equal_hits() -> None:
    r = np.arange(1.0, 11.0)
    x, y = np.concatenate([r, -r]), np.zeros(20)  # two events, 10 equal hits at r = 1..10
    offsets = np.array([0, 10, 20])
    centre = (np.zeros(2), np.zeros(2))
    np.testing.assert_array_equal(
        containment_radius(x, y, np.ones(20), offsets, centre=centre), 9.0
    )
    np.testing.assert_array_equal(
        containment_radius(x, y, np.ones(20), offsets, fraction=0.5, centre=centre), 5.0
    )


def test_containment_radius_rejects_bad_input() -> None:
    with pytest.raises(ConfigError, match=r"fraction in \(0, 1\]"):
        containment_radius([0.0], [0.0], [1.0], [0, 1], fraction=0.0)
    with pytest.raises(ConfigError, match="centre as two arrays of shape"):
        containment_radius([0.0], [0.0], [1.0], [0, 1], centre=([0.0, 1.0], [0.0, 1.0]))
    with pytest.raises(ConfigError, match="same length"):
        containment_radius([0.0, 1.0], [0.0], [1.0], [0, 1])


def test_offsets_are_checked() -> None:
    with pytest.raises(ConfigError, match="starting at 0 and non-decreasing"):
        event_sums([1.0, 2.0], [0, 2, 1, 2])
    with pytest.raises(ConfigError, match=r"offsets\[-1\] == number of hits 2"):
        event_sums([1.0, 2.0], [0, 1])
    with pytest.raises(ConfigError, match="integer array"):
        event_sums([1.0, 2.0], [0.0, 2.0])
    with pytest.raises(ConfigError, match=r"layer numbers in 1\.\.28"):
        longitudinal_profile([0, 3], [1.0, 1.0], [0, 2])


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
