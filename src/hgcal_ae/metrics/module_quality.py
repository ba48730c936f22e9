"""Per-module quality of a decoded (reconstructed) module against its uncompressed input.

Public API::

    energy_ratio(a, b) -> (N,)                       # sum(b) / sum(a)
    centroid_shift(a, b, coords=None) -> (N,)        # |centroid(b) - centroid(a)| [cm]
    width_ratio(a, b, coords=None) -> (N,)           # RMS radius(b) / RMS radius(a)
    occupancy(a, threshold) -> (N,) int              # TCs with charge >= threshold
    module_quality(a, b, coords=None, *, occupancy_threshold) -> ModuleQuality, each (N,)
    summarise(values, *, drop_negative=True) -> dict(mean, std, median, q16, q84, n)

``a`` is the input of each module, ``b`` its reconstruction, both (N, 48) non-negative TC
charges in the same unit and TC order; ``coords`` are the (48, 2) TC centres [cm], by default
those of the 8-inch low-density wafer (:func:`hgcal_ae.metrics.emd.default_tc_coords`).
Every measure compares the reconstruction to the *uncompressed* trigger cells by construction
(``a`` is the reference): a perfect reconstruction gives energy and width ratios of 1 and a
centroid shift and EMD of 0.  These are the Ecoder quality measures besides EMD
(reference/econt.md section 5: dMean, the energy-weighted centroid shift, and dRMS, here as a
ratio of widths; occupancy = TCs above 1 MIP_T in Ecoder's EMD profiles).

Undefined values are ``nan`` (never a numpy warning): a ratio whose denominator is 0, a
centroid of a module without charge.  Only ``emd`` keeps Ecoder's sentinels (-1 empty input,
-0.5 empty output, :func:`hgcal_ae.metrics.emd.emd`); :func:`summarise` drops both kinds.
"""

from __future__ import annotations

from typing import TypedDict

import numpy as np
import numpy.typing as npt

from hgcal_ae.detector.trigger_cells import N_TRIGGER_CELLS as N_TC
from hgcal_ae.errors import ConfigError
from hgcal_ae.metrics.emd import check_charges, default_tc_coords, emd

__all__ = [
    "ModuleQuality",
    "centroid_shift",
    "energy_ratio",
    "module_quality",
    "occupancy",
    "summarise",
    "width_ratio",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class ModuleQuality(TypedDict):
    """The per-module measures of :func:`module_quality`, each of shape (N,)."""

    emd: FloatArray
    energy_ratio: FloatArray
    centroid_shift: FloatArray
    width_ratio: FloatArray
    occupancy_in: IntArray
    occupancy_out: IntArray


# -- input checks --------------------------------------------------------------------------


def _pair(a: npt.ArrayLike, b: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    a_arr, b_arr = check_charges(a, "a"), check_charges(b, "b")
    if a_arr.shape != b_arr.shape:
        msg = f"a (input) and b (reconstruction) must have the same shape, got {a_arr.shape} and {b_arr.shape}"
        raise ConfigError(msg)
    return a_arr, b_arr


def _coords(coords: npt.ArrayLike | None) -> FloatArray:
    if coords is None:
        return default_tc_coords()
    xy = np.asarray(coords, dtype=np.float64)
    if xy.shape != (N_TC, 2) or not np.isfinite(xy).all():
        msg = f"coords must be the finite ({N_TC}, 2) TC centres (x, y) [cm], got shape {xy.shape}"
        raise ConfigError(msg)
    return xy


def _ratio(num: FloatArray, den: FloatArray) -> FloatArray:
    """num / den, ``nan`` where den is not > 0 (no warning)."""
    ratio: FloatArray = np.divide(num, den, out=np.full(num.shape, np.nan), where=den > 0)
    return ratio


def _centroid(q: FloatArray, xy: FloatArray) -> FloatArray:
    """Energy-weighted centroid of each row, shape (N, 2) [cm]; ``nan`` rows for no charge."""
    total = np.repeat(q.sum(axis=1)[:, None], 2, axis=1)
    return _ratio(q @ xy, total)


def _rms_radius(q: FloatArray, xy: FloatArray) -> FloatArray:
    """Energy-weighted RMS distance of the charge from its own centroid, shape (N,) [cm].

    Exactly 0 for rows with a single hit TC (no rounding residue), ``nan`` without charge.
    """
    # moments about the TC-pattern centre: <r^2> - |c|^2 without an (N, 48, 2) temporary;
    # the TC coordinates are O(10 cm), so cancellation costs < 1e-13 cm^2
    xy0 = xy - xy.mean(axis=0)
    c = _centroid(q, xy0)
    var = _ratio(q @ (xy0**2).sum(axis=1), q.sum(axis=1)) - (c**2).sum(axis=1)
    width = np.sqrt(np.maximum(var, 0.0))  # nan stays nan, silently
    return np.where((q > 0).sum(axis=1) == 1, 0.0, width)


# -- measures ----------------------------------------------------------------------------------


def energy_ratio(a: npt.ArrayLike, b: npt.ArrayLike) -> FloatArray:
    """Module energy of the reconstruction relative to the input, ``sum(b) / sum(a)``.

    Parameters
    ----------
    a, b : array_like, shape (N, 48)
        Input and reconstructed TC charges (non-negative, same unit).

    Returns
    -------
    ndarray, shape (N,)
        The ratio (1 for a perfect reconstruction); ``nan`` where ``sum(a) == 0``, where
        no ratio to the uncompressed module exists.

    Raises
    ------
    ConfigError
        If ``a`` or ``b`` is not (N, 48), their shapes differ, or a charge is negative or
        not finite.
    """
    a_arr, b_arr = _pair(a, b)
    return _ratio(b_arr.sum(axis=1), a_arr.sum(axis=1))


def centroid_shift(
    a: npt.ArrayLike, b: npt.ArrayLike, coords: npt.ArrayLike | None = None
) -> FloatArray:
    """Distance between the energy-weighted centroids of input and reconstruction (dMean).

    Parameters
    ----------
    a, b : array_like, shape (N, 48)
        Input and reconstructed TC charges (non-negative).
    coords : array_like, shape (48, 2), optional
        TC centres [cm]; default the 8-inch LD wafer.

    Returns
    -------
    ndarray, shape (N,) [unit of coords, cm]
        ``|sum(b x)/sum(b) - sum(a x)/sum(a)|``; ``nan`` if either sum is 0.

    Raises
    ------
    ConfigError
        On charges as in :func:`energy_ratio` or ``coords`` not a finite (48, 2) array.
    """
    a_arr, b_arr = _pair(a, b)
    xy = _coords(coords)
    d = _centroid(b_arr, xy) - _centroid(a_arr, xy)
    return np.hypot(d[:, 0], d[:, 1])


def width_ratio(
    a: npt.ArrayLike, b: npt.ArrayLike, coords: npt.ArrayLike | None = None
) -> FloatArray:
    """Ratio of the energy-weighted RMS radii of reconstruction and input (dRMS as a ratio).

    Each width is ``sqrt(sum(q |x - c|^2) / sum(q))`` about the row's *own* centroid ``c``,
    so a pure shift of the pattern leaves the ratio at 1.  ``a``, ``b`` and ``coords`` are
    those of :func:`centroid_shift`.

    Returns
    -------
    ndarray, shape (N,)
        ``width(b) / width(a)``; ``nan`` where the input width is 0 (all input charge in one
        TC, or no input charge) or the reconstruction has no charge.

    Raises
    ------
    ConfigError
        As :func:`centroid_shift`.
    """
    a_arr, b_arr = _pair(a, b)
    xy = _coords(coords)
    return _ratio(_rms_radius(b_arr, xy), _rms_radius(a_arr, xy))


def occupancy(a: npt.ArrayLike, threshold: float) -> IntArray:
    """Number of TCs of each module with charge ``>= threshold``.

    Parameters
    ----------
    a : array_like, shape (N, 48)
        TC charges (non-negative).
    threshold : float
        In the unit of ``a`` (Ecoder counts TCs above 1 MIP_T); must be finite and > 0, so
        that empty TCs never count.

    Returns
    -------
    ndarray of int64, shape (N,)

    Raises
    ------
    ConfigError
        On charges as in :func:`energy_ratio` or a threshold that is not finite and > 0.
    """
    if not (np.isfinite(threshold) and threshold > 0):
        msg = f"occupancy threshold must be a finite charge > 0 (e.g. 1 MIP_T), got {threshold!r}"
        raise ConfigError(msg)
    occupancy: IntArray = (check_charges(a, "a") >= threshold).sum(axis=1).astype(np.int64)
    return occupancy


def module_quality(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    coords: npt.ArrayLike | None = None,
    *,
    occupancy_threshold: float,
) -> ModuleQuality:
    """Every per-module measure of a reconstruction against its uncompressed input.

    Parameters
    ----------
    a, b : array_like, shape (N, 48)
        Uncompressed input and reconstructed TC charges (non-negative, same unit).
    coords : array_like, shape (48, 2), optional
        TC centres [cm]; default the 8-inch LD wafer.
    occupancy_threshold : float
        Charge a TC needs to count as occupied, in the unit of ``a`` (e.g. 1 MIP_T).

    Returns
    -------
    ModuleQuality
        A dict of arrays, each of shape (N,): ``"emd"`` [unit of coords] with the sentinels
        of :func:`~hgcal_ae.metrics.emd.emd` (-1: input empty, -0.5: output empty),
        ``"energy_ratio"``, ``"centroid_shift"``
        [unit of coords], ``"width_ratio"`` (``nan`` where undefined, see the functions),
        ``"occupancy_in"`` and ``"occupancy_out"`` (int64, TCs of ``a`` and ``b`` at or
        above the threshold).

    Raises
    ------
    ConfigError
        As the individual measures.
    """
    a_arr, b_arr = _pair(a, b)
    xy = _coords(coords)
    return {
        "emd": emd(a_arr, b_arr, xy),
        "energy_ratio": energy_ratio(a_arr, b_arr),
        "centroid_shift": centroid_shift(a_arr, b_arr, xy),
        "width_ratio": width_ratio(a_arr, b_arr, xy),
        "occupancy_in": occupancy(a_arr, occupancy_threshold),
        "occupancy_out": occupancy(b_arr, occupancy_threshold),
    }


def summarise(values: npt.ArrayLike, *, drop_negative: bool = True) -> dict[str, float | int]:
    """Summary statistics of a per-module measure, as Ecoder reports EMD.

    Non-finite values (the ``nan`` of undefined measures) are always dropped; with
    ``drop_negative`` (default) negative values are dropped too, i.e. the EMD sentinels -1
    and -0.5 of empty modules.  Every measure of :func:`module_quality` is non-negative when
    defined, so nothing else is lost; pass ``drop_negative=False`` for signed quantities.

    Parameters
    ----------
    values : array_like
        Any shape; flattened.

    Returns
    -------
    dict
        ``"mean"``, ``"std"`` (population, ddof = 0), ``"median"``, ``"q16"``, ``"q84"``
        (16 % and 84 % quantiles: the central 68 %), all float and ``nan`` when nothing is
        left, and ``"n"`` (int), the number of values used.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    keep = np.isfinite(v)
    if drop_negative:
        keep &= v >= 0
    v = v[keep]
    if v.size == 0:
        nan = float("nan")
        return {"mean": nan, "std": nan, "median": nan, "q16": nan, "q84": nan, "n": 0}
    q16, q50, q84 = np.quantile(v, [0.16, 0.5, 0.84])
    return {
        "mean": float(v.mean()),
        "std": float(v.std()),
        "median": float(q50),
        "q16": float(q16),
        "q84": float(q84),
        "n": int(v.size),
    }
