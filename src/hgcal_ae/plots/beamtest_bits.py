"""Figures of bits against quality on beam-test showers: the Pareto plot and cluster sums.

Public API::

    beamtest_bits_pareto(path, bits) -> Path        # summary["bits"]: every point, fronts marked
    beamtest_grouping(path, bits, grouping) -> Path # cluster sums against the cells sent alone

Points are rows of :func:`hgcal_ae.study.beamtest_bits.bits_points`: bits per event (bottom
axis; bits per layer on the top axis, per event / 28) against the worst beam energy's value
of a measure.  Values below the measure's resolution (``bits["measures"][m]["resolution"]``:
0 at the precision the fronts compare, as the direct sums' and the per-layer autoencoders'
σ/E, which keep every layer's energy) sit on the panel's bottom edge.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hgcal_ae.detector.layers import N_LAYERS
from hgcal_ae.plots.style import house_style, new_figure, save_figure

__all__ = ["beamtest_bits_pareto", "beamtest_grouping"]

SCALE = {"resolution_deviation": 100.0}  # shown in %
STYLE = {  # (kind, family) -> marker, colour, legend
    ("autoencoder", "per_layer"): ("o", "tab:blue", "AE per layer"),
    ("autoencoder", "per_shower"): ("s", "tab:red", "AE per shower"),
    ("direct", "direct"): ("^", "tab:green", "cluster sums sent"),
}


def _tag(p: dict[str, Any]) -> str:
    if p["kind"] == "direct":
        return f"{p['group_size']}c"
    tag = f"{p['latent_dim']}×{p['latent_bits']}"
    return tag + (f"/{p['group_size']}c" if p["group_size"] > 1 else "")


def _panels(
    path: str | os.PathLike[str],
    points: Sequence[dict[str, Any]],
    measures: dict[str, Any],
    fronts: dict[str, list[str]] | None,
    title: str,
) -> Path:
    keys = list(measures)
    n_cols = 2
    n_rows = -(-len(keys) // n_cols)
    with house_style():
        height = 4.2 * n_rows + 0.9
        fig = new_figure((11.0, height), layout="none")
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.55 / height, top=1 - 0.85 / height,
                            wspace=0.28, hspace=0.5)  # fmt: skip
        axes = np.asarray(fig.subplots(n_rows, n_cols)).reshape(-1)
        for ax, key in zip(axes, keys, strict=False):
            scale = SCALE.get(key, 1.0)
            values = np.array([scale * float(p[key]) for p in points])
            positive = values[np.isfinite(values) & (values > 0)]
            floor = scale * float(measures[key].get("resolution", 0.0))  # "0" at that precision
            if not floor > 0:
                floor = float(positive.min()) / 3.0 if positive.size else 1e-6
            for (kind, family), (marker, colour, name) in STYLE.items():
                for grouped in (False, True) if kind == "autoencoder" else (False,):
                    rows = [(p, v) for p, v in zip(points, values, strict=True)
                            if p["kind"] == kind and p["family"] == family
                            and (kind == "direct" or (p["group_size"] > 1) == grouped)]  # fmt: skip
                    if not rows:
                        continue
                    x = [p["bits_per_event"] for p, _ in rows]
                    y = [max(v, floor) for _, v in rows]
                    label = name + (", clustered cells" if grouped else "")
                    ax.scatter(x, y, marker=marker, label=label, zorder=3,
                               facecolors="none" if grouped else colour, edgecolors=colour)  # fmt: skip
                    if kind == "direct" and len(rows) > 1:  # the cluster sizes, joined
                        order = np.argsort(x)
                        ax.plot(np.asarray(x)[order], np.asarray(y)[order], color=colour,
                                linewidth=0.8, zorder=2)  # fmt: skip
                    for (p, _), xi, yi in zip(rows, x, y, strict=True):
                        if fronts is not None and p["key"] not in fronts[key]:
                            continue  # labels on the front only: the table lists the rest
                        ax.annotate(_tag(p), (xi, yi), fontsize=6, textcoords="offset points",
                                    xytext=(3, 3))  # fmt: skip
            if fronts is not None:
                by_key = {p["key"]: (p["bits_per_event"], max(scale * float(p[key]), floor))
                          for p in points}  # fmt: skip
                front = [by_key[k] for k in fronts[key] if k in by_key]
                if front:
                    fx, fy = zip(*front, strict=True)
                    ax.plot(fx, fy, drawstyle="steps-post", color="black", linewidth=1.0,
                            label="Pareto front", zorder=2)  # fmt: skip
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("bits per event")
            top = ax.secondary_xaxis(
                "top", functions=(lambda b: b / N_LAYERS, lambda b: b * N_LAYERS)
            )
            top.set_xlabel("bits per layer", fontsize=8)
            unit = measures[key]["unit"]
            ax.set_ylabel(f"{measures[key]['label']} [{unit}] (worst energy)", fontsize=9)
            ax.legend(fontsize=6)
        for ax in axes[len(keys) :]:
            ax.set_visible(False)
        fig.suptitle(title, y=1 - 0.15 / height)
    return save_figure(fig, path)


def beamtest_bits_pareto(path: str | os.PathLike[str], bits: dict[str, Any]) -> Path:
    """Every way of sending an event, bits against each measure, Pareto fronts as steps.

    ``bits`` is the summary's ``bits`` entry (:func:`hgcal_ae.study.beamtest_bits.bits_summary`);
    labels, on the front's points: ``dim×bits`` of an autoencoder (``/kc`` on k-cell
    clusters), ``kc`` direct sums.
    """
    return _panels(path, bits["points"], bits["measures"], bits["pareto_front"],
                   "Beam-test showers: bits against quality, Pareto fronts")  # fmt: skip


def beamtest_grouping(
    path: str | os.PathLike[str], bits: dict[str, Any], grouping: dict[str, Any]
) -> Path:
    """Cluster sums (direct and through autoencoders) against the cells sent alone,
    on the transverse measures (the direct sums keep every layer's energy)."""
    points = [*grouping["direct"], *grouping["autoencoders"], *grouping["cells_alone"]]
    measures = {k: bits["measures"][k] for k in ("barycentre_shift_rms_mm", "cell_emd_cm")}
    return _panels(path, points, measures, None,
                   "Neighbour-cell sums (2, 3, 7 cells) against the cells sent alone")  # fmt: skip
