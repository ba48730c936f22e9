"""Occupancy ``pu200``: a parametrisation of published 200-pile-up module occupancy.

Public API::

    PU200                                         # every tuned constant, named and cited
    PUBLISHED                                     # the published statistics it is held to
    check_pu200(eta_range, pileup_scale)          # ConfigError naming a bad value
    event_abs_eta(event_id, eta_range, seed) -> (E,)
    module_abs_eta(event_eta, layer, module, setup) -> (M,)
    pileup_trigger_cells(abs_eta, layer, rng, *, scale=1.0) -> (M, 48)      # [MIP_T]
    overlay_pu200(rows, setup, rng, *, eta_range, pileup_scale, seed) -> (ModuleRows, (M,) |eta|)
    pileup_population(n_modules, rng) -> (tc, |eta|, layer)   # pile-up alone, CE-E spread
    occupancy_statistics(tc, abs_eta, layer) -> dict   # each beside its published value
    rows_abs_eta(rows, setup) -> (M,)             # the |eta| overlay_pu200 gave each row
    row_conditions(rows, setup) -> {abs_eta, layer, wafer_type, log_sum}   # conditional decoder
    occupancy_validation(rows, setup) -> (statistics, samples)   # data set and pile-up alone

**Not a CMS simulation.**  The numbers of reference/econt.md §11 are turned into a generator:

* *Positions.*  Each event's shower gets an |η| in ``eta_range`` (1.5-3.0 by default), drawn
  uniformly in the area of a layer (the density of modules in the real CE-E: ``1/sinh²η``
  uniform), from a Weyl sequence of its ``event_id`` so it needs no storage.  The tiling's
  central wafer sits at radius ``z_L / sinh η`` on layer ``L`` (``z_L`` = CE-E front face
  ``PU200.z_front_cm`` + the stack's depth), the others at their offsets; each module's |η| is
  ``asinh(z_L / r)``.
* *Pile-up TCs per module* (non-zero charge): beta-binomial on 48 TCs with mean
  ``48 f(|η|, L)``; logit f is interpolated linearly in |η| between the published anchors of
  the front and back layers (extrapolated linearly below 1.6, constant above 2.7) and between
  front and back in ``((L - 1) / 27) ** depth_power``; ``concentration`` sets the spread
  between modules.  A pile-up scale ``s`` (1 = 200 PU) gives ``1 - (1 - f) ** s``.
* *Charges* [MIP_T]: the published TC spectrum of ttbar 200 PU, ``f(x) = -8.05e3 + 1.26e6/x +
  1.48e8/x²`` (x in CALQ, 35 per MIP_T) between ``charge_min_mip_t`` and 5.7 MIP_T, continued
  as ``x^-2.2`` (its published local slope at 2-4 MIP_T) up to ``charge_max_mip_t``, times a
  per-module log-normal hardness of width ``hardness_sigma`` (modules near a jet hold more
  large TCs: it widens the spread of TCs above 1 MIP_T between modules).
* *Signal.*  The showers' TC charges [MIP] are divided by cosh|η| of their module (MIP_T,
  as the ECON-T sees them) and the pile-up TCs added.  The rows are the modules the shower
  reaches, as the published set keeps modules with SimEnergy > 0 (econt.md §8).

The constants tuned (``depth_power``, ``concentration``, ``charge_min_mip_t``,
``hardness_sigma``) were chosen so that the pile-up of modules spread like the CE-E's over the
odd layers meets the published module statistics (tests/study/test_occupancy_pu200.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

from hgcal_ae.datasets.module_rows import ModuleRows
from hgcal_ae.detector.layers import N_LAYERS
from hgcal_ae.detector.setups import DetectorSetup
from hgcal_ae.detector.trigger_cells import N_TRIGGER_CELLS
from hgcal_ae.errors import ConfigError
from hgcal_ae.models.module_ae import WAFER_TYPES

__all__ = [
    "ETA_LIMITS",
    "PU200",
    "PUBLISHED",
    "Pu200Constants",
    "check_pu200",
    "event_abs_eta",
    "module_abs_eta",
    "occupancy_statistics",
    "occupancy_validation",
    "overlay_pu200",
    "pileup_population",
    "pileup_trigger_cells",
    "row_conditions",
    "rows_abs_eta",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

ETA_LIMITS = (1.5, 3.0)  # the CE-E's |η| acceptance (econt.md §11)
#: the simulated sensors' wafer type (physics.md: the simulation's Si is 300 µm; CMS's
#: 8-inch HD wafers are 120 µm)
SENSOR_WAFER_TYPES = {"hd8": "hd_120um", "ld8": "ld_300um"}


@dataclass(frozen=True)
class Pu200Constants:
    """The constants of the ``pu200`` model: published (cited) and tuned (marked)."""

    # econt.md §11 "η and depth": mean non-zero TCs of front / back layers at these |η|
    anchor_eta: tuple[float, ...] = (1.6, 2.0, 2.4, 2.7)
    front_occupancy: tuple[float, ...] = (9.0, 27.0, 40.0, 46.5)
    back_occupancy: tuple[float, ...] = (1.0, 5.0, 13.0, 21.0)
    # econt.md §11 "TC charge spectrum": Ecoder's fit over 20-200 CALQ, 35 CALQ per MIP_T
    spectrum_coefficients: tuple[float, float, float] = (-8.05e3, 1.26e6, 1.48e8)
    calq_per_mip_t: float = 35.0
    spectrum_fit_max_mip_t: float = 200.0 / 35.0
    tail_slope: float = 2.2  # the published local slope at 2-4 MIP_T, beyond the fit's range
    # CMS CE-E front face [cm] (CMS-TDR-019, HGCAL TDR, table 1.1: z = 322 cm)
    z_front_cm: float = 322.0
    # tuned to the published module statistics (econt.md §11 table)
    depth_power: float = 2.0
    concentration: float = 40.0
    charge_min_mip_t: float = 0.3
    charge_max_mip_t: float = 100.0
    hardness_sigma: float = 0.5
    # charges scale as (cosh η_ref / cosh η) ** charge_eta_power: the same deposit in MIP is
    # fewer MIP_T at high |η| (econt.md §8, ADCT = ADC / cosh η); tuned, with η_ref fixed
    charge_eta_power: float = 1.0
    charge_eta_ref: float = 2.0


PU200 = Pu200Constants()

#: econt.md §11: module statistics of the AE training set (empty modules dropped), the
#: spectrum's local slopes, and the mean non-zero TCs against |η| of front and back layers.
PUBLISHED: dict[str, Any] = {
    "above_1_mip_t": {"median": 3.0, "p16": 1.0, "p84": 7.0, "mean": 4.37, "std": 4.97},
    "non_zero": {"median": 11.0, "p16": 4.0, "p84": 32.0, "mean": 16.1, "std": 13.6},
    "spectrum_slope": {"1-2 MIP_T": -1.9, "2-4 MIP_T": -2.2},
    "spectrum_fraction": {"0.57-1": 0.46, "1-2": 0.33, "2-4": 0.17, "4-5.7": 0.035},
    "occupancy_vs_eta": {
        "abs_eta": list(PU200.anchor_eta),
        "front": list(PU200.front_occupancy),
        "back": list(PU200.back_occupancy),
    },
}
FRONT_LAYERS = (1, 5)  # the layers the "front" and "back" of PUBLISHED are compared on
BACK_LAYERS = (27, 28)


def check_pu200(eta_range: tuple[float, float], pileup_scale: float) -> None:
    """:class:`ConfigError` unless ``eta_range`` lies in 1.5-3.0 (non-empty) and the scale >= 0."""
    try:
        lo, hi = (float(v) for v in eta_range)
    except (TypeError, ValueError):
        lo = hi = float("nan")
    if not (ETA_LIMITS[0] <= lo < hi <= ETA_LIMITS[1]):
        msg = f"|eta| range {eta_range!r}: expected two numbers lo < hi within {ETA_LIMITS[0]}-{ETA_LIMITS[1]}"
        raise ConfigError(msg)
    ok = isinstance(pileup_scale, int | float) and not isinstance(pileup_scale, bool)
    if not (ok and np.isfinite(pileup_scale) and pileup_scale >= 0):
        msg = f"pile-up scale {pileup_scale!r}: expected a finite number >= 0 (1 = 200 pile-up)"
        raise ConfigError(msg)


def event_abs_eta(
    event_id: npt.ArrayLike, eta_range: tuple[float, float] = ETA_LIMITS, seed: int = 0
) -> FloatArray:
    """|η| of each event's shower: uniform in the area of a layer within ``eta_range``.

    A Weyl sequence of ``event_id`` (golden ratio) shifted by ``seed``: the same event always
    gets the same |η|, without storing it.  ``1/sinh²η`` is uniform in area at fixed z.
    """
    ids = np.asarray(event_id, dtype=np.float64)
    u = np.mod((ids + 1.0) * 0.6180339887498949 + seed * 0.7548776662466927, 1.0)
    lo, hi = (1.0 / np.sinh(e) ** 2 for e in eta_range)
    return np.asarray(np.arcsinh(1.0 / np.sqrt(hi + (lo - hi) * u)), dtype=np.float64)


def module_abs_eta(
    event_eta: npt.ArrayLike, layer: npt.ArrayLike, module: npt.ArrayLike, setup: DetectorSetup
) -> FloatArray:
    """|η| of each row's module: the central wafer at the shower's |η| on its layer, the
    others at their tiling offsets (x radial) [rows: ``event_eta``, ``layer``, ``module``]."""
    layer_i = np.asarray(layer, dtype=np.int64)
    module_i = np.asarray(module, dtype=np.int64)
    z = PU200.z_front_cm + (setup.stack.z_mm[layer_i - 1] - setup.stack.z_mm[0]) / 10.0
    r0 = z / np.sinh(np.asarray(event_eta, dtype=np.float64))
    r = np.hypot(r0 + setup.tiling.x_cm[module_i], setup.tiling.y_cm[module_i])
    return np.asarray(np.arcsinh(z / r), dtype=np.float64)


def _logit(p: FloatArray) -> FloatArray:
    return np.asarray(np.log(p / (1.0 - p)), dtype=np.float64)


def _occupancy_logit(abs_eta: FloatArray, anchors: tuple[float, ...]) -> FloatArray:
    eta = np.asarray(PU200.anchor_eta)
    value = _logit(np.asarray(anchors) / N_TRIGGER_CELLS)
    slope = (value[1] - value[0]) / (eta[1] - eta[0])
    inside = np.interp(abs_eta, eta, value)
    return np.where(abs_eta < eta[0], value[0] + slope * (abs_eta - eta[0]), inside)


def mean_fraction(abs_eta: npt.ArrayLike, layer: npt.ArrayLike, scale: float = 1.0) -> FloatArray:
    """Mean fraction of the 48 TCs with pile-up charge, per module (|η|, layer)."""
    eta = np.asarray(abs_eta, dtype=np.float64)
    depth = ((np.asarray(layer, dtype=np.float64) - 1.0) / (N_LAYERS - 1)) ** PU200.depth_power
    front = _occupancy_logit(eta, PU200.front_occupancy)
    back = _occupancy_logit(eta, PU200.back_occupancy)
    f = 1.0 / (1.0 + np.exp(-(front + (back - front) * np.clip(depth, 0.0, 1.0))))
    return np.asarray(1.0 - (1.0 - f) ** scale, dtype=np.float64)


@cache
def _charge_table() -> tuple[FloatArray, FloatArray]:
    """Charge grid [MIP_T] and the spectrum's CDF on it (log-spaced, 4096 points)."""
    q = np.geomspace(PU200.charge_min_mip_t, PU200.charge_max_mip_t, 4096)
    c0, c1, c2 = PU200.spectrum_coefficients
    x, x_end = q * PU200.calq_per_mip_t, PU200.spectrum_fit_max_mip_t * PU200.calq_per_mip_t
    fit = c0 + c1 / x + c2 / x**2
    end = c0 + c1 / x_end + c2 / x_end**2
    pdf = np.where(x <= x_end, fit, end * (x / x_end) ** -PU200.tail_slope)
    steps = 0.5 * (pdf[1:] + pdf[:-1]) * np.diff(q)
    cdf = np.concatenate([[0.0], np.cumsum(steps)])
    return q, cdf / cdf[-1]


def pileup_trigger_cells(
    abs_eta: npt.ArrayLike, layer: npt.ArrayLike, rng: np.random.Generator, *, scale: float = 1.0
) -> FloatArray:
    """Pile-up TC charges ``(M, 48)`` [MIP_T] of modules at ``abs_eta`` on ``layer`` ``(M,)``."""
    f = mean_fraction(abs_eta, layer, scale)
    m = f.shape[0]
    k = PU200.concentration
    p = rng.beta(np.maximum(f * k, 1e-12), np.maximum((1.0 - f) * k, 1e-12)) if m else f
    n_hit = rng.binomial(N_TRIGGER_CELLS, np.where(f > 0, p, 0.0))
    # which TCs: the n_hit smallest of 48 uniform keys, so every subset is equally likely
    rank = np.argsort(np.argsort(rng.random((m, N_TRIGGER_CELLS)), axis=1), axis=1)
    hit = rank < n_hit[:, None]
    grid, cdf = _charge_table()
    charge = np.interp(rng.random((m, N_TRIGGER_CELLS)), cdf, grid)
    hardness = np.exp(PU200.hardness_sigma * rng.standard_normal(m))
    eta_scale = np.cosh(PU200.charge_eta_ref) / np.cosh(np.asarray(abs_eta, dtype=np.float64))
    hardness = (hardness * eta_scale**PU200.charge_eta_power)[:, None]
    return np.asarray(np.where(hit, charge * hardness, 0.0), dtype=np.float64)


def overlay_pu200(
    rows: ModuleRows,
    setup: DetectorSetup,
    rng: np.random.Generator,
    *,
    eta_range: tuple[float, float] = ETA_LIMITS,
    pileup_scale: float = 1.0,
    seed: int = 0,
) -> tuple[ModuleRows, FloatArray]:
    """The signal rows [MIP] in MIP_T with pile-up added, and each row's module |η|."""
    check_pu200(eta_range, pileup_scale)
    eta = rows_abs_eta(rows, setup, eta_range=eta_range, seed=seed)
    signal = np.asarray(rows.tc, dtype=np.float64) / np.cosh(eta)[:, None]
    tc = signal + pileup_trigger_cells(eta, rows.layer, rng, scale=pileup_scale)
    return rows.with_tc(tc.astype(np.asarray(rows.tc).dtype)), eta


def pileup_population(
    n_modules: int,
    rng: np.random.Generator,
    *,
    layers: npt.ArrayLike = tuple(range(1, N_LAYERS + 1, 2)),
    eta_range: tuple[float, float] = ETA_LIMITS,
    scale: float = 1.0,
) -> tuple[FloatArray, FloatArray, IntArray]:
    """Pile-up alone on ``n_modules`` modules spread like the CE-E's (uniform in area within
    ``eta_range``, ``layers`` equally): ``(tc (M, 48) [MIP_T], |η| (M,), layer (M,))``."""
    lo, hi = (1.0 / np.sinh(e) ** 2 for e in eta_range)
    eta = np.arcsinh(1.0 / np.sqrt(rng.uniform(hi, lo, n_modules)))
    layer = rng.choice(np.asarray(layers, dtype=np.int64), n_modules)
    return pileup_trigger_cells(eta, layer, rng, scale=scale), eta, layer


def _quantiles(values: npt.NDArray[Any]) -> dict[str, float]:
    if values.size == 0:
        return dict.fromkeys(("median", "p16", "p84", "mean", "std"), float("nan"))
    p16, median, p84 = np.percentile(values, [16, 50, 84])
    return {
        "median": float(median), "p16": float(p16), "p84": float(p84),
        "mean": float(values.mean()), "std": float(values.std()),
    }  # fmt: skip


def _slope(charges: FloatArray, lo: float, hi: float) -> float:
    """Power-law index of the charge density in [lo, hi] (least squares on 8 log bins)."""
    edges = np.geomspace(lo, hi, 9)
    counts, _ = np.histogram(charges, edges)
    density = counts / np.diff(edges)
    centre = np.sqrt(edges[1:] * edges[:-1])
    ok = density > 0
    if ok.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.log(centre[ok]), np.log(density[ok]), 1)[0])


def occupancy_statistics(
    tc: npt.ArrayLike, abs_eta: npt.ArrayLike, layer: npt.ArrayLike
) -> dict[str, Any]:
    """The module statistics of ``tc`` ``(M, 48)`` [MIP_T], each beside its published value.

    Empty modules are dropped first, as in the published table.  ``occupancy_vs_eta``: the
    mean non-zero TCs in |η| bins of ±0.1 around the anchors, on the front layers
    (:data:`FRONT_LAYERS`) and the back ones (:data:`BACK_LAYERS`), empty modules included.
    """
    charges = np.asarray(tc, dtype=np.float64)
    eta = np.asarray(abs_eta, dtype=np.float64)
    lay = np.asarray(layer, dtype=np.int64)
    non_zero = (charges > 0).sum(axis=1)
    keep = non_zero > 0
    above = (charges[keep] > 1.0).sum(axis=1)
    positive = charges[charges > 0]
    in_fit = positive[(positive >= 20 / 35) & (positive <= 200 / 35)]
    bins = ((20 / 35, 1.0), (1.0, 2.0), (2.0, 4.0), (4.0, 200 / 35))
    fraction = [float(((in_fit >= a) & (in_fit < b)).mean()) if in_fit.size else float("nan")
                for a, b in bins]  # fmt: skip
    vs_eta: dict[str, list[float]] = {"abs_eta": list(PU200.anchor_eta)}
    for name, (first, last) in (("front", FRONT_LAYERS), ("back", BACK_LAYERS)):
        in_layers = (lay >= first) & (lay <= last)
        near = np.abs(eta[None, :] - np.asarray(PU200.anchor_eta)[:, None]) <= 0.1
        sel = near & in_layers[None, :]
        count = sel.sum(axis=1)
        total = (sel * non_zero[None, :]).sum(axis=1)
        vs_eta[name] = [
            float(t / c) if c else float("nan") for t, c in zip(total, count, strict=True)
        ]
    measured = {
        "above_1_mip_t": _quantiles(above),
        "non_zero": _quantiles(non_zero[keep]),
        "spectrum_slope": {
            "1-2 MIP_T": _slope(positive, 1.0, 2.0),
            "2-4 MIP_T": _slope(positive, 2.0, 4.0),
        },
        "spectrum_fraction": dict(zip(PUBLISHED["spectrum_fraction"], fraction, strict=True)),
        "occupancy_vs_eta": vs_eta,
    }
    return {
        "units": "TC charges in MIP_T; counts are TCs per module",
        "n_modules": int(charges.shape[0]), "n_empty_dropped": int((~keep).sum()),
        "measured": measured, "published": PUBLISHED,
        "source": "reference/econt.md §11 (Ecoder occ_1MT/occ_all, train.py fit, PU200 e-gun)",
    }  # fmt: skip


def rows_abs_eta(
    rows: ModuleRows,
    setup: DetectorSetup,
    *,
    eta_range: tuple[float, float] = ETA_LIMITS,
    seed: int = 0,
) -> FloatArray:
    """Each row's module |η|, as :func:`overlay_pu200` placed it (a pure function of the rows)."""
    event_eta = event_abs_eta(rows.event_id, eta_range, seed)[rows.event]
    return module_abs_eta(event_eta, rows.layer, rows.module, setup)


def occupancy_validation(
    rows: ModuleRows,
    setup: DetectorSetup,
    *,
    seed: int = 0,
    n_reference: int = 60000,
    eta_range: tuple[float, float] = ETA_LIMITS,
) -> tuple[dict[str, Any], dict[str, FloatArray]]:
    """Statistics of a ``pu200`` data set and of the pile-up alone, each beside the published.

    Returns ``({"data set": ..., "pile-up alone": ...}, the TC samples)``: the data set's rows
    (signal + pile-up) and ``n_reference`` pile-up-only modules spread like the CE-E's over the
    data set's layers (the population the constants were tuned on); ``seed`` and ``eta_range``
    are the data set's (those its rows were placed with).
    """
    eta = rows_abs_eta(rows, setup, eta_range=eta_range, seed=seed)
    tc = np.asarray(rows.tc, dtype=np.float64)
    layers = np.unique(rows.layer) if rows.n_rows else np.arange(1, N_LAYERS + 1, 2)
    ref_tc, ref_eta, ref_layer = pileup_population(
        n_reference, np.random.default_rng([seed, 200]), layers=layers
    )
    stats = {
        "data set": occupancy_statistics(tc, eta, rows.layer),
        "pile-up alone": occupancy_statistics(ref_tc, ref_eta, ref_layer),
    }
    return stats, {"data set": tc, "pile-up alone": ref_tc}


def row_conditions(
    rows: ModuleRows,
    setup: DetectorSetup,
    *,
    eta_range: tuple[float, float] = ETA_LIMITS,
    seed: int = 0,
) -> dict[str, FloatArray]:
    """The conditional decoder's per-row conditions of ``pu200`` rows (charges in MIP_T).

    ``abs_eta`` as :func:`overlay_pu200` placed the row (same ``eta_range`` and ``seed``),
    ``layer``, ``wafer_type`` (index into :data:`~hgcal_ae.models.module_ae.WAFER_TYPES` of the
    simulated sensor, the same for every row) and ``log_sum`` = ln(ΣCALQ + 1) with
    ``PU200.calq_per_mip_t`` CALQ per MIP_T (ECON_CAE, econt.md §11).  All are known
    off-detector; the module sum travels in the ECON-T frame header anyway.
    """
    sensor = setup.lattice.name
    if sensor not in SENSOR_WAFER_TYPES:
        msg = (
            f"no wafer type for sensor {sensor!r}; expected one of {', '.join(SENSOR_WAFER_TYPES)}"
        )
        raise ConfigError(msg)
    total = np.asarray(rows.tc, dtype=np.float64).sum(axis=1) * PU200.calq_per_mip_t
    return {
        "abs_eta": rows_abs_eta(rows, setup, eta_range=eta_range, seed=seed),
        "layer": np.asarray(rows.layer, dtype=np.float64),
        "wafer_type": np.full(
            rows.n_rows, WAFER_TYPES.index(SENSOR_WAFER_TYPES[sensor]), dtype=np.float64
        ),
        "log_sum": np.log(total + 1.0),
    }
