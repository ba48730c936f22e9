"""The measures of the neighbour-merging study: decoded test rows against the uncompressed ones.

Public API::

    neighbour_measures(rows, test, split, reference, decoded, setup)
        -> (table, parts, emd_cm, test_split)

``decoded`` maps each model (:data:`hgcal_ae.study.neighbours.MODELS`, in that order) to its
decoded TC charges of the test rows; ``parts`` are the summary's ``comparison``,
``split_statistics`` and ``emd_histogram``.  The measures, shower classes and the split rule
are defined in :mod:`hgcal_ae.study.neighbours`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from hgcal_ae.datasets.module_rows import ModuleRows
from hgcal_ae.detector.setups import DetectorSetup
from hgcal_ae.detector.trigger_cells import tc_coords
from hgcal_ae.metrics.emd import emd
from hgcal_ae.metrics.event_quality import event_barycentre
from hgcal_ae.metrics.module_quality import centroid_shift, summarise
from hgcal_ae.trigger.neighbours import LayerSplit

__all__ = ["SHOWER_CLASSES", "neighbour_measures"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

SHOWER_CLASSES = ("all", "split", "contained")
_HIST_BINS = 30
_CM_TO_MM = 10.0


def _barycentre_shift_mm(
    group: IntArray, layer: IntArray, module: IntArray, reference: FloatArray,
    decoded: FloatArray, n_groups: int, setup: DetectorSetup, weights_mev: FloatArray | None,
) -> FloatArray:  # fmt: skip
    """Distance between decoded and uncompressed barycentres of each group of rows [mm]."""
    coords, tiling = tc_coords(setup.lattice.name), setup.tiling
    where = (coords[:, 0], coords[:, 1], tiling.x_cm, tiling.y_cm)
    x0, y0 = event_barycentre(
        group, layer, module, reference, n_groups, *where, weights_mev=weights_mev
    )
    x1, y1 = event_barycentre(
        group, layer, module, decoded, n_groups, *where, weights_mev=weights_mev
    )
    return _CM_TO_MM * np.hypot(x1 - x0, y1 - y0)


def _event_split(split: LayerSplit) -> tuple[IntArray, BoolArray]:
    """Events and whether each one's shower-maximum layer (most charge) is split."""
    order = np.lexsort((split.group_energy, split.group_event))
    events = split.group_event[order]
    last = np.flatnonzero(np.r_[np.diff(events) != 0, True])  # the largest layer of each event
    return events[last], split.split[order][last]


def _stats(values: FloatArray) -> dict[str, float]:
    s = summarise(values)
    return {"mean": s["mean"], "median": s["median"], "q84": s["q84"], "n": float(s["n"])}


def _histogram(values: FloatArray, edges: FloatArray) -> list[int]:
    v = values[np.isfinite(values) & (values >= 0)]
    counts: list[int] = np.histogram(np.clip(v, edges[0], edges[-1]), edges)[0].tolist()
    return counts


def _paired(a: FloatArray, b: FloatArray) -> dict[str, float]:
    """Mean of ``b - a`` over modules where both are defined, its standard error, P(b < a)."""
    ok = np.isfinite(a) & np.isfinite(b) & (a >= 0) & (b >= 0)
    d = b[ok] - a[ok]
    if d.size == 0:
        nan = float("nan")
        return {"mean_difference": nan, "standard_error": nan, "share_better": nan, "n": 0.0}
    se = float(d.std(ddof=1) / math.sqrt(d.size)) if d.size > 1 else float("nan")
    return {
        "mean_difference": float(d.mean()),
        "standard_error": se,
        "share_better": float((d < 0).mean()),
        "n": float(d.size),
    }


def _split_statistics(split: LayerSplit, event_split: BoolArray) -> dict[str, Any]:
    has = np.isfinite(split.hottest_fraction)
    hottest = split.hottest_fraction[has]
    edges = np.linspace(0.0, 1.0, 21)
    counts = np.histogram(hottest, edges)[0]
    s = summarise(hottest)
    return {
        "threshold": split.threshold,
        "n_event_layers": int(has.sum()),
        "n_split_event_layers": int(split.split.sum()),
        "split_share_event_layers": float(split.split[has].mean()) if has.any() else float("nan"),
        "split_share_module_rows": float(split.row_split.mean())
        if split.row_group.size
        else float("nan"),
        "n_events": int(event_split.size),
        "split_share_events": float(event_split.mean()) if event_split.size else float("nan"),
        "modules_per_event_layer_mean": float(split.group_modules[has].mean())
        if has.any()
        else float("nan"),
        "hottest_fraction": {k: s[k] for k in ("mean", "median", "q16", "q84")},
        "hottest_fraction_histogram": {"edges": edges.tolist(), "counts": counts.tolist()},
    }


def neighbour_measures(
    rows: ModuleRows,
    test: IntArray,
    split: LayerSplit,
    reference: FloatArray,
    decoded: dict[str, FloatArray],
    setup: DetectorSetup,
) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, FloatArray], BoolArray]:
    """Measure every model's decoded test rows against the uncompressed TCs ``reference``.

    Parameters
    ----------
    rows
        All module rows of the study; ``test`` indexes the test rows.
    split
        The split measure of every event-layer of ``rows``
        (:func:`~hgcal_ae.trigger.neighbours.layer_split`).
    reference, decoded
        Uncompressed TC charges of the test rows ``(N_test, 48)`` [MIP], and each model's
        decoded ones (same shape), in the order of the table.
    setup
        The detector set-up of the rows.

    Returns
    -------
    table, parts, emd_cm, test_split
        One table row per model and shower class; the summary's ``comparison``,
        ``split_statistics`` and ``emd_histogram``; per-module EMD [cm] of each model; whether
        each test row belongs to a split event-layer.
    """
    names = list(decoded)
    coords = tc_coords(setup.lattice.name)
    emd_cm = {name: emd(reference, out, coords) for name, out in decoded.items()}
    shift_cm = {name: centroid_shift(reference, out, coords) for name, out in decoded.items()}

    # event-layers and events of the test rows, renumbered 0..n-1
    layer, module = rows.layer[test], rows.module[test]
    groups, group_local = np.unique(split.row_group[test], return_inverse=True)
    group_split = split.split[groups]
    events, event_local = np.unique(rows.event[test], return_inverse=True)
    all_events, all_event_split = _event_split(split)
    event_is_split = all_event_split[np.searchsorted(all_events, events)]
    weights = np.asarray(setup.stack.dedx_weight_mev, dtype=np.float64)
    layer_mm, event_mm = {}, {}
    for name, out in decoded.items():
        layer_mm[name] = _barycentre_shift_mm(
            group_local, layer, module, reference, out, groups.size, setup, None
        )
        event_mm[name] = _barycentre_shift_mm(
            event_local, layer, module, reference, out, events.size, setup, weights
        )

    row_split = split.row_split[test]
    masks = {
        "all": (np.ones(test.size, bool), np.ones(groups.size, bool), np.ones(events.size, bool)),
        "split": (row_split, group_split, event_is_split),
        "contained": (~row_split, ~group_split, ~event_is_split),
    }
    table: list[dict[str, Any]] = []
    comparison: dict[str, Any] = {}
    for cls, (m_row, m_group, m_event) in masks.items():
        for name in names:
            e, c = _stats(emd_cm[name][m_row]), _stats(shift_cm[name][m_row])
            lb, eb = _stats(layer_mm[name][m_group]), _stats(event_mm[name][m_event])
            table.append({
                "model": name,
                "showers": cls,
                "n_modules": e["n"],
                "emd_mean_cm": e["mean"],
                "emd_median_cm": e["median"],
                "emd_q84_cm": e["q84"],
                "centroid_shift_mean_cm": c["mean"],
                "centroid_shift_median_cm": c["median"],
                "n_event_layers": lb["n"],
                "layer_barycentre_shift_mean_mm": lb["mean"],
                "layer_barycentre_shift_median_mm": lb["median"],
                "n_events": eb["n"],
                "event_barycentre_shift_mean_mm": eb["mean"],
                "event_barycentre_shift_median_mm": eb["median"],
            })  # fmt: skip
        for base in names:
            if base == "with_neighbours":
                continue
            comparison.setdefault(f"with_neighbours_minus_{base}", {})[cls] = {
                "emd_cm": _paired(emd_cm[base][m_row], emd_cm["with_neighbours"][m_row]),
                "centroid_shift_cm": _paired(shift_cm[base][m_row], shift_cm["with_neighbours"][m_row]),
                "layer_barycentre_shift_mm": _paired(layer_mm[base][m_group], layer_mm["with_neighbours"][m_group]),
                "event_barycentre_shift_mm": _paired(event_mm[base][m_event], event_mm["with_neighbours"][m_event]),
            }  # fmt: skip

    valid = np.concatenate([v[v >= 0] for v in emd_cm.values()])
    top = float(np.quantile(valid, 0.99)) if valid.size else 1.0
    edges = np.linspace(0.0, top if top > 0 else 1.0, _HIST_BINS + 1)
    emd_hist = {
        name: {
            cls: _histogram(emd_cm[name][masks[cls][0]], edges) for cls in ("split", "contained")
        }
        for name in names
    }
    parts = {
        "comparison": comparison,
        "split_statistics": {
            "all": _split_statistics(split, all_event_split),
            "test": {
                "n_module_rows": int(test.size),
                "n_split_module_rows": int(row_split.sum()),
                "n_event_layers": int(groups.size),
                "n_split_event_layers": int(group_split.sum()),
                "n_events": int(events.size),
                "n_split_events": int(event_is_split.sum()),
            },
        },
        "emd_histogram": {"edges_cm": edges.tolist(), **emd_hist},
    }
    return table, parts, emd_cm, row_split
