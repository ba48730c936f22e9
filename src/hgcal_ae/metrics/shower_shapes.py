"""Per-event shower-shape measures on hits stored as CSR ragged arrays.

Public API::

    hit_multiplicity(offsets) -> (n_events,)
    event_index(offsets) -> (n_hits,)                       # event of every hit
    event_sums(values, offsets) -> (n_events,)
    longitudinal_profile(layer, energy, offsets, n_layers=28) -> (n_events, n_layers)
    barycentre(x, y, energy, offsets) -> (x_bar, y_bar)
    containment_radius(x, y, energy, offsets, fraction=0.9, centre=None) -> (n_events,)
    profile_t_max(profile, x0_of_layer) -> (n_events,)
    mean_profile_t_max(mean_profile, x0, ...) -> FitResult  # Gamma-profile fit, t_max +- err

Hits of event i are ``[offsets[i], offsets[i + 1])`` of the flat hit arrays; ``offsets`` has
``n_events + 1`` entries, starts at 0 and ends at ``n_hits``.  Everything is vectorised over
events and hits (``np.bincount``, ``np.repeat``, ``np.lexsort``): no Python loop per event.
Events without hits (or without energy) give ``nan`` where a quantity is undefined.
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

__all__ = [
    "barycentre",
    "containment_radius",
    "event_index",
    "event_sums",
    "hit_multiplicity",
    "longitudinal_profile",
    "mean_profile_t_max",
    "profile_t_max",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


# -- CSR helpers -------------------------------------------------------------------------------


def _offsets(offsets: npt.ArrayLike, n_hits: int | None = None) -> IntArray:
    o = np.asarray(offsets)
    if o.ndim != 1 or o.size < 1 or not np.issubdtype(o.dtype, np.integer):
        msg = f"expected offsets as a 1-D integer array of n_events + 1 entries, got {o.dtype} array of shape {o.shape}"
        raise ConfigError(msg)
    o = o.astype(np.int64)
    if o[0] != 0 or np.any(np.diff(o) < 0):
        msg = "expected offsets starting at 0 and non-decreasing (CSR: hits of event i are [offsets[i], offsets[i+1]))"
        raise ConfigError(msg)
    if n_hits is not None and o[-1] != n_hits:
        msg = f"expected offsets[-1] == number of hits {n_hits}, got {int(o[-1])}"
        raise ConfigError(msg)
    return o


def _hits(**arrays: npt.ArrayLike) -> list[FloatArray]:
    out = [np.asarray(a, dtype=np.float64) for a in arrays.values()]
    shapes = {a.shape for a in out}
    if any(a.ndim != 1 for a in out) or len(shapes) != 1:
        got = ", ".join(f"{n}: {a.shape}" for n, a in zip(arrays, out, strict=True))
        msg = f"expected 1-D hit arrays of the same length, got {got}"
        raise ConfigError(msg)
    return out


def hit_multiplicity(offsets: npt.ArrayLike) -> IntArray:
    """Number of hits of each event, shape ``(n_events,)``."""
    return np.diff(_offsets(offsets))


def event_index(offsets: npt.ArrayLike) -> IntArray:
    """Event number of every hit, shape ``(n_hits,)`` (``np.repeat`` of the multiplicities)."""
    o = _offsets(offsets)
    return np.repeat(np.arange(o.size - 1, dtype=np.int64), np.diff(o))


def event_sums(values: npt.ArrayLike, offsets: npt.ArrayLike) -> FloatArray:
    """Sum of a hit quantity (e.g. energy [GeV] or [MIP]) per event, shape ``(n_events,)``.

    Events without hits sum to 0.
    """
    (v,) = _hits(values=values)
    o = _offsets(offsets, v.size)
    return np.bincount(event_index(o), weights=v, minlength=o.size - 1)


def longitudinal_profile(
    layer: npt.ArrayLike, energy: npt.ArrayLike, offsets: npt.ArrayLike, n_layers: int = 28
) -> FloatArray:
    """Energy per layer of every event.

    Parameters
    ----------
    layer
        Layer number of each hit, 1..``n_layers`` (integers).
    energy
        Hit energy (any unit, e.g. [GeV] or [MIP]).
    offsets
        CSR offsets, shape ``(n_events + 1,)``.
    n_layers
        Number of layers (28 for the CE-E prototype).

    Returns
    -------
    numpy.ndarray, shape (n_events, n_layers)
        Column ``L - 1`` holds the energy of layer L.

    Raises
    ------
    ConfigError
        If a layer number lies outside 1..n_layers or the arrays are inconsistent.
    """
    if isinstance(n_layers, bool) or not isinstance(n_layers, int | np.integer) or n_layers < 1:
        msg = f"expected n_layers to be an integer >= 1, got {n_layers!r}"
        raise ConfigError(msg)
    lay, e = _hits(layer=layer, energy=energy)
    o = _offsets(offsets, e.size)
    if lay.size and (np.any(lay != np.round(lay)) or lay.min() < 1 or lay.max() > n_layers):
        msg = f"expected integer layer numbers in 1..{n_layers}, got values in [{float(lay.min())!r}, {float(lay.max())!r}]"
        raise ConfigError(msg)
    n_events = o.size - 1
    flat = event_index(o) * n_layers + (lay.astype(np.int64) - 1)
    return np.bincount(flat, weights=e, minlength=n_events * n_layers).reshape(n_events, n_layers)


def barycentre(
    x: npt.ArrayLike, y: npt.ArrayLike, energy: npt.ArrayLike, offsets: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Energy-weighted mean position of every event.

    Parameters
    ----------
    x, y
        Hit positions [cm].
    energy
        Hit energies (weights, any unit).
    offsets
        CSR offsets, shape ``(n_events + 1,)``.

    Returns
    -------
    (x_bar, y_bar) : numpy.ndarray, each of shape (n_events,) [cm]
        ``nan`` for events whose total energy is not > 0.
    """
    xs, ys, e = _hits(x=x, y=y, energy=energy)
    o = _offsets(offsets, e.size)
    ev = event_index(o)
    n = o.size - 1
    total = np.bincount(ev, weights=e, minlength=n)
    ok = total > 0
    sx = np.bincount(ev, weights=e * xs, minlength=n)
    sy = np.bincount(ev, weights=e * ys, minlength=n)
    xb = np.divide(sx, total, out=np.full(n, np.nan), where=ok)
    yb = np.divide(sy, total, out=np.full(n, np.nan), where=ok)
    return xb, yb


def containment_radius(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    energy: npt.ArrayLike,
    offsets: npt.ArrayLike,
    fraction: float = 0.9,
    centre: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
) -> FloatArray:
    """Radius of the smallest circle around the shower axis holding ``fraction`` of the energy.

    Hits are sorted by (event, distance r to the centre); the radius is r of the first hit at
    which the cumulative energy of its event reaches ``fraction`` of the event total (no
    interpolation: ten equal hits at r = 1..10 cm give r90 = 9 cm).

    Parameters
    ----------
    x, y
        Hit positions [cm] (for a whole event, all layers projected, or one layer).
    energy
        Hit energies (any unit); the cumulative sum is taken in r order, so hits with
        negative (noise) energy count with their sign.
    offsets
        CSR offsets, shape ``(n_events + 1,)``.
    fraction
        Energy fraction in (0, 1]; 0.9 gives r90.
    centre
        Per-event centre ``(x_c, y_c)`` [cm], each of shape ``(n_events,)``; default the
        energy barycentre of each event.

    Returns
    -------
    numpy.ndarray, shape (n_events,) [cm]
        ``nan`` for events without hits or with total energy not > 0.

    Raises
    ------
    ConfigError
        If ``fraction`` is outside (0, 1] or the arrays are inconsistent.
    """
    if not (0.0 < fraction <= 1.0):
        msg = f"expected an energy fraction in (0, 1], got {fraction!r}"
        raise ConfigError(msg)
    xs, ys, e = _hits(x=x, y=y, energy=energy)
    o = _offsets(offsets, e.size)
    n = o.size - 1
    if centre is None:
        cx, cy = barycentre(xs, ys, e, o)
    else:
        cx, cy = (np.asarray(c, dtype=np.float64) for c in centre)
        if cx.shape != (n,) or cy.shape != (n,):
            msg = f"expected centre as two arrays of shape ({n},), got {cx.shape} and {cy.shape}"
            raise ConfigError(msg)
    ev = event_index(o)
    r = np.hypot(xs - cx[ev], ys - cy[ev])
    order = np.lexsort((r, ev))  # ev is already sorted, so events keep their CSR slices
    r_sorted, e_sorted = r[order], e[order]
    cum = np.cumsum(e_sorted)
    before = np.concatenate(([0.0], cum))[o[:-1]]  # cumulative energy before each event
    cum_event = cum - before[ev]
    total = np.bincount(ev, weights=e, minlength=n)
    target = fraction * total
    # relative tolerance: a cumulative sum equal to the target up to rounding counts as reached
    reached = cum_event >= target[ev] - 1e-12 * np.abs(total[ev])
    reached &= (total > 0)[ev] & np.isfinite(r_sorted)
    events, first = np.unique(ev[reached], return_index=True)
    out = np.full(n, np.nan)
    out[events] = r_sorted[np.flatnonzero(reached)[first]]
    return out


# -- shower maximum ----------------------------------------------------------------------------


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
    return energy * np.exp(log_f)


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
