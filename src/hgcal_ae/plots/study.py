"""Figures of the compression study: quality against bits per bunch crossing, TC displays."""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from matplotlib.colors import LogNorm

from hgcal_ae.plots.style import house_style, new_figure, save_figure
from hgcal_ae.trigger.baselines import ALGORITHM_LABELS, ELINK_BITS

__all__ = ["emd_occupancy_plot", "pareto_plot", "trigger_cell_display"]

MARKERS = {
    "autoencoder": "o",
    "best_choice": "s",
    "stc_2x2": "^",
    "stc_4x4": "v",
    "threshold_sum": "D",
    "repeater": "P",
}


def _pareto_front(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], lower_is_better: bool
) -> npt.NDArray[np.int64]:
    """Indices of the points no other point beats in both fewer bits and better quality."""
    order = np.lexsort((y if lower_is_better else -y, x))
    best, front = np.inf, []
    for i in order:  # a handful of settings, not modules: a plain loop is clearest
        value = y[i] if lower_is_better else -y[i]
        if value < best:
            best = value
            front.append(i)
    return np.asarray(front, dtype=np.int64)


def pareto_plot(
    rows: Sequence[Mapping[str, Any]],
    quantity: str,
    path: str | os.PathLike[str],
    *,
    label: str,
    lower_is_better: bool = True,
    reference: float | None = None,
    reference_label: str = "reference",
) -> Path:
    """Quality ``quantity`` of every algorithm setting against its bits per bunch crossing.

    Parameters
    ----------
    rows
        Evaluation rows with ``algorithm``, ``bits`` (mean bits per BX per module) and
        ``quantity``; rows with a missing or non-finite value are skipped.
    label
        Axis label of the quantity, with its unit.
    reference, reference_label
        A reference value (the Repeater's), drawn as a horizontal line, and its legend entry.
    """
    points = [r for r in rows if r.get(quantity) is not None and np.isfinite(r[quantity])]
    with house_style():
        fig = new_figure((7.5, 5.0))
        ax = fig.add_subplot()
        if not points:  # e.g. too few test events per energy for a resolution: say so on the plot
            ax.text(0.5, 0.5, f"no finite value of {label}\n(too few test events per beam energy?)",
                    ha="center", va="center", transform=ax.transAxes)  # fmt: skip
            ax.set_xlabel("bits per bunch crossing per module")
            ax.set_ylabel(label)
            return save_figure(fig, path)
        for algorithm in sorted({r["algorithm"] for r in points}):
            sel = [r for r in points if r["algorithm"] == algorithm]
            ax.scatter([r["bits"] for r in sel], [r[quantity] for r in sel], label=ALGORITHM_LABELS.get(algorithm, algorithm),
                       marker=MARKERS.get(algorithm, "x"), s=36, alpha=0.85)  # fmt: skip
        x = np.array([r["bits"] for r in points], dtype=float)
        y = np.array([r[quantity] for r in points], dtype=float)
        front = _pareto_front(x, y, lower_is_better)
        ax.step(x[front], y[front], where="post", color="0.3", lw=1, ls="--", label="Pareto front")
        for n in range(1, int(x.max() // ELINK_BITS) + 2):
            ax.axvline(n * ELINK_BITS, color="0.8", lw=0.8, zorder=0)
        if reference is not None:
            ax.axhline(reference, color="k", lw=1, ls=":", label=reference_label)
        ax.set_xlabel("bits per bunch crossing per module (grey lines: e-links × 32)")
        ax.set_ylabel(label)
        ax.legend(fontsize=8)
        return save_figure(fig, path)


def trigger_cell_display(
    panels: Mapping[str, npt.ArrayLike],
    tc_x: npt.ArrayLike,
    tc_y: npt.ArrayLike,
    path: str | os.PathLike[str],
    *,
    title: str,
) -> Path:
    """Trigger cells of one layer, one panel per algorithm (input first), coloured by energy.

    Parameters
    ----------
    panels
        Name → TC energies [MIP] at the positions ``tc_x``, ``tc_y`` [cm] (all of one layer).
    """
    energies = {k: np.asarray(v, dtype=float) for k, v in panels.items()}
    positive = np.concatenate([v[v > 0] for v in energies.values()] + [np.array([1.0])])
    norm = LogNorm(vmin=max(positive.min(), 0.1), vmax=positive.max())
    with house_style():
        fig = new_figure((3.2 * len(energies) + 1.0, 3.6))
        axes = fig.subplots(1, len(energies), squeeze=False)
        for ax, (name, values) in zip(axes[0], energies.items(), strict=True):
            ax.scatter(tc_x, tc_y, c="0.9", marker="h", s=60)
            hit = values > 0
            last = ax.scatter(
                np.asarray(tc_x)[hit],
                np.asarray(tc_y)[hit],
                c=values[hit],
                norm=norm,
                marker="h",
                s=60,
            )
            ax.set_title(name, fontsize=9)
            ax.set_aspect("equal")
            ax.set_xlabel("x [cm]")
        axes[0][0].set_ylabel("y [cm]")
        fig.colorbar(last, ax=list(axes[0]), label="trigger-cell energy [MIP]")
        fig.suptitle(title)
        return save_figure(fig, path)


def emd_occupancy_plot(
    rows: Sequence[Mapping[str, Any]], path: str | os.PathLike[str], *, n_elinks: int = 2
) -> Path:
    """Mean EMD against the input occupancy (TCs >= 1 MIP) at ``n_elinks``: where each one loses.

    Draws Best Choice, both STCs and the autoencoder with the lowest mean EMD at that setting,
    from the rows' ``emd_by_occupancy`` (:func:`hgcal_ae.study.evaluate.evaluate_output`).
    """
    at_n = [r for r in rows if r.get("n_elinks") == n_elinks and r.get("emd_by_occupancy")]
    chosen = [r for r in at_n if r["algorithm"] in ("best_choice", "stc_2x2", "stc_4x4")]
    aes = [r for r in at_n if r["algorithm"] == "autoencoder" and r.get("emd_mean_cm") is not None]
    if aes:
        chosen.append(min(aes, key=lambda r: r["emd_mean_cm"]))
    with house_style():
        fig = new_figure((7.5, 5.0))
        ax = fig.add_subplot()
        labels: list[str] = []
        for row in chosen:
            occ = row["emd_by_occupancy"]
            edges = occ["occupancy_edges"]
            labels = [f"{a}–{b - 1}" for a, b in itertools.pairwise(edges)]
            labels.append(f"≥ {edges[-1]}")
            y = [np.nan if v is None else v for v in occ["emd_mean_cm"]]
            ax.plot(range(len(y)), y, marker="o", label=f"{row['label']} ({row['bits']:.0f} bits)")
        if labels:
            n = chosen[0]["emd_by_occupancy"]["n_modules"]
            ax.set_xticks(range(len(labels)),
                          [f"{lab}\n({k} modules)" for lab, k in zip(labels, n, strict=True)])  # fmt: skip
        else:
            ax.text(0.5, 0.5, f"no algorithm evaluated at {n_elinks} e-links", ha="center",
                    va="center", transform=ax.transAxes)  # fmt: skip
        ax.set_xlabel("input occupancy: trigger cells ≥ 1 MIP per module")
        ax.set_ylabel("mean EMD [cm]")
        ax.set_title(f"{n_elinks} e-links")
        if chosen:
            ax.legend()
        return save_figure(fig, path)
