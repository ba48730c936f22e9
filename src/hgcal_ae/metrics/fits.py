"""Fits of the positron-analysis quantities across beam energies, with uncertainties.

Public API::

    FitResult(values, errors, chi2, ndf, fixed={})      # .as_dict() for summary.json
    resolution_fit(energy, rel_sigma, rel_sigma_err) -> FitResult        # S, C
    linear_fit(x, y, yerr) -> FitResult                                  # a, b
    linearity_residuals(x, y, fit) -> ndarray                            # y / (a x + b) - 1
    shower_max_fit(ln_energy, t_max, t_err) -> FitResult                 # slope, offset
    critical_energy_fit(ln_energy, t_max, t_err, *, offset=-0.5) -> FitResult   # E_c
    curve_fit_or_none(model, x, y, sigma, p0, **kwargs); chi_square(model, x, y, sigma, p)

The methods follow the CE-E positron analysis ([MB] ``fits.py``; reference/physics.md
section 2.3): the resolution is fitted as sigma/E = S/sqrt(E) (+) C without a noise term;
the shower maximum as t_max = ln(E/E_c) - 0.5 [X0].  The response and width of each beam
energy, the iterated Gaussian core, are :mod:`hgcal_ae.metrics.gaussian_core`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import OptimizeWarning, curve_fit

from hgcal_ae.errors import ConfigError

__all__ = [
    "FitResult",
    "chi_square",
    "critical_energy_fit",
    "curve_fit_or_none",
    "linear_fit",
    "linearity_residuals",
    "resolution_fit",
    "shower_max_fit",
]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class FitResult:
    """Best-fit parameters of one fit with their 1 sigma uncertainties.

    Attributes
    ----------
    values : dict[str, float]
        Fitted (and derived) parameters by name; units are given by the fitting function.
    errors : dict[str, float]
        1 sigma uncertainty of each entry of ``values`` (same keys, same units).
    chi2 : float
        Chi-square of the fit at the minimum (``nan`` where no chi-square is defined).
    ndf : int
        Degrees of freedom: points minus free parameters.
    fixed : dict[str, float]
        Parameters held fixed in the fit (e.g. the -0.5 X0 offset of the t_max model).
    """

    values: dict[str, float]
    errors: dict[str, float]
    chi2: float
    ndf: int
    fixed: dict[str, float] = field(default_factory=dict)

    @property
    def chi2_ndf(self) -> float:
        """chi2 / ndf, ``nan`` when ndf <= 0."""
        return self.chi2 / self.ndf if self.ndf > 0 else math.nan

    def as_dict(self) -> dict[str, Any]:
        """Plain-JSON form for ``summary.json``; non-finite numbers become ``None``."""

        def clean(v: float) -> float | None:
            return float(v) if math.isfinite(v) else None

        return {
            "values": {k: clean(v) for k, v in self.values.items()},
            "errors": {k: clean(v) for k, v in self.errors.items()},
            "fixed": {k: clean(v) for k, v in self.fixed.items()},
            "chi2": clean(self.chi2),
            "ndf": int(self.ndf),
        }


# -- input checks ---------------------------------------------------------------------------


def _vectors(n_params: int, **arrays: npt.ArrayLike) -> list[FloatArray]:
    """1-D float arrays of equal length, all finite, with at least ``n_params + 1`` points."""
    out = [np.asarray(a, dtype=np.float64) for a in arrays.values()]
    names = list(arrays)
    for name, a in zip(names, out, strict=True):
        if a.ndim != 1:
            msg = f"expected {name} to be a 1-D array, got shape {a.shape}"
            raise ConfigError(msg)
        if not np.all(np.isfinite(a)):
            msg = f"expected finite values in {name}, got {int(np.sum(~np.isfinite(a)))} NaN/inf of {a.size}"
            raise ConfigError(msg)
    sizes = [a.size for a in out]
    if len(set(sizes)) != 1:
        got = ", ".join(f"{n}={s}" for n, s in zip(names, sizes, strict=True))
        msg = f"expected {', '.join(names)} of the same length, got {got}"
        raise ConfigError(msg)
    if sizes[0] < n_params + 1:
        msg = (
            f"expected at least {n_params + 1} points for a fit of {n_params} parameter(s), "
            f"got {sizes[0]}"
        )
        raise ConfigError(msg)
    return out


def _positive(name: str, a: FloatArray) -> None:
    if np.any(a <= 0):
        msg = f"expected uncertainties {name} > 0, got minimum {float(a.min())!r}"
        raise ConfigError(msg)


def curve_fit_or_none(
    model: Callable[..., FloatArray],
    x: FloatArray,
    y: FloatArray,
    sigma: FloatArray | None,
    p0: list[float],
    **kwargs: Any,
) -> tuple[FloatArray, FloatArray] | None:
    """``scipy.optimize.curve_fit``, or ``None`` if it fails or its covariance is unusable."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", OptimizeWarning)
            warnings.simplefilter("error", RuntimeWarning)
            popt, pcov = curve_fit(
                model, x, y, p0=p0, sigma=sigma, absolute_sigma=sigma is not None, **kwargs
            )
    except (RuntimeError, ValueError, OptimizeWarning, RuntimeWarning):
        return None
    if not (np.all(np.isfinite(popt)) and np.all(np.isfinite(pcov))):
        return None
    return popt, pcov


def chi_square(
    model: Callable[..., FloatArray], x: FloatArray, y: FloatArray, s: FloatArray, p: FloatArray
) -> float:
    """Sum of ((y - model(x, *p)) / s)^2."""
    return float(np.sum(((y - model(x, *p)) / s) ** 2))


# -- resolution -------------------------------------------------------------------------------


def _resolution_model(energy: FloatArray, s: float, c: float) -> FloatArray:
    return np.sqrt(s * s / energy + c * c)


def resolution_fit(
    energy: npt.ArrayLike, rel_sigma: npt.ArrayLike, rel_sigma_err: npt.ArrayLike
) -> FitResult:
    """Fit the relative energy resolution sigma_E/E = S/sqrt(E) (+) C (sum in quadrature).

    No noise term, as in the CE-E positron analysis ([MB] ``fits.py``; physics.md section
    2.3).  Weighted least squares (``curve_fit`` with ``sigma=rel_sigma_err``,
    ``absolute_sigma=True``) with S, C >= 0.  The start values come from the linear fit of
    (sigma/E)^2 = S^2/E + C^2.

    Parameters
    ----------
    energy
        Beam energies [GeV] (``true_E``), > 0.
    rel_sigma, rel_sigma_err
        sigma_E / <E> at each energy and its 1 sigma uncertainty, as fractions (0.05 = 5 %).

    Returns
    -------
    FitResult
        ``"S"`` [sqrt(GeV), as a fraction: 0.22 means 22 % sqrt(GeV)] and ``"C"`` (fraction)
        with errors.  When C ends on its bound 0 its curvature error vanishes; the error
        quoted then is sqrt(sigma(C^2)) from the linear fit in (1/E, (sigma/E)^2), the scale
        of a one-sided 1 sigma limit.

    Raises
    ------
    ConfigError
        If the arrays differ in length, hold non-finite values, have fewer than 3 points,
        or energies/errors are not > 0.
    """
    e, r, s = _vectors(2, energy=energy, rel_sigma=rel_sigma, rel_sigma_err=rel_sigma_err)
    if np.any(e <= 0):
        msg = f"expected beam energies > 0 GeV, got minimum {float(e.min())!r}"
        raise ConfigError(msg)
    _positive("rel_sigma_err", s)
    # linear start: (sigma/E)^2 = S^2 * (1/E) + C^2, error of r^2 is 2 r s
    lin = _weighted_line(1.0 / e, r * r, np.maximum(2.0 * np.abs(r) * s, 1e-300))
    s2, c2 = lin.values["a"], lin.values["b"]
    p0 = [math.sqrt(s2) if s2 > 0 else 0.2, math.sqrt(c2) if c2 > 0 else 1e-3]
    fit = curve_fit_or_none(
        _resolution_model, e, r, s, p0, bounds=([0.0, 0.0], [np.inf, np.inf]), method="trf"
    )
    if fit is None:
        msg = "the resolution fit S/sqrt(E) (+) C did not converge; check rel_sigma and its errors"
        raise ConfigError(msg)
    popt, pcov = fit
    perr = np.sqrt(np.diag(pcov))
    c_err = float(perr[1])
    if not (c_err > 0 and popt[1] > 1e-6 * max(popt[0], 1e-12)):
        c_err = math.sqrt(lin.errors["b"])  # C on its bound: see the docstring
    return FitResult(
        values={"S": float(popt[0]), "C": float(popt[1])},
        errors={"S": float(perr[0]), "C": c_err},
        chi2=chi_square(_resolution_model, e, r, s, popt),
        ndf=e.size - 2,
    )


# -- straight lines -----------------------------------------------------------------------------


def _weighted_line(x: FloatArray, y: FloatArray, yerr: FloatArray) -> FitResult:
    """Closed-form weighted least squares y = a x + b (no input checks)."""
    w = 1.0 / (yerr * yerr)
    s, sx, sy = w.sum(), (w * x).sum(), (w * y).sum()
    sxx, sxy = (w * x * x).sum(), (w * x * y).sum()
    det = s * sxx - sx * sx
    if not det > 0:
        msg = "expected at least two distinct x values for a straight-line fit"
        raise ConfigError(msg)
    a = (s * sxy - sx * sy) / det
    b = (sxx * sy - sx * sxy) / det
    chi2 = float(np.sum(w * (y - a * x - b) ** 2))
    return FitResult(
        values={"a": float(a), "b": float(b)},
        errors={"a": math.sqrt(s / det), "b": math.sqrt(sxx / det)},
        chi2=chi2,
        ndf=x.size - 2,
    )


def linear_fit(x: npt.ArrayLike, y: npt.ArrayLike, yerr: npt.ArrayLike) -> FitResult:
    """Weighted straight-line fit y = a x + b (the linearity fit E_reco = a E_beam + b, [MB]).

    Parameters
    ----------
    x
        Abscissae, e.g. beam energy [GeV].
    y, yerr
        Ordinates (e.g. mean response [GeV] or [MIP]) and their 1 sigma errors (> 0).

    Returns
    -------
    FitResult
        ``"a"`` (slope, unit of y per unit of x) and ``"b"`` (intercept, unit of y).

    Raises
    ------
    ConfigError
        On arrays of different lengths, non-finite values, fewer than 3 points, errors <= 0
        or fewer than two distinct x.
    """
    xs, ys, es = _vectors(2, x=x, y=y, yerr=yerr)
    _positive("yerr", es)
    return _weighted_line(xs, ys, es)


def linearity_residuals(x: npt.ArrayLike, y: npt.ArrayLike, fit: FitResult) -> FloatArray:
    """Relative residuals y / (a x + b) - 1 of a :func:`linear_fit` (fraction, 0.01 = 1 %).

    Raises
    ------
    ConfigError
        If ``fit`` has no ``"a"``/``"b"`` or the arrays differ in length.
    """
    if not {"a", "b"} <= fit.values.keys():
        msg = f"expected a linear_fit result with parameters 'a' and 'b', got {sorted(fit.values)}"
        raise ConfigError(msg)
    xs, ys = _vectors(0, x=x, y=y)
    line = fit.values["a"] * xs + fit.values["b"]
    with np.errstate(divide="ignore", invalid="ignore"):
        return ys / line - 1.0


# -- shower maximum ----------------------------------------------------------------------------


def shower_max_fit(
    ln_energy: npt.ArrayLike, t_max: npt.ArrayLike, t_err: npt.ArrayLike
) -> FitResult:
    """Straight-line fit of the depth of shower maximum, t_max = slope * ln E + offset.

    Parameters
    ----------
    ln_energy
        ln(E / GeV) of each beam energy.
    t_max, t_err
        Depth of the shower maximum and its 1 sigma error [X0] (errors > 0).

    Returns
    -------
    FitResult
        ``"slope"`` [X0 per unit of ln E] (1 for the Rossi/GFlash ln(E/E_c) scaling) and
        ``"offset"`` [X0].

    Raises
    ------
    ConfigError
        As :func:`linear_fit`.
    """
    x, y, s = _vectors(2, ln_energy=ln_energy, t_max=t_max, t_err=t_err)
    _positive("t_err", s)
    line = _weighted_line(x, y, s)
    return FitResult(
        values={"slope": line.values["a"], "offset": line.values["b"]},
        errors={"slope": line.errors["a"], "offset": line.errors["b"]},
        chi2=line.chi2,
        ndf=line.ndf,
    )


def critical_energy_fit(
    ln_energy: npt.ArrayLike,
    t_max: npt.ArrayLike,
    t_err: npt.ArrayLike,
    *,
    offset: float = -0.5,
) -> FitResult:
    """Fit the critical energy E_c in t_max = ln(E/E_c) + offset (slope fixed to 1).

    The [MB] shower-depth fits (physics.md section 2.3): ``offset=-0.5`` for the shower
    maximum t_max, ``offset=+1.5`` for the longitudinal centre of gravity <COG_z>.  With the
    slope fixed the model is linear in ln E_c, whose best value is the weighted mean of
    ln E + offset - t_max.

    Parameters
    ----------
    ln_energy
        ln(E / GeV) of each beam energy.
    t_max, t_err
        Measured depth and its 1 sigma error [X0] (errors > 0).
    offset
        Fixed additive constant of the model [X0].

    Returns
    -------
    FitResult
        ``"E_c"`` [GeV] (the unit of E in ``ln_energy``; multiply by 1000 for MeV) and
        ``"ln_E_c"`` = ln(E_c/GeV), with errors (sigma(E_c) = E_c sigma(ln E_c));
        ``fixed`` holds ``"slope"`` = 1 and ``"offset"``.

    Raises
    ------
    ConfigError
        On arrays of different lengths, non-finite values, fewer than 2 points or errors <= 0.
    """
    if not math.isfinite(offset):
        msg = f"expected a finite offset [X0], got {offset!r}"
        raise ConfigError(msg)
    x, y, s = _vectors(1, ln_energy=ln_energy, t_max=t_max, t_err=t_err)
    _positive("t_err", s)
    w = 1.0 / (s * s)
    ln_ec = float(np.sum(w * (x + offset - y)) / w.sum())
    ln_ec_err = 1.0 / math.sqrt(float(w.sum()))
    chi2 = float(np.sum(w * (y - (x - ln_ec + offset)) ** 2))
    e_c = math.exp(ln_ec)
    return FitResult(
        values={"E_c": e_c, "ln_E_c": ln_ec},
        errors={"E_c": e_c * ln_ec_err, "ln_E_c": ln_ec_err},
        chi2=chi2,
        ndf=x.size - 1,
        fixed={"slope": 1.0, "offset": float(offset)},
    )
