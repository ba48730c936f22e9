"""Tests of the resolution, linearity and shower-depth fits."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from hgcal_ae.errors import ConfigError
from hgcal_ae.metrics.fits import (
    FitResult,
    critical_energy_fit,
    linear_fit,
    linearity_residuals,
    resolution_fit,
    shower_max_fit,
)

# mean beam energies of the positron analysis, true_E [GeV] (physics.md section 2.1)
TRUE_E = np.array([20, 30, 49.99, 79.93, 99.83, 119.20, 149.14, 197.32, 243.61, 287.18])


def _resolution(energy: np.ndarray, s: float, c: float) -> np.ndarray:
    return np.sqrt(s**2 / energy + c**2)


def test_resolution_fit_recovers_s_and_c(rng: np.random.Generator) -> None:
    truth = _resolution(TRUE_E, 0.22, 0.008)
    err = 0.02 * truth
    fit = resolution_fit(TRUE_E, truth + rng.normal(0.0, err), err)
    assert set(fit.values) == {"S", "C"}
    assert abs(fit.values["S"] - 0.22) < 3 * fit.errors["S"]
    assert abs(fit.values["C"] - 0.008) < 3 * fit.errors["C"]
    assert fit.ndf == TRUE_E.size - 2


def test_resolution_fit_pulls(rng: np.random.Generator) -> None:
    truth = _resolution(TRUE_E, 0.22, 0.008)
    err = 0.02 * truth
    pulls = []
    for _ in range(200):
        fit = resolution_fit(TRUE_E, truth + rng.normal(0.0, err), err)
        pulls.append([(fit.values[k] - v) / fit.errors[k] for k, v in (("S", 0.22), ("C", 0.008))])
    p = np.array(pulls)
    assert np.all(np.abs(p.mean(axis=0)) < 0.25)
    assert np.all(np.abs(p.std(axis=0) - 1.0) < 0.2)


def test_resolution_fit_exact_without_constant_term() -> None:
    truth = _resolution(TRUE_E, 0.2, 0.0)
    fit = resolution_fit(TRUE_E, truth, 0.01 * truth)
    assert fit.values["S"] == pytest.approx(0.2, rel=1e-6)
    assert fit.values["C"] == pytest.approx(0.0, abs=1e-5)
    assert fit.errors["C"] > 0  # bound at 0: a one-sided error scale, not zero


def test_resolution_fit_rejects_bad_input() -> None:
    with pytest.raises(ConfigError, match="same length"):
        resolution_fit([20, 30, 50], [0.05, 0.04], [0.001, 0.001])
    with pytest.raises(ConfigError, match="at least 3 points"):
        resolution_fit([20, 30], [0.05, 0.04], [0.001, 0.001])
    with pytest.raises(ConfigError, match="finite"):
        resolution_fit([20, 30, np.nan], [0.05, 0.04, 0.03], [0.001] * 3)
    with pytest.raises(ConfigError, match="rel_sigma_err > 0"):
        resolution_fit([20, 30, 50], [0.05, 0.04, 0.03], [0.001, 0.0, 0.001])
    with pytest.raises(ConfigError, match="energies > 0"):
        resolution_fit([0, 30, 50], [0.05, 0.04, 0.03], [0.001] * 3)


def test_linear_fit_exact_on_a_line() -> None:
    x = np.array([20.0, 50.0, 100.0, 200.0, 300.0])
    y = 1.03 * x - 0.4
    fit = linear_fit(x, y, np.full(x.size, 0.5))
    assert fit.values["a"] == pytest.approx(1.03, rel=1e-12)
    assert fit.values["b"] == pytest.approx(-0.4, abs=1e-10)
    assert fit.chi2 == pytest.approx(0.0, abs=1e-18)
    assert fit.ndf == 3
    np.testing.assert_allclose(linearity_residuals(x, y, fit), 0.0, atol=1e-12)
    np.testing.assert_allclose(linearity_residuals(x, 1.01 * y, fit), 0.01, rtol=1e-9)


def test_linear_fit_errors_match_the_textbook() -> None:
    # unweighted-equivalent: sigma(a)^2 = s^2 / sum((x - xbar)^2)
    x = np.array([1.0, 2.0, 3.0, 4.0])
    fit = linear_fit(x, 2 * x + 1, np.full(4, 0.1))
    assert fit.errors["a"] == pytest.approx(0.1 / math.sqrt(np.sum((x - x.mean()) ** 2)))


def test_linear_fit_rejects_bad_input() -> None:
    with pytest.raises(ConfigError, match="yerr > 0"):
        linear_fit([1, 2, 3], [1, 2, 3], [1, -1, 1])
    with pytest.raises(ConfigError, match="two distinct x"):
        linear_fit([1, 1, 1], [1, 2, 3], [1, 1, 1])
    with pytest.raises(ConfigError, match="1-D"):
        linear_fit([[1, 2, 3]], [1, 2, 3], [1, 1, 1])
    fit = shower_max_fit([1, 2, 3], [1, 2, 3], [1, 1, 1])
    with pytest.raises(ConfigError, match="'a' and 'b'"):
        linearity_residuals([1, 2], [1, 2], fit)


def test_shower_max_fit_recovers_slope(rng: np.random.Generator) -> None:
    ln_e = np.log(TRUE_E)
    t_err = np.full(ln_e.size, 0.05)
    t_max = 1.0 * ln_e + 4.1 + rng.normal(0.0, t_err)
    fit = shower_max_fit(ln_e, t_max, t_err)
    assert abs(fit.values["slope"] - 1.0) < 3 * fit.errors["slope"]
    assert abs(fit.values["offset"] - 4.1) < 3 * fit.errors["offset"]
    assert fit.errors["slope"] < 0.1


def test_critical_energy_fit() -> None:
    e_c = 0.0117  # 11.7 MeV, E_c,eff of a CE-E cassette (physics.md section 1.4)
    ln_e = np.log(TRUE_E)
    t_max = ln_e - math.log(e_c) - 0.5
    fit = critical_energy_fit(ln_e, t_max, np.full(ln_e.size, 0.1))
    assert fit.values["E_c"] == pytest.approx(e_c, rel=1e-10)
    assert fit.errors["ln_E_c"] == pytest.approx(0.1 / math.sqrt(ln_e.size))
    assert fit.errors["E_c"] == pytest.approx(e_c * fit.errors["ln_E_c"])
    assert fit.fixed == {"slope": 1.0, "offset": -0.5}
    cog = critical_energy_fit(ln_e, t_max + 2.0, np.full(ln_e.size, 0.1), offset=1.5)
    assert cog.values["E_c"] == pytest.approx(e_c, rel=1e-10)
    with pytest.raises(ConfigError, match="at least 2 points"):
        critical_energy_fit([1.0], [1.0], [0.1])


def test_fit_result_as_dict_is_json() -> None:
    fit = FitResult(values={"S": 0.2}, errors={"S": math.inf}, chi2=1.5, ndf=3)
    payload = fit.as_dict()
    assert payload == {
        "values": {"S": 0.2},
        "errors": {"S": None},
        "fixed": {},
        "chi2": 1.5,
        "ndf": 3,
    }
    json.dumps(payload, allow_nan=False)
    assert fit.chi2_ndf == pytest.approx(0.5)
