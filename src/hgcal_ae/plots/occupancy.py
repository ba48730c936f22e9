"""The validation figure of an occupancy model against the published 200-pile-up numbers.

Public API::

    occupancy_validation_plot(samples, statistics, published, path) -> Path

Four panels: TCs above 1 MIP_T per module, non-zero TCs per module (each with the published
median and 16-84 % band), the TC charge density [1/MIP_T] on log axes with the published
spectrum fit, and the mean non-zero TCs against |η| on the front and back layers beside the
published values (reference/econt.md §11).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hgcal_ae.plots.style import house_style, new_figure, save_figure

__all__ = ["occupancy_validation_plot"]

# Ecoder's fit of the TC spectrum (econt.md §11), in CALQ with 35 CALQ per MIP_T
_FIT = (-8.05e3, 1.26e6, 1.48e8, 35.0)


def _count_panel(
    ax: Any,
    counts: Mapping[str, npt.NDArray[np.int64]],
    published: Mapping[str, float],
    xlabel: str,
) -> None:
    edges = np.arange(-0.5, 49.5, 1.0)
    for label, c in counts.items():
        ax.hist(c, bins=edges, density=True, histtype="step", label=label)
    ax.axvline(published["median"], color="k", ls="--", label="published median")
    ax.axvspan(published["p16"], published["p84"], color="0.8", alpha=0.5,
               label="published 16–84 %")  # fmt: skip
    ax.set_xlabel(xlabel)
    ax.set_ylabel("fraction of modules")
    ax.legend(fontsize=8)


def _spectrum_panel(ax: Any, charges: Mapping[str, npt.NDArray[np.float64]]) -> None:
    edges = np.geomspace(0.1, 100.0, 61)
    for label, q in charges.items():
        counts, _ = np.histogram(q, edges)
        density = counts / np.diff(edges) / max(int(((q >= 20 / 35) & (q <= 200 / 35)).sum()), 1)
        centre = np.sqrt(edges[1:] * edges[:-1])
        ax.step(centre, np.where(density > 0, density, np.nan), where="mid", label=label)
    c0, c1, c2, per_mip = _FIT
    q = np.geomspace(20 / per_mip, 200 / per_mip, 50)
    x = q * per_mip
    fit = c0 + c1 / x + c2 / x**2
    x_all = np.linspace(20.0, 200.0, 2001)
    norm = np.trapezoid(c0 + c1 / x_all + c2 / x_all**2, x_all / per_mip)
    ax.plot(q, fit / norm, "k--", label="published fit (0.57–5.7 MIP$_T$)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("TC charge [MIP$_T$]")
    ax.set_ylabel("TCs per MIP$_T$ (per TC in 0.57–5.7 MIP$_T$)")
    ax.legend(fontsize=8)


def _eta_panel(
    ax: Any, statistics: Mapping[str, Mapping[str, Any]], published: Mapping[str, Any]
) -> None:
    pub = published["occupancy_vs_eta"]
    for part, marker in (("front", "o"), ("back", "s")):
        ax.plot(pub["abs_eta"], pub[part], marker, color="k", mfc="none",
                label=f"published, {part} layers")  # fmt: skip
        for label, st in statistics.items():
            vs = st["measured"]["occupancy_vs_eta"]
            ax.plot(vs["abs_eta"], vs[part], marker + "-", label=f"{label}, {part}")
    ax.set_xlabel("module |η|")
    ax.set_ylabel("mean non-zero TCs per module")
    ax.set_ylim(0, 50)
    ax.legend(fontsize=7)


def occupancy_validation_plot(
    samples: Mapping[str, npt.ArrayLike],
    statistics: Mapping[str, Mapping[str, Any]],
    published: Mapping[str, Any],
    path: str | os.PathLike[str],
) -> Path:
    """Draw the four validation panels and save them atomically to ``path``.

    Parameters
    ----------
    samples
        Label -> TC charges ``(M, 48)`` [MIP_T] of the modules shown.
    statistics
        Label -> :func:`hgcal_ae.study.occupancy_pu200.occupancy_statistics` of the same
        modules (its ``occupancy_vs_eta`` is drawn).
    published
        The published values (``above_1_mip_t``, ``non_zero``, ``occupancy_vs_eta``).
    """
    tcs = {k: np.asarray(v, dtype=np.float64) for k, v in samples.items()}
    non_zero = {k: (t > 0).sum(axis=1) for k, t in tcs.items()}
    above = {k: (t[nz > 0] > 1.0).sum(axis=1) for (k, t), nz in zip(tcs.items(), non_zero.values(), strict=True)}  # fmt: skip
    with house_style():
        fig = new_figure((12.0, 9.0))
        axes = fig.subplots(2, 2)
        _count_panel(axes[0, 0], above, published["above_1_mip_t"],
                     "TCs above 1 MIP$_T$ per module (empty modules dropped)")  # fmt: skip
        _count_panel(axes[0, 1], {k: v[v > 0] for k, v in non_zero.items()},
                     published["non_zero"], "non-zero TCs per module (empty modules dropped)")  # fmt: skip
        _spectrum_panel(axes[1, 0], {k: t[t > 0] for k, t in tcs.items()})
        _eta_panel(axes[1, 1], statistics, published)
        fig.suptitle("Occupancy pu200 against the published 200-pile-up numbers (econt.md §11)")
        return save_figure(fig, path)
