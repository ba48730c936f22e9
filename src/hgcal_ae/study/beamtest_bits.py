"""Bits against quality on beam-test showers: the Pareto front, and neighbour-cell sums.

Public API::

    PARETO_MEASURES                                   # measure -> (label, unit, resolution)
    DEFAULT_GROUP_SIZES = (1, 2, 3, 7)
    direct_entry(data, config, size) -> dict          # cluster sums sent as they are
    pareto_front(bits, values, resolution) -> bool mask  # the points no other point beats
    bits_points(entries) -> list[dict]                # one row per way of sending an event
    bits_summary(points, bits_scan, bits_scan_dims) -> dict
    grouping_summary(points, sizes, seconds) -> dict

Every way of sending an event is a point of bits per event against quality: the
autoencoders of the latent scan, of the bits scan (the same families retrained with fewer or
more bits per latent value) and on clustered cells, and the **direct** sending of the cell
energies: every cluster of ``size`` neighbouring cells (:mod:`hgcal_ae.detector.sensor_groups`;
size 1 = the cells alone) with energy is sent as its address (``ceil(log2 n_groups)`` bits)
and its sum (a 16-bit float, as the autoencoders' sums; the value is rounded to float16),
and the receiver spreads each sum evenly over the cluster's cells.  The direct sums keep every
layer's energy, so they move only the transverse measures.  Quality is the worst beam
energy's value of each measure (:func:`hgcal_ae.study.beamtest_quality.worst`, and the cell
EMD's mean per energy).  A point is on the Pareto front of a measure when no other point has
at most its bits and a lower value, or fewer bits and the same value; values are compared at
the measure's resolution (0.01 % of σ/E, 0.001 X0, mm or cm), so that rounding noise (a
decoder that keeps every layer's energy to 1e-7) does not put a costlier point on the front.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from hgcal_ae.detector.layers import N_LAYERS
from hgcal_ae.detector.sensor_groups import cell_groups
from hgcal_ae.models.beamtest_ae import SUM_BITS
from hgcal_ae.study.beamtest import BeamtestData, BeamtestStudyConfig, judge
from hgcal_ae.study.beamtest_data import BEAMTEST_SENSOR

__all__ = [
    "DEFAULT_GROUP_SIZES",
    "PARETO_MEASURES",
    "bits_points",
    "bits_summary",
    "direct_entry",
    "grouping_summary",
    "pareto_front",
]

DEFAULT_GROUP_SIZES = (1, 2, 3, 7)
FLOAT16_MAX = float(np.finfo(np.float16).max)
PARETO_MEASURES: dict[str, tuple[str, str, float]] = {  # label, unit, resolution
    "resolution_deviation": ("σ/E degradation", "%", 1e-4),
    "shower_max_shift_rms_x0": ("shower-max shift RMS", "X0", 1e-3),
    "barycentre_shift_rms_mm": ("barycentre shift RMS", "mm", 1e-3),
    "cell_emd_cm": ("cell EMD per layer", "cm", 1e-3),
}


def direct_entry(data: BeamtestData, config: BeamtestStudyConfig, size: int) -> dict[str, Any]:
    """The test events sent as cluster sums of ``size`` cells (no autoencoder), judged.

    Returns an entry like an autoencoder's (``bits_per_event``, ``quality``, ``worst``,
    ``meets_criterion``), with ``family = "direct"``, ``group_size``, ``n_groups``,
    ``address_bits``, ``groups_sent_per_event`` and ``seconds`` (the evaluation's time).
    """
    start = time.perf_counter()
    groups = cell_groups(size, BEAMTEST_SENSOR)
    _, _, test = data.split(config)
    sums = groups.sums(np.clip(data.cells[test], 0.0, None))
    sent = sums > 0
    values = np.minimum(sums, FLOAT16_MAX).astype(np.float16).astype(np.float64)
    quality, worst_values, meets = judge(data, config, test, groups.spread(values))
    per_group = groups.address_bits + SUM_BITS
    sent_per_event = float(sent.sum(axis=(1, 2)).mean())
    bits_event = sent_per_event * per_group
    return {
        "family": "direct",
        "group_size": size,
        "label": "cells sent alone" if size == 1 else f"{size}-cell sums sent",
        "n_groups": groups.n_groups,
        "address_bits": groups.address_bits,
        "value_bits": SUM_BITS,
        "groups_sent_per_event": sent_per_event,
        "bits_per_event": bits_event,
        "bits_per_layer": bits_event / N_LAYERS,
        "quality": quality,
        "worst": worst_values,
        "meets_criterion": meets,
        "seconds": time.perf_counter() - start,
    }


def pareto_front(
    bits: npt.ArrayLike, values: npt.ArrayLike, resolution: float = 0.0
) -> npt.NDArray[np.bool_]:
    """Which points no other point beats (fewer or equal bits and a lower value, both minimised).

    Values are compared rounded to ``resolution`` (0: as they are).  Of points with equal bits
    and value the first is on the front; NaN values never are.
    """
    b = np.asarray(bits, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    v = np.where(np.isfinite(v), v, np.inf)
    if resolution > 0:
        v = np.round(v / resolution) * resolution
    order = np.lexsort((np.arange(b.size), v, b))  # by bits, then value, then position
    best_before = np.concatenate([[np.inf], np.minimum.accumulate(v[order])[:-1]])
    front = np.zeros(b.size, dtype=bool)
    front[order] = (v[order] < best_before) & np.isfinite(v[order])
    return front


def _emd(entry: dict[str, Any]) -> float:
    emd = [p["cell_emd_mean_cm"] for p in entry["quality"]["points"]]
    known = [float(x) for x in emd if x is not None]
    return max(known) if known else float("nan")


def bits_points(entries: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per way of sending an event: its key, kind, bits and worst quality values.

    ``entries`` are autoencoder entries (:func:`~hgcal_ae.study.beamtest.train_and_evaluate`,
    with a ``key``) and direct entries (:func:`direct_entry`, with a ``key``).
    """
    rows = []
    for e in entries:
        direct = e["family"] == "direct"
        row: dict[str, Any] = {
            "key": e["key"],
            "kind": "direct" if direct else "autoencoder",
            "family": e["family"],
            "latent_dim": None if direct else e["latent_dim"],
            "latent_bits": None if direct else e["latent_bits"],
            "group_size": int(e.get("group_size", 1)),
            "label": e["label"],
            "bits_per_event": float(e["bits_per_event"]),
            "bits_per_layer": float(e["bits_per_event"]) / N_LAYERS,
            "meets_criterion": bool(e["meets_criterion"]),
        }
        for measure in PARETO_MEASURES:
            row[measure] = _emd(e) if measure == "cell_emd_cm" else float(e["worst"][measure])
        rows.append(row)
    return rows


def bits_summary(
    points: Sequence[dict[str, Any]], bits_scan: Sequence[int], bits_scan_dims: Sequence[int]
) -> dict[str, Any]:
    """The ``bits`` entry of ``summary.json``: every point, and each measure's Pareto front.

    ``pareto_front[measure]`` lists the keys of the front's points by increasing bits.
    """
    bits = [p["bits_per_event"] for p in points]
    fronts = {}
    for measure, (_, _, resolution) in PARETO_MEASURES.items():
        mask = pareto_front(bits, [p[measure] for p in points], resolution)
        on = sorted((p for p, m in zip(points, mask, strict=True) if m),
                    key=lambda p: p["bits_per_event"])  # fmt: skip
        fronts[measure] = [p["key"] for p in on]
    return {
        "bits_scan": [int(b) for b in bits_scan],
        "bits_scan_latent_dims": [int(d) for d in bits_scan_dims],
        "measures": {
            k: {"label": label, "unit": unit, "resolution": resolution}
            for k, (label, unit, resolution) in PARETO_MEASURES.items()
        },
        "points": list(points),
        "pareto_front": fronts,
    }


def grouping_summary(
    points: Sequence[dict[str, Any]], sizes: Sequence[int], seconds: float
) -> dict[str, Any]:
    """The ``grouping`` entry of ``summary.json``: cluster sums against the cells sent alone.

    ``direct`` holds the direct points (one per cluster size), ``autoencoders`` the
    autoencoders on clustered cells, ``cells_alone`` the autoencoders on the cells (group 1).
    """
    clusters = {
        str(size): {
            "n_groups": cell_groups(size, BEAMTEST_SENSOR).n_groups,
            "address_bits": cell_groups(size, BEAMTEST_SENSOR).address_bits,
            "group_counts": np.bincount(cell_groups(size, BEAMTEST_SENSOR).counts).tolist(),
        }
        for size in sizes
    }
    return {
        "sizes": [int(s) for s in sizes],
        "clusters": clusters,
        "value_bits": SUM_BITS,
        "direct": [p for p in points if p["kind"] == "direct"],
        "autoencoders": [p for p in points if p["kind"] == "autoencoder" and p["group_size"] > 1],
        "cells_alone": [p for p in points if p["kind"] == "autoencoder" and p["group_size"] == 1],
        "direct_seconds": seconds,
    }
