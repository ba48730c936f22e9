"""Physics quality of decoded beam-test showers against the originals, per beam energy.

Public API::

    layer_shapes(batch) -> LayerShapes               # per (event, layer): barycentre, R90, width
    cell_emd_per_layer(original, decoded, events) -> (n_events, 28) [cm]
    compare_energy(original, decoded, stack, energy, emd_events) -> dict
    compare_energies(original, decoded, stack, emd_events) -> dict   # + resolution/linearity fits

The measures are those the simulation is validated with (:mod:`hgcal_ae.metrics.validation`:
dE/dx-weighted energy with its Gaussian core, longitudinal profile and its Γ-fit maximum,
R90; :mod:`hgcal_ae.metrics.shower_shapes`, :mod:`hgcal_ae.metrics.shower_max`), applied to
the decoded events and to the originals, plus what compression moves:

* the energy error of each event (decoded / original - 1, dE/dx-weighted), and from its RMS
  the resolution degradation ``sqrt(1 + (RMS / (σ/E))^2) - 1``: how much σ/E grows when the
  compression's error adds in quadrature.  It is paired event by event, so it is stable where
  the ratio of two separately fitted Gaussian cores is not (with ~150 events per energy, one
  event entering or leaving a core window moves a fitted σ by a few %);
* the shower-maximum shift per event (parabola vertex of each profile, decoded - original) [X0];
* the barycentre shift per layer and per event (all layers) [mm];
* the R90 and the energy-weighted RMS width of every layer [cm];
* the cell EMD per layer: the 1-Wasserstein distance between the normalised cell energies of
  a layer, original against decoded, with the Euclidean distance between the 6-inch sensor's
  cell centres as ground distance [cm], solved exactly by the metrics' batched network simplex
  (:func:`hgcal_ae.metrics.emd.emd_with_distance`) on all (event, layer) rows at once.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from hgcal_ae.datasets.event_batch import EventBatch
from hgcal_ae.detector.hexagons import sensor
from hgcal_ae.detector.layers import N_LAYERS, LayerStack
from hgcal_ae.errors import ConfigError
from hgcal_ae.metrics.emd import emd_with_distance
from hgcal_ae.metrics.shower_max import profile_t_max
from hgcal_ae.metrics.shower_shapes import barycentre, containment_radius, longitudinal_profile
from hgcal_ae.metrics.validation import EnergyPoint, analyse_energy_point, validation_fits
from hgcal_ae.study.beamtest_data import BEAMTEST_SENSOR

__all__ = [
    "LayerShapes",
    "cell_emd_per_layer",
    "compare_energies",
    "compare_energy",
    "layer_shapes",
]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class LayerShapes:
    """Transverse shape of every (event, layer), each array (n_events, 28); NaN where empty."""

    x_cm: FloatArray
    y_cm: FloatArray
    r90_cm: FloatArray
    width_cm: FloatArray


def _by_layer(batch: EventBatch) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Hit order sorted by (event, layer) and its CSR offsets over n_events * 28 groups."""
    group = batch.event_index_of_hits() * N_LAYERS + batch.layer.astype(np.int64) - 1
    order = np.argsort(group, kind="stable")
    counts = np.bincount(group, minlength=batch.n_events * N_LAYERS)
    return order, np.concatenate([[0], np.cumsum(counts)])


def layer_shapes(batch: EventBatch) -> LayerShapes:
    """Barycentre, 90 % containment radius and RMS width of each layer of each event."""
    order, offsets = _by_layer(batch)
    x = batch.x_cm[order].astype(np.float64)
    y = batch.y_cm[order].astype(np.float64)
    e = batch.energy_mip[order].astype(np.float64)
    xb, yb = barycentre(x, y, e, offsets)
    r90 = containment_radius(x, y, e, offsets, fraction=0.9, centre=(xb, yb))
    group = np.repeat(np.arange(offsets.size - 1), np.diff(offsets))
    total = np.bincount(group, weights=e, minlength=offsets.size - 1)
    r2 = np.bincount(
        group, weights=e * ((x - xb[group]) ** 2 + (y - yb[group]) ** 2), minlength=total.size
    )
    width = np.sqrt(np.divide(r2, total, out=np.full(total.size, np.nan), where=total > 0))
    shape = (batch.n_events, N_LAYERS)
    return LayerShapes(
        xb.reshape(shape), yb.reshape(shape), r90.reshape(shape), width.reshape(shape)
    )


def cell_emd_per_layer(original: npt.ArrayLike, decoded: npt.ArrayLike) -> FloatArray:
    """Cell EMD [cm] of every (event, layer) of cell energies ``(n_events, 28, 109)``.

    NaN where either layer holds no energy (negative cell energies count as zero).
    """
    a = np.clip(np.asarray(original, dtype=np.float64), 0.0, None)
    b = np.clip(np.asarray(decoded, dtype=np.float64), 0.0, None)
    if a.shape != b.shape or a.ndim != 3:
        msg = f"original and decoded cells must share an (n_events, 28, n_cells) shape, got {a.shape} and {b.shape}"
        raise ConfigError(msg)
    out = np.full(a.shape[:2], np.nan)
    lattice = sensor(BEAMTEST_SENSOR)
    xy = np.stack([lattice.x_cm, lattice.y_cm], axis=1).astype(np.float64)
    dist = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=-1))
    ok = (a.sum(axis=2) > 0) & (b.sum(axis=2) > 0)
    out[ok] = emd_with_distance(a[ok], b[ok], dist)  # every non-empty (event, layer) at once
    return out


def _rms(values: FloatArray, axis: int | None = None) -> FloatArray | float:
    v = np.where(np.isfinite(values), values, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: empty layers
        result = np.sqrt(np.nanmean(v * v, axis=axis))
    return float(result) if axis is None else np.asarray(result, dtype=np.float64)


def _nanmean(values: FloatArray, axis: int | None = None) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: empty layers
        result = np.nanmean(values, axis=axis)
    return float(result) if axis is None else np.asarray(result, dtype=np.float64)


def _per_layer(values: FloatArray) -> list[float | None]:
    return [None if not math.isfinite(v) else round(float(v), 6) for v in values]


def compare_energy(
    original: EventBatch,
    decoded: EventBatch,
    original_cells: npt.ArrayLike,
    decoded_cells: npt.ArrayLike,
    stack: LayerStack,
    energy_gev: float,
    emd_events: int,
) -> tuple[dict[str, Any], EnergyPoint, EnergyPoint]:
    """The quality of one beam energy's decoded events against the originals.

    ``original``/``decoded`` are the events as hits (:func:`~hgcal_ae.study.beamtest_data.
    cells_to_events`), ``*_cells`` the same as ``(n_events, 28, 109)`` arrays; the cell EMD is
    computed on the first ``emd_events`` events.  Returns the summary entry and the two
    :class:`~hgcal_ae.metrics.validation.EnergyPoint` s (for the fits across energies).
    """
    po = analyse_energy_point(original, stack, energy_gev)
    pd = analyse_energy_point(decoded, stack, energy_gev)
    x0 = stack.x0_cumulative
    prof_o = longitudinal_profile(original.layer, original.energy_mip, original.hit_offsets)
    prof_d = longitudinal_profile(decoded.layer, decoded.energy_mip, decoded.hit_offsets)
    t_shift = np.asarray(profile_t_max(prof_d, x0)) - np.asarray(profile_t_max(prof_o, x0))
    so, sd = layer_shapes(original), layer_shapes(decoded)
    shift_layer_mm = 10.0 * np.hypot(sd.x_cm - so.x_cm, sd.y_cm - so.y_cm)
    exo, eyo = barycentre(original.x_cm, original.y_cm, original.energy_mip, original.hit_offsets)
    exd, eyd = barycentre(decoded.x_cm, decoded.y_cm, decoded.energy_mip, decoded.hit_offsets)
    shift_event_mm = 10.0 * np.hypot(exd - exo, eyd - eyo)
    # The compression's own energy error, event by event: paired, so it does not depend on
    # where the two Gaussian-core fits put their windows (one event more or less in a core
    # window moves a fitted σ by several % at 150 events; the paired RMS does not).
    e_o, e_d = po.reco_energy_gev, pd.reco_energy_gev
    rel_shift = np.divide(e_d - e_o, e_o, out=np.full(e_o.size, np.nan), where=e_o > 0)
    shift_rms = _rms(rel_shift)
    n_emd = min(int(emd_events), original.n_events)
    emd = cell_emd_per_layer(np.asarray(original_cells)[:n_emd], np.asarray(decoded_cells)[:n_emd])
    entry: dict[str, Any] = {
        "beam_energy_gev": float(energy_gev),
        "n_events": original.n_events,
        "rel_sigma_original": po.rel_sigma,
        "rel_sigma_decoded": pd.rel_sigma,
        "resolution_ratio": pd.rel_sigma / po.rel_sigma,
        "energy_shift_rms": shift_rms,
        "resolution_degradation": math.sqrt(1.0 + (shift_rms / po.rel_sigma) ** 2) - 1.0,
        "reco_mean_original_gev": po.reco.values["mean"],
        "reco_mean_decoded_gev": pd.reco.values["mean"],
        "reco_mean_ratio": pd.reco.values["mean"] / po.reco.values["mean"],
        "t_max_original_x0": po.t_max.values["t_max"],
        "t_max_decoded_x0": pd.t_max.values["t_max"],
        "shower_max_shift_mean_x0": _nanmean(t_shift),
        "shower_max_shift_rms_x0": _rms(t_shift),
        "r90_original_cm": po.r90_mean_cm,
        "r90_decoded_cm": pd.r90_mean_cm,
        "barycentre_shift_rms_mm": _rms(shift_event_mm),
        "barycentre_shift_rms_mm_per_layer": _per_layer(np.asarray(_rms(shift_layer_mm, 0))),
        "r90_per_layer_original_cm": _per_layer(np.asarray(_nanmean(so.r90_cm, 0))),
        "r90_per_layer_decoded_cm": _per_layer(np.asarray(_nanmean(sd.r90_cm, 0))),
        "width_per_layer_original_cm": _per_layer(np.asarray(_nanmean(so.width_cm, 0))),
        "width_per_layer_decoded_cm": _per_layer(np.asarray(_nanmean(sd.width_cm, 0))),
        "cell_emd_events": n_emd,
        "cell_emd_mean_cm": _nanmean(emd) if n_emd else None,
        "cell_emd_per_layer_cm": _per_layer(np.asarray(_nanmean(emd, 0))) if n_emd else None,
        "mean_profile_original_gev": po.mean_profile_gev.tolist(),
        "mean_profile_decoded_gev": pd.mean_profile_gev.tolist(),
    }
    return entry, po, pd


def compare_energies(
    original: EventBatch,
    decoded: EventBatch,
    original_cells: npt.ArrayLike,
    decoded_cells: npt.ArrayLike,
    stack: LayerStack,
    emd_events: int,
) -> dict[str, Any]:
    """:func:`compare_energy` for every beam energy, and the fits across energies.

    Events are grouped by ``true_energy_gev``.  With three energies or more, the resolution
    (S, C) and linearity fits of the originals and of the decoded events are given.
    """
    energies = np.unique(original.true_energy_gev)
    points: list[dict[str, Any]] = []
    fit_points: tuple[list[EnergyPoint], list[EnergyPoint]] = ([], [])
    oc, dc = np.asarray(original_cells), np.asarray(decoded_cells)
    for energy in energies:
        sel = np.flatnonzero(original.true_energy_gev == energy)
        entry, po, pd = compare_energy(
            original.select(sel), decoded.select(sel), oc[sel], dc[sel], stack,
            float(energy), emd_events,
        )  # fmt: skip
        points.append(entry)
        fit_points[0].append(po)
        fit_points[1].append(pd)
    fits: dict[str, Any] = {}
    if len(energies) >= 3:
        for name, pts in zip(("original", "decoded"), fit_points, strict=True):
            result = validation_fits(pts).as_dict()
            fits[name] = {
                k: result[k]
                for k in ("resolution_fit", "linearity_fit", "max_abs_linearity_residual")
            }
    return {"points": points, "fits": fits}


def worst(points: Sequence[dict[str, Any]]) -> dict[str, float]:
    """The worst value over energies of each criterion's measure."""
    return {
        "resolution_deviation": max(p["resolution_degradation"] for p in points),
        "resolution_ratio_deviation": max(abs(p["resolution_ratio"] - 1.0) for p in points),
        "shower_max_shift_rms_x0": max(p["shower_max_shift_rms_x0"] for p in points),
        "barycentre_shift_rms_mm": max(p["barycentre_shift_rms_mm"] for p in points),
    }
