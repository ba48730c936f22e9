"""Per-event shower-shape measures on hits stored as CSR ragged arrays.

Public API::

    hit_multiplicity(offsets) -> (n_events,)
    event_index(offsets) -> (n_hits,)                       # event of every hit
    event_sums(values, offsets) -> (n_events,)
    longitudinal_profile(layer, energy, offsets, n_layers=28) -> (n_events, n_layers)
    barycentre(x, y, energy, offsets) -> (x_bar, y_bar)
    containment_radius(x, y, energy, offsets, fraction=0.9, centre=None) -> (n_events,)

Hits of event i are ``[offsets[i], offsets[i + 1])`` of the flat hit arrays; ``offsets`` has
``n_events + 1`` entries, starts at 0 and ends at ``n_hits``.  Everything is vectorised over
events and hits (``np.bincount``, ``np.repeat``, ``np.lexsort``): no Python loop per event.
Events without hits (or without energy) give ``nan`` where a quantity is undefined.  The
depth of the shower maximum is :mod:`hgcal_ae.metrics.shower_max`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hgcal_ae.errors import ConfigError

__all__ = [
    "barycentre",
    "containment_radius",
    "event_index",
    "event_sums",
    "hit_multiplicity",
    "longitudinal_profile",
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
    sums = np.bincount(event_index(o), weights=v, minlength=o.size - 1)
    return np.asarray(sums, dtype=np.float64)  # float64 already: numpy's stub says intp


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
    sums = np.bincount(flat, weights=e, minlength=n_events * n_layers)
    return np.asarray(sums, dtype=np.float64).reshape(n_events, n_layers)


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
