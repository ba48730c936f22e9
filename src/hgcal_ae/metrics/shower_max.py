"""The depth of the shower maximum: per event from its profile, and of a mean profile by a fit.

Public API::

    profile_t_max(profile, x0_of_layer) -> (n_events,)       # parabola through the peak [X0]
    mean_profile_t_max(mean_profile, x0, ...) -> FitResult  # Gamma-profile fit, t_max +- err

Profiles are energy per layer (``(n_events, n_layers)`` or one ``(n_layers,)``), e.g. from
:func:`hgcal_ae.metrics.shower_shapes.longitudinal_profile`; depths are in radiation lengths
X0, increasing with the layer.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import numpy.typing as npt
from scipy.optimize import OptimizeWarning, curve_fit
from scipy.special import gammaln

from hgcal_ae.errors import ConfigError
from hgcal_ae.metrics.fits import FitResult

__all__ = ["mean_profile_t_max", "profile_t_max"]

FloatArray = npt.NDArray[np.float64]


def _depths(x0: npt.ArrayLike, n_layers: int) -> FloatArray:
    t = np.asarray(x0, dtype=np.float64)
    if t.shape != (n_layers,) or not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
        msg = f"expected x0_of_layer as {n_layers} finite, increasing depths [X0], got shape {t.shape}"
        raise ConfigError(msg)
    return t


def profile_t_max(profile: npt.ArrayLike, x0_of_layer: npt.ArrayLike) -> FloatArray | float:
    """Depth of the shower maximum of every event from its longitudinal profile.

    The vertex of the parabola through the layer with the most energy and its two
    neighbours (unequal spacing allowed), clipped to the span of those three layers; the
    depth of the maximum layer itself where it is the first or last layer or the three points
    are not concave.

    Parameters
    ----------
    profile
        Energy per layer, shape ``(n_events, n_layers)`` (or ``(n_layers,)`` for one event).
    x0_of_layer
        Depth of each layer [X0], shape ``(n_layers,)``, increasing (e.g. the "Sum X0
        analysis" column of physics.md table 1.3).

    Returns
    -------
    numpy.ndarray, shape (n_events,) [X0] (a float for a 1-D profile)
        ``nan`` for events whose maximum layer energy is not > 0.
    """
    p = np.asarray(profile, dtype=np.float64)
    single = p.ndim == 1
    p2 = np.atleast_2d(p)
    if p2.ndim != 2 or p2.shape[1] < 1:
        msg = f"expected profile of shape (n_events, n_layers), got {p.shape}"
        raise ConfigError(msg)
    t = _depths(x0_of_layer, p2.shape[1])
    n_layers = t.size
    rows = np.arange(p2.shape[0])
    k = np.argmax(p2, axis=1)
    km, kp = np.clip(k - 1, 0, n_layers - 1), np.clip(k + 1, 0, n_layers - 1)
    x1, x2, x3 = t[km], t[k], t[kp]
    y1, y2, y3 = p2[rows, km], p2[rows, k], p2[rows, kp]
    inner = (k > 0) & (k < n_layers - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = (x1 - x2) * (x1 - x3) * (x2 - x3)
        a = (x3 * (y2 - y1) + x2 * (y1 - y3) + x1 * (y3 - y2)) / denom
        b = (x3 * x3 * (y1 - y2) + x2 * x2 * (y3 - y1) + x1 * x1 * (y2 - y3)) / denom
        vertex = -b / (2.0 * a)
    use = inner & (a < 0) & np.isfinite(vertex)
    out = np.where(use, np.clip(np.where(use, vertex, x2), x1, x3), x2)
    out = np.where(y2 > 0, out, np.nan)
    return float(out[0]) if single else out


def _gamma_profile(t: FloatArray, energy: float, alpha: float, beta: float) -> FloatArray:
    """E f(t) with f the Gamma pdf (beta t)^(alpha-1) beta exp(-beta t) / Gamma(alpha)."""
    bt = beta * t
    log_f = (alpha - 1.0) * np.log(bt) + math.log(beta) - bt - gammaln(alpha)
    profile: FloatArray = energy * np.exp(log_f)
    return profile


def mean_profile_t_max(
    mean_profile: npt.ArrayLike,
    x0: npt.ArrayLike,
    *,
    profile_err: npt.ArrayLike | None = None,
    layer_x0: npt.ArrayLike | None = None,
) -> FitResult:
    """Fit a Gamma profile to a mean longitudinal profile; t_max = (alpha - 1) / beta.

    The [MB] method (physics.md section 2.3): ``curve_fit`` of dE/dt = E f(t), f(t) =
    (beta t)^(alpha-1) beta e^(-beta t) / Gamma(alpha) (GFlash, physics.md section 3.1), to
    the energy per layer at the layer depths.  The error of t_max is propagated from the
    covariance of (alpha, beta).

    Parameters
    ----------
    mean_profile
        Mean energy per layer, shape ``(n_layers,)`` (any unit; the fitted ``"E"`` has it).
    x0
        Depth of each layer [X0], shape ``(n_layers,)``, increasing and > 0.
    profile_err
        1 sigma errors of ``mean_profile`` (> 0); without them the fit is unweighted and
        the errors are scaled by the residual scatter (``absolute_sigma=False``).
    layer_x0
        Thickness of the absorber sampled by each layer [X0]; given, the model is
        E f(t) * layer_x0 (energy per layer), so ``"E"`` is the total energy.  By default
        the model is E f(t), i.e. ``"E"`` absorbs the sampling step.

    Returns
    -------
    FitResult
        ``"E"``, ``"alpha"``, ``"beta"`` [1/X0] and ``"t_max"`` [X0] with errors.

    Raises
    ------
    ConfigError
        On shapes that do not match, fewer than 4 layers, non-positive depths or total
        energy, or a fit that does not converge.
    """
    y = np.asarray(mean_profile, dtype=np.float64)
    if y.ndim != 1 or y.size < 4 or not np.all(np.isfinite(y)):
        msg = f"expected a finite 1-D mean profile of at least 4 layers, got shape {y.shape}"
        raise ConfigError(msg)
    t = _depths(x0, y.size)
    if t[0] <= 0:
        msg = f"expected layer depths > 0 X0 for a Gamma-profile fit, got first depth {t[0]!r}"
        raise ConfigError(msg)
    width = np.ones_like(t) if layer_x0 is None else np.asarray(layer_x0, dtype=np.float64)
    if width.shape != t.shape or np.any(~(width > 0)):
        msg = f"expected layer_x0 as {t.size} thicknesses > 0 X0, got shape {width.shape}"
        raise ConfigError(msg)
    sigma = None
    if profile_err is not None:
        sigma = np.asarray(profile_err, dtype=np.float64)
        if sigma.shape != y.shape or np.any(~(sigma > 0)):
            msg = f"expected profile_err as {y.size} errors > 0, got shape {sigma.shape}"
            raise ConfigError(msg)
    density = y / width  # dE/dt estimate [unit per X0]
    w = np.clip(density, 0.0, None)
    if not w.sum() > 0:
        msg = "expected a mean profile with positive total energy"
        raise ConfigError(msg)
    # start values from the moments of the profile: <t> = alpha/beta, var = alpha/beta^2
    mean_t = float(np.sum(w * t) / w.sum())
    var_t = float(np.sum(w * (t - mean_t) ** 2) / w.sum())
    beta0 = mean_t / var_t if var_t > 0 else 0.5
    alpha0 = max(mean_t * beta0, 1.5)
    energy0 = float(np.sum(w * np.gradient(t))) if layer_x0 is None else float(np.sum(y))

    def model(tt: FloatArray, energy: float, alpha: float, beta: float) -> FloatArray:
        return _gamma_profile(tt, energy, alpha, beta) * width

    p0 = [max(energy0, 1e-12), alpha0, beta0]
    popt = pcov = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", OptimizeWarning)
            warnings.simplefilter("ignore", RuntimeWarning)  # overflow while probing far p
            popt, pcov = curve_fit(
                model,
                t,
                y,
                p0=p0,
                sigma=sigma,
                absolute_sigma=sigma is not None,
                bounds=([0.0, 1e-3, 1e-3], [np.inf, np.inf, np.inf]),
                method="trf",
                max_nfev=10_000,
            )
    except (RuntimeError, ValueError, OptimizeWarning):
        pass
    if popt is None or pcov is None or not np.all(np.isfinite(pcov)):
        msg = "the Gamma-profile fit of the mean longitudinal profile did not converge"
        raise ConfigError(msg)
    energy, alpha, beta = (float(v) for v in popt)
    t_max = (alpha - 1.0) / beta
    grad = np.array([0.0, 1.0 / beta, -(alpha - 1.0) / beta**2])
    t_err = math.sqrt(max(float(grad @ pcov @ grad), 0.0))
    perr = np.sqrt(np.clip(np.diag(pcov), 0.0, None))
    resid = (y - model(t, *popt)) / (1.0 if sigma is None else sigma)
    return FitResult(
        values={"E": energy, "alpha": alpha, "beta": beta, "t_max": t_max},
        errors={
            "E": float(perr[0]),
            "alpha": float(perr[1]),
            "beta": float(perr[2]),
            "t_max": t_err,
        },
        chi2=float(np.sum(resid**2)) if sigma is not None else math.nan,
        ndf=y.size - 3,
    )
