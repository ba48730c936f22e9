"""The Gaussian core of a distribution: the response and resolution of one beam energy.

Public API::

    gaussian_core(values, *, low_sigma=1.0, high_sigma=2.5, iterations=5) -> FitResult
    MIN_CORE_ENTRIES                   # fewer finite values: no width can be quoted at all

The method follows the CE-E positron analysis ([MB] ``fits.py``; reference/physics.md
section 2.3): the mean of an iterated Gaussian fit of the core in [mu - 1 sigma,
mu + 2.5 sigma], which keeps the low-side leakage tail out of the fit.  The fits of the
resolution, linearity and shower depth across energies are :mod:`hgcal_ae.metrics.fits`.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from hgcal_ae.errors import ConfigError
from hgcal_ae.metrics.fits import FitResult, chi_square, curve_fit_or_none

__all__ = ["MIN_CORE_ENTRIES", "gaussian_core"]

FloatArray = npt.NDArray[np.float64]

MIN_CORE_ENTRIES = 10  # fewer finite values: no width can be quoted at all
MIN_HIST_ENTRIES = 30  # fewer entries in the fit window: mean and standard deviation instead
MAD_TO_SIGMA = 1.482602218505602  # 1 / Phi^-1(3/4): MAD of a normal distribution -> sigma


def _gauss(x: FloatArray, amplitude: float, mean: float, sigma: float) -> FloatArray:
    return amplitude * np.exp(-0.5 * ((x - mean) / sigma) ** 2)


def _mean_std(v: FloatArray) -> FitResult:
    """Sample mean and standard deviation with their standard errors (normal approximation)."""
    n = v.size
    std = float(np.std(v, ddof=1))
    return FitResult(
        values={"mean": float(np.mean(v)), "sigma": std},
        errors={"mean": std / math.sqrt(n), "sigma": std / math.sqrt(2.0 * (n - 1))},
        chi2=math.nan,
        ndf=0,
    )


def gaussian_core(
    values: npt.ArrayLike,
    *,
    low_sigma: float = 1.0,
    high_sigma: float = 2.5,
    iterations: int = 5,
) -> FitResult:
    """Mean and width of the Gaussian core of a distribution, by an iterated window fit.

    Starting from the median and a robust width (1.4826 x the median absolute deviation), the
    values in [mu - low_sigma * sigma, mu + high_sigma * sigma] are histogrammed and fitted
    with a Gaussian (``curve_fit``, Poisson errors sqrt(n), 1 for empty bins); the fitted mu
    and sigma define the next window.  This is the response/resolution fit of the CE-E
    positron analysis ([MB] ``fits.py``, window [mu - 1 sigma, mu + 2.5 sigma]; physics.md
    section 2.3), which keeps the low-side leakage tail out of the fit.

    Parameters
    ----------
    values
        Per-event quantity (e.g. reconstructed energy [GeV] or [MIP]); non-finite entries
        are dropped.
    low_sigma, high_sigma
        Window below and above the mean, in units of sigma (> 0).
    iterations
        Maximum number of fit iterations (>= 1); stops earlier once mu and sigma are stable.

    Returns
    -------
    FitResult
        ``values``/``errors`` with keys ``"mean"`` and ``"sigma"``, in the unit of
        ``values``.  With fewer than 30 entries in the window (or a failed fit) the sample
        mean and standard deviation of all finite values, with standard errors
        sigma/sqrt(n) and sigma/sqrt(2(n-1)), are returned instead (``ndf = 0``, chi2 nan).

    Raises
    ------
    ConfigError
        If fewer than 10 finite values are given, or the window/iteration settings are
        invalid.
    """
    if not (low_sigma > 0 and high_sigma > 0 and math.isfinite(low_sigma + high_sigma)):
        msg = f"expected window widths > 0 sigma, got low_sigma={low_sigma!r}, high_sigma={high_sigma!r}"
        raise ConfigError(msg)
    if (
        isinstance(iterations, bool)
        or not isinstance(iterations, int | np.integer)
        or iterations < 1
    ):
        msg = f"expected iterations to be an integer >= 1, got {iterations!r}"
        raise ConfigError(msg)
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if v.size < MIN_CORE_ENTRIES:
        msg = f"expected at least {MIN_CORE_ENTRIES} finite values for a Gaussian core fit, got {v.size}"
        raise ConfigError(msg)

    fallback = _mean_std(v)
    mu = float(np.median(v))
    sigma = MAD_TO_SIGMA * float(np.median(np.abs(v - mu)))
    if not sigma > 0:  # more than half the values identical: no robust width
        sigma = fallback.values["sigma"]
    if v.size < MIN_HIST_ENTRIES or not sigma > 0:
        return fallback

    result: FitResult | None = None
    for _ in range(int(iterations)):
        lo, hi = mu - low_sigma * sigma, mu + high_sigma * sigma
        window = v[(v >= lo) & (v <= hi)]
        if window.size < MIN_HIST_ENTRIES:
            break
        n_bins = int(np.clip(round(math.sqrt(window.size)), 10, 60))
        counts, edges = np.histogram(window, bins=n_bins, range=(lo, hi))
        centres = 0.5 * (edges[:-1] + edges[1:])
        y = counts.astype(np.float64)
        err = np.sqrt(np.maximum(y, 1.0))
        fit = curve_fit_or_none(_gauss, centres, y, err, [float(y.max()), mu, sigma])
        if fit is None:
            break
        popt, pcov = fit
        new_mu, new_sigma = float(popt[1]), abs(float(popt[2]))
        if not (lo <= new_mu <= hi and 0 < new_sigma < 10 * (hi - lo)):
            break  # the fit ran away from the window: keep the last good iteration
        perr = np.sqrt(np.diag(pcov))
        result = FitResult(
            values={"mean": new_mu, "sigma": new_sigma},
            errors={"mean": float(perr[1]), "sigma": float(perr[2])},
            chi2=chi_square(_gauss, centres, y, err, popt),
            ndf=n_bins - 3,
        )
        converged = (
            abs(new_mu - mu) < 1e-4 * new_sigma and abs(new_sigma - sigma) < 1e-4 * new_sigma
        )
        mu, sigma = new_mu, new_sigma
        if converged:
            break
    return fallback if result is None else result
