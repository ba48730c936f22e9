"""Event-level physics quality with every module of a shower decoded, relative to the input.

(About 400 lines: the per-event quantities and the comparison built on them share one set of
input checks, which a split would have to export.)

Public API::

    event_energy(event, layer, tc, n_events, weights_mev) -> (n_events,)          # [GeV]
    event_barycentre(event, layer, module, tc, n_events, tc_x, tc_y, wafer_x, wafer_y,
                     *, weights_mev=None) -> (x, y)                               # [cm]
    event_longitudinal_profile(event, layer, tc, n_events, weights_mev=None) -> (n_events, 28)
    event_shower_max(profile, x0) -> (n_events,)                                  # [X0]
    compare_events(reference, decoded, setup)
        -> {"summary": plain-JSON dict, "events": dict of (n_events,) arrays}

Inputs are module rows as :class:`hgcal_ae.datasets.module_rows.ModuleRows` holds them: ``event``
(M,) 0-based event index (any order), ``layer`` (M,) 1..28, ``module`` (M,) index into the
layer tiling and ``tc`` (M, 48) TC charges [MIP].  A TC sits in the layer frame at its wafer
centre plus its position in the sensor frame (``detector.tiling.global_cell_centres``).
Energies use the positron-analysis calibration E = sum over TCs of MIP x GeV/MIP(layer)
(:func:`hgcal_ae.detector.layers.gev_per_mip`).  Group-bys are ``np.bincount`` over events:
no Python loop per module or event (only per beam energy, for the fits).

Bad input raises :class:`~hgcal_ae.errors.ConfigError`: ``tc`` not a finite (M, 48) array,
row arrays of other lengths or not integral, an event outside 0..n_events-1, a layer outside
1..28, a module outside the tiling, weights not 28 finite numbers, coordinates of the wrong
shape.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import numpy.typing as npt

from hgcal_ae.datasets.module_rows import ModuleRows
from hgcal_ae.detector.layers import N_LAYERS, gev_per_mip
from hgcal_ae.detector.trigger_cells import N_TRIGGER_CELLS as N_TC
from hgcal_ae.detector.trigger_cells import trigger_cell_map
from hgcal_ae.errors import ConfigError
from hgcal_ae.metrics.fits import resolution_fit
from hgcal_ae.metrics.gaussian_core import MIN_CORE_ENTRIES, gaussian_core
from hgcal_ae.metrics.shower_max import profile_t_max

__all__ = [
    "compare_events",
    "event_barycentre",
    "event_energy",
    "event_longitudinal_profile",
    "event_shower_max",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


# -- input checks ----------------------------------------------------------------------------


def _count(n: object, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        msg = f"{name} must be an integer >= 0, got {n!r}"
        raise ConfigError(msg)
    return int(n)


def _index(x: npt.ArrayLike, name: str, m: int, lo: int, hi: int) -> IntArray:
    """1-D integral values in lo..hi of length m, as int64."""
    arr = np.asarray(x)
    if arr.shape != (m,):
        msg = f"{name} must have shape ({m},) (one entry per module row), got {arr.shape}"
        raise ConfigError(msg)
    if m and not (np.isfinite(arr).all() and (arr == np.round(arr)).all()):
        msg = f"{name} must hold integers, got {arr.dtype} values that are not"
        raise ConfigError(msg)
    if m and (arr.min() < lo or arr.max() > hi):
        msg = f"{name} must lie in {lo}..{hi}, got values in [{arr.min().item()!r}, {arr.max().item()!r}]"
        raise ConfigError(msg)
    return arr.astype(np.int64)


def _tc(tc: npt.ArrayLike) -> FloatArray:
    arr = np.asarray(tc, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != N_TC or not np.isfinite(arr).all():
        msg = f"tc must be finite charges of shape (M, {N_TC}) (module rows x TCs), got {arr.shape}"
        raise ConfigError(msg)
    return arr


def _vector(x: npt.ArrayLike, name: str, size: int | None = None) -> FloatArray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1 or (size is not None and arr.size != size) or not np.isfinite(arr).all():
        want = f"({size},)" if size is not None else "1-D"
        msg = f"{name} must be a finite {want} array, got shape {arr.shape}"
        raise ConfigError(msg)
    return arr


def _row_scale(layer: IntArray, weights_mev: npt.ArrayLike | None) -> FloatArray | float:
    """GeV per MIP of every row's layer, or 1 (MIP) without weights."""
    if weights_mev is None:
        return 1.0
    return gev_per_mip(_vector(weights_mev, "weights_mev", N_LAYERS))[layer - 1]


def _rows(
    event: npt.ArrayLike, layer: npt.ArrayLike, tc: npt.ArrayLike, n_events: int
) -> tuple[IntArray, IntArray, FloatArray, int]:
    q = _tc(tc)
    n = _count(n_events, "n_events")
    ev = _index(event, "event", q.shape[0], 0, n - 1)
    lay = _index(layer, "layer", q.shape[0], 1, N_LAYERS)
    return ev, lay, q, n


def _group_sums(group: IntArray, weights: FloatArray, n: int) -> FloatArray:
    """Sum of ``weights`` over each group 0..n-1 (``np.bincount``; float64, as the weights)."""
    return np.asarray(np.bincount(group, weights=weights, minlength=n), dtype=np.float64)


def _ratio(num: FloatArray, den: FloatArray) -> FloatArray:
    ratio: FloatArray = np.divide(num, den, out=np.full(np.shape(num), np.nan), where=den > 0)
    return ratio


# -- per-event quantities --------------------------------------------------------------------


def event_energy(
    event: npt.ArrayLike,
    layer: npt.ArrayLike,
    tc: npt.ArrayLike,
    n_events: int,
    weights_mev: npt.ArrayLike,
) -> FloatArray:
    """Calibrated energy of every event, sum of TC [MIP] x GeV/MIP of its layer.

    Parameters
    ----------
    event, layer : array_like, shape (M,)
        Event index (0..n_events-1) and layer (1..28) of each module row.
    tc : array_like, shape (M, 48)
        TC charges [MIP].
    n_events : int
        Number of events (events without rows get 0).
    weights_mev : array_like, shape (28,)
        dE/dx weight of each layer [MeV] (``LayerStack.dedx_weight_mev``).

    Returns
    -------
    ndarray, shape (n_events,) [GeV]
    """
    ev, lay, q, n = _rows(event, layer, tc, n_events)
    return _group_sums(ev, q.sum(axis=1) * _row_scale(lay, weights_mev), n)


def event_barycentre(
    event: npt.ArrayLike,
    layer: npt.ArrayLike,
    module: npt.ArrayLike,
    tc: npt.ArrayLike,
    n_events: int,
    tc_x: npt.ArrayLike,
    tc_y: npt.ArrayLike,
    wafer_x: npt.ArrayLike,
    wafer_y: npt.ArrayLike,
    *,
    weights_mev: npt.ArrayLike | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Energy-weighted mean transverse position of every event in the layer frame.

    Parameters
    ----------
    event, layer, tc, n_events
        Module rows as in :func:`event_energy`.
    module : array_like, shape (M,)
        Module index of each row into ``wafer_x``/``wafer_y``.
    tc_x, tc_y : array_like, shape (48,)
        TC centres in the sensor frame [cm] (``trigger_cell_map(sensor).tc_x_cm``).
    wafer_x, wafer_y : array_like, shape (n_modules,)
        Wafer centres in the layer frame [cm] (``Tiling.x_cm``/``y_cm``).
    weights_mev : array_like, shape (28,), optional
        Layer dE/dx weights: the weights are then TC energies [GeV]; by default TC charges
        [MIP].

    Returns
    -------
    (x, y) : ndarray, each of shape (n_events,) [cm]
        ``nan`` for events without charge.
    """
    ev, lay, q, n = _rows(event, layer, tc, n_events)
    tx, ty = _vector(tc_x, "tc_x", N_TC), _vector(tc_y, "tc_y", N_TC)
    wx = _vector(wafer_x, "wafer_x")
    wy = _vector(wafer_y, "wafer_y", wx.size)
    mod = _index(module, "module", q.shape[0], 0, wx.size - 1)
    scale = _row_scale(lay, weights_mev)
    w = q.sum(axis=1) * scale
    total = _group_sums(ev, w, n)
    sx = _group_sums(ev, (q @ tx) * scale + w * wx[mod], n)
    sy = _group_sums(ev, (q @ ty) * scale + w * wy[mod], n)
    return _ratio(sx, total), _ratio(sy, total)


def event_longitudinal_profile(
    event: npt.ArrayLike,
    layer: npt.ArrayLike,
    tc: npt.ArrayLike,
    n_events: int,
    weights_mev: npt.ArrayLike | None = None,
) -> FloatArray:
    """Energy per layer of every event, shape (n_events, 28); column L-1 is layer L.

    In GeV with ``weights_mev`` (the layer dE/dx weights, shape (28,)), in MIP without.
    """
    ev, lay, q, n = _rows(event, layer, tc, n_events)
    e = q.sum(axis=1) * _row_scale(lay, weights_mev)
    flat = ev * N_LAYERS + (lay - 1)
    return _group_sums(flat, e, n * N_LAYERS).reshape(n, N_LAYERS)


def event_shower_max(profile: npt.ArrayLike, x0: npt.ArrayLike) -> FloatArray:
    """Depth of the shower maximum of every event [X0].

    :func:`hgcal_ae.metrics.shower_max.profile_t_max`: vertex of the parabola through the
    layer with the most energy and its neighbours (the layer depth itself at the stack
    edges); ``nan`` for events without energy.

    Parameters
    ----------
    profile : array_like, shape (n_events, n_layers)
        From :func:`event_longitudinal_profile`.
    x0 : array_like, shape (n_layers,)
        Increasing layer depths [X0] (``LayerStack.x0_cumulative``).
    """
    p = np.asarray(profile, dtype=np.float64)
    if p.ndim != 2:
        msg = f"profile must have shape (n_events, n_layers), got {p.shape}"
        raise ConfigError(msg)
    return np.asarray(profile_t_max(p, x0), dtype=np.float64).reshape(p.shape[0])


# -- decoded against uncompressed -------------------------------------------------------------


def _event_quantities(rows: ModuleRows, setup: Any, n: int, name: str) -> dict[str, FloatArray]:
    if not isinstance(rows, ModuleRows):
        msg = f"{name} must be ModuleRows, got {type(rows).__name__}"
        raise ConfigError(msg)
    event, layer, module, tc = rows.event, rows.layer, rows.module, rows.tc
    tc_map, w = trigger_cell_map(setup.lattice.name), setup.stack.dedx_weight_mev
    x, y = event_barycentre(
        event, layer, module, tc, n, tc_map.tc_x_cm, tc_map.tc_y_cm,
        setup.tiling.x_cm, setup.tiling.y_cm, weights_mev=w,
    )  # fmt: skip
    profile = event_longitudinal_profile(event, layer, tc, n, w)
    t_max = event_shower_max(profile, setup.stack.x0_cumulative)
    return {"energy_gev": profile.sum(axis=1), "x_cm": x, "y_cm": y, "t_max_x0": t_max}


def _mean_rms(values: FloatArray, group: IntArray, k: int) -> tuple[FloatArray, FloatArray]:
    """Mean and RMS about 0 of the finite values of each of k groups (``nan`` for none)."""
    ok = np.isfinite(values)
    cnt = np.bincount(group[ok], minlength=k).astype(np.float64)
    mean = _ratio(_group_sums(group[ok], values[ok], k), cnt)
    rms = np.sqrt(_ratio(_group_sums(group[ok], values[ok] ** 2, k), cnt))
    return mean, rms


def _resolution(
    groups: list[FloatArray], energies: FloatArray
) -> tuple[dict[str, Any], FloatArray]:
    """Gaussian-core mean, width, sigma/E and its error per beam energy, and the S (+) C fit.

    Returns the plain-JSON table and the sigma/E array.
    """
    rows = []
    for e in groups:  # one fit per beam energy, not per event
        mu = sig = mu_err = sig_err = np.nan
        if e.size >= MIN_CORE_ENTRIES:
            core = gaussian_core(e)
            mu, sig = core.values["mean"], core.values["sigma"]
            mu_err, sig_err = core.errors["mean"], core.errors["sigma"]
        rel = sig / mu if mu > 0 else np.nan
        rel_err = rel * np.hypot(sig_err / sig, mu_err / mu) if mu > 0 and sig > 0 else np.nan
        rows.append((mu, sig, rel, rel_err))
    table = np.array(rows, dtype=np.float64).reshape(-1, 4).T
    keys = ("mean_gev", "sigma_gev", "rel_sigma", "rel_sigma_err")
    out: dict[str, Any] = {key: _json(v) for key, v in zip(keys, table, strict=True)}
    out["resolution_fit"] = None
    ok = np.isfinite(table[2]) & (table[3] > 0)
    if ok.sum() >= 3:
        with contextlib.suppress(ConfigError):  # no convergence: None; the table stands
            fit = resolution_fit(energies[ok], table[2, ok], table[3, ok])
            out["resolution_fit"] = fit.as_dict()
    return out, table[2]


def _json(values: npt.ArrayLike) -> list[float | None]:
    return [float(v) if np.isfinite(v) else None for v in np.asarray(values, dtype=np.float64)]


def compare_events(
    reference: ModuleRows, decoded: ModuleRows, setup: Any
) -> dict[str, dict[str, Any]]:
    """Energy, position and shower-depth quality of decoded showers against the uncompressed TCs.

    Every number is relative to the uncompressed trigger cells (``reference``).  Per event:
    response E_decoded / E_reference, barycentre shift decoded - reference [cm], shower-max
    shift decoded - reference [X0].  Per beam energy: mean and std of the response; the
    Gaussian-core (:func:`~hgcal_ae.metrics.gaussian_core.gaussian_core`) mean, width and
    sigma/E of both and ``resolution_ratio`` = (sigma/E) decoded / (sigma/E) reference; the
    RMS of the barycentre shift decoded - reference per axis and, given true positions, the
    RMS of reference - true and decoded - true with their ratio; mean and RMS of the
    shower-max shift.  S (+) C fits (:func:`~hgcal_ae.metrics.fits.resolution_fit`) for both
    with >= 3 usable energies, else ``None``.  Events without reference energy are left out
    of every per-energy number; fewer than 10 events at an energy give ``None`` widths.

    Parameters
    ----------
    reference, decoded : ModuleRows
        Module rows (``event``, ``layer``, ``module``, ``tc`` [MIP]) of the uncompressed and
        decoded TCs of the same events (the rows may differ).  The reference's truth is used:
        ``true_energy_gev`` (> 0; events are grouped by its distinct values) and, when every
        event has one, the true impact point ``true_x_cm``, ``true_y_cm`` in the layer frame.
    setup : DetectorSetup
        An 8-inch set-up: ``lattice.name`` (TC map), ``tiling.x_cm/y_cm``,
        ``stack.dedx_weight_mev`` and ``stack.x0_cumulative``.

    Returns
    -------
    dict
        ``"summary"``: plain JSON (lists over ``energy_gev``, ``None`` where undefined);
        ``"events"``: (n_events,) arrays ``energy_{reference,decoded}_gev``, ``response``,
        ``{x,y}_{reference,decoded}_cm``, ``dx_cm``, ``dy_cm``, ``position_shift_cm``,
        ``t_max_{reference,decoded}_x0``, ``shower_max_shift_x0``.

    Raises
    ------
    ConfigError
        On rows that are not ModuleRows, events that differ between the two sides, or
        beam energies not finite and > 0.
    """
    if not isinstance(reference, ModuleRows):
        msg = f"reference must be ModuleRows, got {type(reference).__name__}"
        raise ConfigError(msg)
    e_true = _vector(reference.true_energy_gev, "true_energy_gev")
    if (e_true <= 0).any():
        msg = f"true_energy_gev must be beam energies > 0 GeV, got minimum {float(e_true.min())!r}"
        raise ConfigError(msg)
    n = e_true.size
    if isinstance(decoded, ModuleRows) and decoded.n_events != n:
        msg = f"decoded rows have {decoded.n_events} events, the reference {n}: compare the same events"
        raise ConfigError(msg)
    known = np.isfinite(reference.true_x_cm).all() and np.isfinite(reference.true_y_cm).all()
    true_x, true_y = (reference.true_x_cm, reference.true_y_cm) if known else (None, None)
    sides = {"reference": _event_quantities(reference, setup, n, "reference")}
    sides["decoded"] = _event_quantities(decoded, setup, n, "decoded")
    ev = {
        f"{q}_{side}_{unit}": sides[side][f"{q}_{unit}"]
        for q, unit in (("energy", "gev"), ("x", "cm"), ("y", "cm"), ("t_max", "x0"))
        for side in sides
    }
    ev["response"] = _ratio(ev["energy_decoded_gev"], ev["energy_reference_gev"])
    ev["dx_cm"] = ev["x_decoded_cm"] - ev["x_reference_cm"]
    ev["dy_cm"] = ev["y_decoded_cm"] - ev["y_reference_cm"]
    ev["position_shift_cm"] = np.hypot(ev["dx_cm"], ev["dy_cm"])
    ev["shower_max_shift_x0"] = ev["t_max_decoded_x0"] - ev["t_max_reference_x0"]

    valid = ev["energy_reference_gev"] > 0
    energies, group = np.unique(e_true[valid], return_inverse=True)
    k = energies.size
    order, bounds = np.argsort(group, kind="stable"), np.cumsum(np.bincount(group))[:-1]

    def split(v: FloatArray) -> list[FloatArray]:
        return np.split(v[valid][order], bounds)[:k]  # k = 0: no group

    res, rel = {}, {}
    for side in sides:
        res[side], rel[side] = _resolution(split(ev[f"energy_{side}_gev"]), energies)
    resp_mean, _ = _mean_rms(ev["response"][valid], group, k)
    _, resp_std = _mean_rms(ev["response"][valid] - resp_mean[group], group, k)
    position: dict[str, Any] = {"definition": "RMS over events per axis [cm]"}
    truth = {"x": true_x, "y": true_y}
    for axis in ("x", "y"):
        rms_shift = _mean_rms(ev[f"d{axis}_cm"][valid], group, k)[1]
        position[f"rms_{axis}_decoded_minus_reference_cm"] = _json(rms_shift)
        if truth[axis] is not None:
            t = _vector(truth[axis], f"true_{axis}", n)[valid]  # type: ignore[arg-type]
            rms = {s: _mean_rms(ev[f"{axis}_{s}_cm"][valid] - t, group, k)[1] for s in sides}
            for s in sides:
                position[f"rms_{axis}_{s}_minus_true_cm"] = _json(rms[s])
            position[f"resolution_ratio_{axis}"] = _json(_ratio(rms["decoded"], rms["reference"]))
    tmax_mean, tmax_rms = _mean_rms(ev["shower_max_shift_x0"][valid], group, k)
    ratio = _ratio(rel["decoded"], rel["reference"])
    summary = {
        "relative_to": "uncompressed trigger cells: ratios decoded / reference, shifts decoded - reference",
        "n_events": int(n),
        "n_events_used": int(valid.sum()),
        "energy_gev": _json(energies),
        "n_events_per_energy": np.bincount(group, minlength=k).tolist(),
        "response_mean": _json(resp_mean),
        "response_std": _json(resp_std),
        **res,
        "resolution_ratio": _json(ratio),
        "position": position,
        "shower_max": {"shift_mean_x0": _json(tmax_mean), "shift_rms_x0": _json(tmax_rms)},
    }
    return {"summary": summary, "events": ev}
