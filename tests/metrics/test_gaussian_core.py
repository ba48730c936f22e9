"""Tests of the iterated Gaussian-core fit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hgcal_ae.errors import ConfigError
from hgcal_ae.metrics.gaussian_core import gaussian_core


def test_gaussian_core_recovers_normal(rng: np.random.Generator) -> None:
    values = rng.normal(100.0, 5.0, 20_000)
    fit = gaussian_core(values)
    assert fit.values["mean"] == pytest.approx(100.0, abs=3 * fit.errors["mean"] + 0.02)
    assert fit.values["sigma"] == pytest.approx(5.0, abs=3 * fit.errors["sigma"] + 0.02)
    assert 0.03 < fit.errors["mean"] < 0.2
    assert fit.ndf > 0
    assert fit.chi2 / fit.ndf < 2.0


def test_gaussian_core_ignores_a_high_side_tail(rng: np.random.Generator) -> None:
    core = rng.normal(100.0, 5.0, 20_000)
    tail = 100.0 + rng.exponential(30.0, 1_000)
    values = np.concatenate([core, tail])
    fit = gaussian_core(values)
    assert abs(fit.values["mean"] - 100.0) < 0.06 * 5.0
    assert abs(fit.values["sigma"] - 5.0) < 0.05 * 5.0
    # the plain moments are pulled much further by the tail
    assert abs(values.mean() - 100.0) > 3 * abs(fit.values["mean"] - 100.0)
    assert values.std() > 1.3 * fit.values["sigma"]


def test_gaussian_core_few_entries_falls_back_to_moments(rng: np.random.Generator) -> None:
    values = rng.normal(3.0, 1.0, 20)
    fit = gaussian_core(np.append(values, np.nan))
    assert fit.values["mean"] == pytest.approx(values.mean())
    assert fit.values["sigma"] == pytest.approx(values.std(ddof=1))
    assert fit.errors["mean"] == pytest.approx(values.std(ddof=1) / math.sqrt(20))
    assert fit.ndf == 0
    assert fit.as_dict()["chi2"] is None


def test_gaussian_core_needs_ten_values() -> None:
    with pytest.raises(ConfigError, match="at least 10 finite values"):
        gaussian_core([1.0, 2.0, np.nan] * 3)


def test_gaussian_core_rejects_bad_window() -> None:
    with pytest.raises(ConfigError, match="window widths"):
        gaussian_core(np.arange(50.0), low_sigma=0.0)
    with pytest.raises(ConfigError, match="iterations"):
        gaussian_core(np.arange(50.0), iterations=0)
