"""Tests of the per-module quality measures against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hgcal_ae.errors import ConfigError
from hgcal_ae.metrics.emd import default_tc_coords
from hgcal_ae.metrics.module_quality import (
    centroid_shift,
    energy_ratio,
    module_quality,
    occupancy,
    summarise,
    width_ratio,
)

N_TC = 48


def _grid() -> np.ndarray:
    """A 6 x 8 grid of pitch 1 cm: TC k at (k % 8, k // 8)."""
    y, x = np.mgrid[0:6, 0:8]
    return np.column_stack([x.ravel(), y.ravel()]).astype(np.float64)


def _rows(*cells: dict[int, float]) -> np.ndarray:
    out = np.zeros((len(cells), N_TC))
    for r, c in enumerate(cells):
        for k, v in c.items():
            out[r, k] = v
    return out


def test_energy_ratio_hand_examples() -> None:
    a = _rows({0: 2.0, 5: 2.0}, {1: 4.0}, {3: 1.0}, {})
    b = _rows({0: 1.0, 7: 2.0}, {1: 4.0}, {}, {2: 1.0})
    r = energy_ratio(a, b)
    assert r[:3].tolist() == [0.75, 1.0, 0.0]
    assert math.isnan(r[3])  # empty input: no ratio, no warning


@pytest.mark.parametrize(("i", "j"), [(0, 1), (0, 47), (13, 30)])
def test_centroid_shift_moves_charge_between_tcs(i: int, j: int) -> None:
    xy = default_tc_coords()
    a = _rows({i: 3.5})
    b = _rows({j: 1.25})  # any amount: centroids are normalised
    expected = math.dist(xy[i], xy[j])
    assert centroid_shift(a, b) == pytest.approx([expected], rel=1e-12)
    assert centroid_shift(a, b, xy) == pytest.approx([expected], rel=1e-12)


def test_centroid_shift_partial_and_nan() -> None:
    xy = _grid()
    # input: 1 at (0,0) and 1 at (2,0) -> centroid (1,0); output: all at (1,0) -> shift 0
    # second: input at (0,0), output 1 at (0,0) and 3 at (0,4)=TC 32 -> centroid (0,3)
    a = _rows({0: 1.0, 2: 1.0}, {0: 1.0}, {}, {0: 1.0})
    b = _rows({1: 5.0}, {0: 1.0, 32: 3.0}, {0: 1.0}, {})
    d = centroid_shift(a, b, xy)
    assert d[:2] == pytest.approx([0.0, 3.0], abs=1e-12)
    assert np.isnan(d[2:]).all()


def test_width_ratio_identical_is_one(rng: np.random.Generator) -> None:
    a = rng.exponential(size=(20, N_TC)) * (rng.random((20, N_TC)) < 0.4)
    a[:, :2] += 1.0  # at least two hit TCs: width > 0
    assert (width_ratio(a, a) == 1.0).all()
    # a pure translation of the pattern keeps the width
    b = np.roll(_rows({0: 1.0, 2: 3.0}), 1, axis=1)
    assert width_ratio(_rows({0: 1.0, 2: 3.0}), b, _grid()) == pytest.approx([1.0])


def test_width_ratio_toy_values() -> None:
    xy = _grid()
    # input: equal charges at x = 0 and x = 2 -> RMS radius 1
    # output 1: equal charges at x = 0 and x = 4 -> RMS radius 2 -> ratio 2
    # output 2: 1 at x = 0, 3 at x = 4 -> centroid 3, variance (9 + 3) / 4 = 3 -> ratio sqrt 3
    # output 3: one TC -> width 0 -> ratio 0
    a = _rows({0: 1.0, 2: 1.0}, {0: 1.0, 2: 1.0}, {0: 1.0, 2: 1.0})
    b = _rows({0: 1.0, 4: 1.0}, {0: 1.0, 4: 3.0}, {5: 2.0})
    assert width_ratio(a, b, xy) == pytest.approx([2.0, math.sqrt(3.0), 0.0], abs=1e-12)


def test_width_ratio_undefined_is_nan() -> None:
    # input in a single TC (width exactly 0), empty input, empty output
    a = _rows({7: 2.0}, {}, {0: 1.0, 1: 1.0})
    b = _rows({7: 1.0, 8: 1.0}, {3: 1.0}, {})
    assert np.isnan(width_ratio(a, b)).all()


def test_occupancy_counts() -> None:
    a = _rows({0: 0.5, 1: 1.0, 2: 3.0, 3: 0.99}, {}, dict.fromkeys(range(48), 2.0))
    assert occupancy(a, 1.0).tolist() == [2, 0, 48]
    assert occupancy(a, 0.5).tolist() == [4, 0, 48]
    assert occupancy(a, 2.5).tolist() == [1, 0, 0]
    assert occupancy(a, 1.0).dtype == np.int64
    with pytest.raises(ConfigError, match="threshold"):
        occupancy(a, 0.0)


def test_module_quality_keys_and_sentinels() -> None:
    a = _rows({0: 2.0, 1: 2.0}, {}, {5: 1.0}, {0: 1.0, 9: 1.0})
    b = _rows({0: 2.0, 1: 2.0}, {4: 1.0}, {}, {0: 1.5, 9: 0.5})
    q = module_quality(a, b, occupancy_threshold=1.0)
    assert set(q) == {
        "emd",
        "energy_ratio",
        "centroid_shift",
        "width_ratio",
        "occupancy_in",
        "occupancy_out",
    }
    assert all(v.shape == (4,) for v in q.values())
    assert q["emd"][:3].tolist() == [0.0, -1.0, -0.5]  # identical, empty in, empty out
    assert q["emd"][3] > 0
    assert q["energy_ratio"][0] == 1.0 and np.isnan(q["energy_ratio"][1])
    assert q["energy_ratio"][3] == 1.0
    assert q["centroid_shift"][0] == 0.0 and np.isnan(q["centroid_shift"][1:3]).all()
    assert q["width_ratio"][0] == 1.0
    assert q["occupancy_in"].tolist() == [2, 0, 1, 2]
    assert q["occupancy_out"].tolist() == [2, 1, 0, 1]


def test_summarise_drops_nan_and_sentinels() -> None:
    s = summarise([1.0, 2.0, 3.0, np.nan, -1.0, -0.5, 4.0])
    assert s["n"] == 4
    assert s["mean"] == 2.5 and s["median"] == 2.5
    assert s["std"] == pytest.approx(np.std([1.0, 2.0, 3.0, 4.0]))
    assert s["q16"] == pytest.approx(np.quantile([1, 2, 3, 4], 0.16))
    assert s["q84"] == pytest.approx(np.quantile([1, 2, 3, 4], 0.84))
    signed = summarise([-1.0, 1.0, np.nan], drop_negative=False)
    assert signed["n"] == 2 and signed["mean"] == 0.0


def test_summarise_empty_is_nan_without_warning() -> None:
    s = summarise([np.nan, -1.0, -0.5])
    assert s["n"] == 0
    assert all(math.isnan(s[k]) for k in ("mean", "std", "median", "q16", "q84"))
    assert summarise(np.array([]))["n"] == 0


@pytest.mark.parametrize(
    ("a", "b", "match"),
    [
        (np.zeros((3, 47)), np.zeros((3, 47)), r"shape \(N, 48\)"),
        (np.zeros(48), np.zeros(48), r"shape \(N, 48\)"),
        (np.zeros((3, 48)), np.zeros((2, 48)), "same shape"),
        (-np.ones((1, 48)), np.ones((1, 48)), "non-negative"),
        (np.full((1, 48), np.nan), np.ones((1, 48)), "finite"),
    ],
)
def test_bad_charges(a: np.ndarray, b: np.ndarray, match: str) -> None:
    for func in (energy_ratio, centroid_shift, width_ratio):
        with pytest.raises(ConfigError, match=match):
            func(a, b)
    with pytest.raises(ConfigError, match=match):
        module_quality(a, b, occupancy_threshold=1.0)


def test_bad_coords() -> None:
    a = np.ones((2, N_TC))
    with pytest.raises(ConfigError, match=r"\(48, 2\)"):
        centroid_shift(a, a, np.zeros((47, 2)))
    with pytest.raises(ConfigError, match=r"\(48, 2\)"):
        width_ratio(a, a, np.full((48, 2), np.inf))
