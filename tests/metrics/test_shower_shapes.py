"""Tests of the per-event shower shapes on CSR hit arrays, against slow reference loops."""

from __future__ import annotations

import numpy as np
import pytest

from hgcal_ae.errors import ConfigError
from hgcal_ae.metrics.shower_shapes import (
    barycentre,
    containment_radius,
    event_index,
    event_sums,
    hit_multiplicity,
    longitudinal_profile,
)


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
