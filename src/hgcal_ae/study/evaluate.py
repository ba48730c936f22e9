"""Evaluate every ECON-T algorithm at every e-link setting on the same test modules.

For each setting the decoded trigger cells of all modules are compared with the
uncompressed ones: per module (EMD, energy ratio, centroid shift, width ratio, occupancy)
and per event, with all modules of a shower decoded (energy response and resolution, the
S ⊕ C fit, barycentre position, shower maximum).  Every number is stated relative to the
uncompressed trigger cells.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from hgcal_ae.datasets.module_rows import ModuleRows
from hgcal_ae.detector.setups import DetectorSetup
from hgcal_ae.detector.trigger_cells import tc_coords, trigger_cell_map
from hgcal_ae.metrics.event_quality import compare_events
from hgcal_ae.metrics.module_quality import module_quality, summarise
from hgcal_ae.models.module_ae import ModuleAutoencoder
from hgcal_ae.models.module_training import autoencoder_output, decode_shapes
from hgcal_ae.simulation.medium import tb2018_medium
from hgcal_ae.trigger.autoencoder_budget import autoencoder_latent_bits_available
from hgcal_ae.trigger.baselines import (
    AlgorithmOutput,
    best_choice,
    repeater,
    super_trigger_cells,
    threshold_sum,
)
from hgcal_ae.trigger.formats import DROPPED_LSBS
from hgcal_ae.trigger.transmission import transmit_autoencoder

__all__ = [
    "CLUSTER_MOLIERE_RADII",
    "ETA_EDGES",
    "OCCUPANCY_EDGES",
    "algorithm_outputs",
    "cluster_mask",
    "evaluate_all",
    "evaluate_output",
    "reference_output",
]

REPEATER_ELINKS = 11  # 341 bits (econt.md §6): the uncompressed reference setting


def algorithm_outputs(
    tc: npt.NDArray[np.float64],
    n_elinks: int,
    *,
    models: Mapping[tuple[int, int], ModuleAutoencoder],
    thresholds: Sequence[float],
    lsb: float,
    zero_suppress: float = 0.0,
    conditions: Mapping[str, npt.ArrayLike] | None = None,
    dropped_lsbs: int = 0,
) -> list[tuple[AlgorithmOutput, dict[str, int]]]:
    """What every algorithm sends at ``n_elinks``: the baselines and every AE whose code fits.

    Each output comes with its extra table columns (latent dim and bits for an AE);
    ``conditions``: the modules' conditions, for conditional AEs (models.module_training);
    ``dropped_lsbs``: the sensor's DropLSB (trigger.baselines: one CALQ count is
    ``lsb / 2**dropped_lsbs``).
    """
    drop = dropped_lsbs
    outputs: list[tuple[AlgorithmOutput, dict[str, int]]] = [
        (best_choice(tc, n_elinks, lsb=lsb, dropped_lsbs=drop), {}),
        (super_trigger_cells(tc, n_elinks, size=4, lsb=lsb, dropped_lsbs=drop), {}),
        (super_trigger_cells(tc, n_elinks, size=16, lsb=lsb, dropped_lsbs=drop), {}),
        *((threshold_sum(tc, n_elinks, t, lsb=lsb, dropped_lsbs=drop), {}) for t in thresholds),
    ]
    capacity = autoencoder_latent_bits_available(n_elinks)
    for (latent_dim, bits), model in sorted(models.items()):
        if latent_dim * bits <= capacity:
            cond = conditions if model.config.conditions else None
            output = autoencoder_output(
                model, tc, n_elinks, lsb=lsb, zero_suppress=zero_suppress, conditions=cond
            )
            outputs.append((output, {"latent_dim": latent_dim, "latent_bits": bits}))
    return outputs


def reference_output(tc: npt.NDArray[np.float64], lsb: float) -> AlgorithmOutput:
    """The repeater: every TC in 4E3M, the best any algorithm can do (341 bits, 11 e-links)."""
    return repeater(tc, REPEATER_ELINKS, lsb=lsb)


def _mean(values: Any) -> float | None:
    finite = [v for v in (values or []) if v is not None and math.isfinite(v)]
    return float(np.mean(finite)) if finite else None


def _max(values: Any) -> float | None:
    finite = [v for v in (values or []) if v is not None and math.isfinite(v)]
    return float(np.max(finite)) if finite else None


#: Bins of the input occupancy (TCs >= 1 MIP per module) in which the EMD is also averaged:
#: Ecoder's profile bins [0, 2, 5, 10, 15] (econt.md §5), the last one open.
OCCUPANCY_EDGES = (0, 2, 5, 10, 15)


#: Bins of the modules' |η| (occupancy ``pu200``) in which the EMD is also averaged: the
#: CE-E's 1.5-3.0 in steps of 0.3.
ETA_EDGES = (1.5, 1.8, 2.1, 2.4, 2.7, 3.0)


def _emd_by_bins(
    emd: npt.NDArray[np.float64],
    values: npt.ArrayLike,
    edges: Sequence[float],
    inner: Sequence[float],
) -> dict[str, Any]:
    """Mean EMD [cm] and module count per bin of ``values`` (``inner``: the edges that split;
    empty modules left out)."""
    ok = emd >= 0  # the sentinels of empty inputs / outputs are no distances
    bins = np.digitize(np.asarray(values), inner)  # 0 .. len(inner)
    k = len(inner) + 1
    n = np.bincount(bins[ok], minlength=k)
    total = np.bincount(bins[ok], weights=emd[ok], minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / n
    return {
        "n_modules": n.astype(int).tolist(),
        "emd_mean_cm": [float(m) if c else None for m, c in zip(mean, n, strict=True)],
    }


def _emd_by_occupancy(emd: npt.NDArray[np.float64], occupancy: npt.ArrayLike) -> dict[str, Any]:
    """Mean EMD [cm] and module count per input-occupancy bin (empty modules left out)."""
    bins = _emd_by_bins(emd, occupancy, OCCUPANCY_EDGES, OCCUPANCY_EDGES[1:])
    return {"emd_by_occupancy": {"occupancy_edges": list(OCCUPANCY_EDGES), **bins}}


def _emd_by_eta(emd: npt.NDArray[np.float64], abs_eta: npt.ArrayLike) -> dict[str, Any]:
    """Mean EMD [cm] and module count per |η| bin of :data:`ETA_EDGES` (the outer bins open)."""
    bins = _emd_by_bins(emd, abs_eta, ETA_EDGES, ETA_EDGES[1:-1])
    return {"emd_by_eta": {"eta_edges": list(ETA_EDGES), **bins}}


#: The cluster of the event-level numbers under ``pu200``: TCs whose centre lies within this
#: many Molière radii (``tb2018_medium().rm_eff_cm``, 2.88 cm; reference/physics.md §1.4) of
#: the shower's axis on their layer; on the default preset's signal showers it holds 95 % of
#: the charge (82 % within one radius).
CLUSTER_MOLIERE_RADII = 2.0


def cluster_mask(
    modules: ModuleRows, setup: DetectorSetup, radius_cm: float | None = None
) -> npt.NDArray[np.bool_]:
    """``(M, 48)``: the TCs whose centre lies within ``radius_cm`` (default
    :data:`CLUSTER_MOLIERE_RADII` Molière radii) of the shower's axis on their layer.

    The axis enters at the event's true impact point (``true_x_cm``, ``true_y_cm``, on the
    front layer) at its incidence angles; TC centres are in the layer frame (wafer centre
    plus the TC's place on the wafer).
    """
    radius = CLUSTER_MOLIERE_RADII * tb2018_medium().rm_eff_cm if radius_cm is None else radius_cm
    tc_map = trigger_cell_map(setup.lattice.name)
    depth_cm = (setup.stack.z_mm[modules.layer - 1] - setup.stack.z_mm[0]) / 10.0
    ev = modules.event
    axis_x = modules.true_x_cm[ev] + np.tan(modules.angle_x_rad[ev]) * depth_cm
    axis_y = modules.true_y_cm[ev] + np.tan(modules.angle_y_rad[ev]) * depth_cm
    x = setup.tiling.x_cm[modules.module][:, None] + tc_map.tc_x_cm[None, :]
    y = setup.tiling.y_cm[modules.module][:, None] + tc_map.tc_y_cm[None, :]
    inside: npt.NDArray[np.bool_] = (x - axis_x[:, None]) ** 2 + (
        y - axis_y[:, None]
    ) ** 2 <= radius**2
    return inside


def _truth_at_depth(rows: ModuleRows, setup: DetectorSetup) -> ModuleRows:
    """``rows`` with each event's true point moved along its axis from the front layer to the
    energy-weighted mean depth of its TCs, where a barycentre of all layers sits: the truth
    that a barycentre's position resolution is measured against."""
    depth_cm = (setup.stack.z_mm[rows.layer - 1] - setup.stack.z_mm[0]) / 10.0
    energy = (
        np.asarray(rows.tc, dtype=np.float64).sum(axis=1)
        * setup.stack.dedx_weight_mev[rows.layer - 1]
    )
    total = np.bincount(rows.event, weights=energy, minlength=rows.n_events)
    moment = np.bincount(rows.event, weights=energy * depth_cm, minlength=rows.n_events)
    depth = np.divide(moment, total, out=np.zeros(rows.n_events), where=total > 0)
    return rows.with_truth(
        true_x_cm=rows.true_x_cm + np.tan(rows.angle_x_rad) * depth,
        true_y_cm=rows.true_y_cm + np.tan(rows.angle_y_rad) * depth,
    )


def _hypot_rms(position: Mapping[str, Any], key: str) -> list[float | None] | None:
    """Per energy, sqrt(RMS_x² + RMS_y²) of ``rms_{x,y}_<key>_cm`` (None where unknown)."""
    xs, ys = position.get(f"rms_x_{key}_cm"), position.get(f"rms_y_{key}_cm")
    if xs is None or ys is None:
        return None
    return [math.hypot(x, y) if x is not None and y is not None else None
            for x, y in zip(xs, ys, strict=True)]  # fmt: skip


def evaluate_output(
    output: AlgorithmOutput,
    modules: ModuleRows,
    setup: DetectorSetup,
    *,
    abs_eta: npt.ArrayLike | None = None,
) -> dict[str, Any]:
    """One row of the study table: the quality of ``output`` relative to the uncompressed TCs.

    ``abs_eta``: each module's |η| (occupancy ``pu200``, charges in MIP_T).  It adds the mean
    EMD per |η| bin (``emd_by_eta``), and the event-level numbers take the *cluster*: the TCs
    within :data:`CLUSTER_MOLIERE_RADII` Molière radii of the shower's axis
    (:func:`cluster_mask`), each times cosh|η| of its module (MIP_T back to MIP, as the back
    end calibrates transverse to total energy), so that pile-up far from the shower stays
    out and showers at different |η| share one energy scale.  The module-level numbers stay
    in the transmitted MIP_T, on whole modules.  ``per_energy`` holds the cluster energy resolution σ/μ of the
    decoded and the uncompressed TCs and, where the showers' impact points are known, their
    position resolutions (RMS of barycentre − truth, x and y in quadrature) [cm], the truth
    taken on the shower's axis at the mean depth of its uncompressed TCs.
    """
    coords = tc_coords(setup.lattice.name)
    per_module = module_quality(modules.tc, output.reconstructed, coords, occupancy_threshold=1.0)
    reference, decoded = modules, modules.with_tc(output.reconstructed)
    if abs_eta is not None:  # the cluster about the shower's axis, MIP_T -> MIP
        weight = np.cosh(np.asarray(abs_eta, dtype=np.float64))[:, None]
        weight = weight * cluster_mask(modules, setup)
        reference = modules.with_tc(np.asarray(modules.tc, dtype=np.float64) * weight)
        decoded = modules.with_tc(output.reconstructed * weight)
    reference = _truth_at_depth(reference, setup)
    events = compare_events(reference, decoded, setup)["summary"]
    fit_ref = (events["reference"].get("resolution_fit") or {}).get("values") or {}
    fit_dec = (events["decoded"].get("resolution_fit") or {}).get("values") or {}
    position = events["position"]
    rms = [math.hypot(x, y) for x, y in zip(position["rms_x_decoded_minus_reference_cm"],
                                            position["rms_y_decoded_minus_reference_cm"], strict=True)
           if x is not None and y is not None]  # fmt: skip
    emd = summarise(per_module["emd"])
    by_eta = {} if abs_eta is None else _emd_by_eta(per_module["emd"], abs_eta)
    return {
        **_emd_by_occupancy(per_module["emd"], per_module["occupancy_in"]),
        **by_eta,
        "algorithm": output.name,
        "label": output.label,
        "setting": output.setting,
        "n_elinks": output.n_elinks,
        "bits": float(output.bits.mean()),
        "fits_fraction": float(output.fits.mean()),
        "emd_mean_cm": emd["mean"],
        "emd_median_cm": emd["median"],
        "energy_ratio_mean": summarise(per_module["energy_ratio"])["mean"],
        "centroid_shift_mean_cm": summarise(per_module["centroid_shift"])["mean"],
        "width_ratio_mean": summarise(per_module["width_ratio"])["mean"],
        "occupancy_out_mean": float(np.mean(per_module["occupancy_out"])),
        "occupancy_in_mean": float(np.mean(per_module["occupancy_in"])),
        "response_mean": _mean(events["response_mean"]),
        "resolution_ratio_mean": _mean(events["resolution_ratio"]),
        "resolution_ratio_max": _max(events["resolution_ratio"]),
        "stochastic_term_decoded": fit_dec.get("S"),
        "stochastic_term_reference": fit_ref.get("S"),
        "position_shift_rms_cm": _mean(rms),
        "shower_max_shift_rms_x0": _mean(events["shower_max"]["shift_rms_x0"]),
        "per_energy": {
            "energy_gev": events["energy_gev"],
            "resolution_ratio": events["resolution_ratio"],
            "rel_sigma_decoded": events["decoded"].get("rel_sigma"),
            "rel_sigma_reference": events["reference"].get("rel_sigma"),
            "response_mean": events["response_mean"],
            "position_rms_decoded_cm": _hypot_rms(position, "decoded_minus_true"),
            "position_rms_reference_cm": _hypot_rms(position, "reference_minus_true"),
        },
    }


def evaluate_all(
    modules: ModuleRows,
    setup: DetectorSetup,
    models: Mapping[tuple[int, int], ModuleAutoencoder],
    *,
    elinks: Sequence[int],
    thresholds: Sequence[float],
    lsb: float,
    zero_suppress: float = 0.0,
    conditions: Mapping[str, npt.ArrayLike] | None = None,
    abs_eta: npt.ArrayLike | None = None,
) -> list[dict[str, Any]]:
    """Rows of the study table: every algorithm at every e-link setting, plus the repeater.

    ``modules`` are the test events' rows (:meth:`ModuleRows.select_rows`), charges [MIP];
    ``abs_eta``: their modules' |η| (occupancy ``pu200``; adds ``emd_by_eta``).
    """
    tc: npt.NDArray[np.float64] = np.asarray(modules.tc, dtype=np.float64)
    modules = modules.with_tc(tc)
    # Each AE is decoded once and sent at every setting its code fits: its decoder output
    # does not depend on the e-link setting, only the transmission does.  Decoding it once
    # per setting cost the full preset's evaluation most of its time (58 AEs, 241k modules).
    ae_rows: dict[tuple[int, tuple[int, int]], dict[str, Any]] = {}
    for (latent_dim, bits), model in sorted(models.items()):
        fits = [n for n in elinks if latent_dim * bits <= autoencoder_latent_bits_available(n)]
        if not fits:
            continue
        cfg = model.config
        shapes = decode_shapes(model, tc, conditions=conditions if cfg.conditions else None)
        for n in fits:
            output = transmit_autoencoder(shapes, tc, n, cfg.latent_dim, cfg.latent_bits,
                                          lsb=lsb, zero_suppress=zero_suppress)  # fmt: skip
            ae_rows[n, (latent_dim, bits)] = {
                **evaluate_output(output, modules, setup, abs_eta=abs_eta),
                "latent_dim": latent_dim, "latent_bits": bits,
            }  # fmt: skip
    rows = [evaluate_output(reference_output(tc, lsb), modules, setup, abs_eta=abs_eta)]
    for n in elinks:  # the rows in algorithm_outputs' order: baselines, then the AEs that fit
        baselines = algorithm_outputs(
            tc,
            n,
            models={},
            thresholds=thresholds,
            lsb=lsb,
            zero_suppress=zero_suppress,
            dropped_lsbs=DROPPED_LSBS.get(setup.lattice.name, 0),
        )
        for output, extra in baselines:
            rows.append({**evaluate_output(output, modules, setup, abs_eta=abs_eta), **extra})
        rows.extend(row for (setting, _), row in sorted(ae_rows.items()) if setting == n)
    return rows
