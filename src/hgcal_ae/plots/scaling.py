"""The data-scaling figure: the AE's mean EMD against its training-set size.

Public API::

    scaling_plot(rows, baselines, path, *, title) -> Path

One point per training-set size (log x axis, error bars: the standard error of the mean over
the test modules), and each baseline on the same test modules as a horizontal line with its
error band.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.ticker import NullFormatter

from hgcal_ae.plots.style import one_axes_figure

__all__ = ["scaling_plot"]


def scaling_plot(
    rows: Sequence[Mapping[str, Any]],
    baselines: Sequence[Mapping[str, Any]],
    path: str | os.PathLike[str],
    *,
    title: str,
) -> Path:
    """Draw the AE rows (``n_train_modules``, ``emd_mean_cm``, ``emd_sem_cm``, ``label``)
    against their training-set size, with the ``baselines`` as lines; save to ``path``."""
    n = np.array([r["n_train_modules"] for r in rows], dtype=float)
    emd = np.array([r["emd_mean_cm"] for r in rows], dtype=float)
    sem = np.array([r.get("emd_sem_cm") or 0.0 for r in rows], dtype=float)

    def draw(ax: Any) -> None:
        ax.errorbar(n, emd, yerr=sem, marker="o", capsize=3, color="C0",
                    label=f"{rows[0]['label']} (trained on N modules)")  # fmt: skip
        lo, hi = n.min() / 1.5, n.max() * 1.5
        for i, b in enumerate(baselines):
            colour = f"C{i + 1}"
            mean, err = b["emd_mean_cm"], b.get("emd_sem_cm") or 0.0
            ax.axhline(mean, color=colour, ls="--", label=b["label"])
            ax.axhspan(mean - err, mean + err, color=colour, alpha=0.15)
        ax.set_xscale("log")
        ax.set_xlim(lo, hi)
        ax.set_xticks(n, [f"{int(v):,}" for v in n])  # the sizes themselves
        ax.xaxis.set_minor_formatter(NullFormatter())  # 2x10^4, 3x10^4, ... would overlap

    return one_axes_figure(
        path, draw, xlabel="training modules N", ylabel="mean EMD on the test modules [cm]",
        title=title, from_zero=True, legend={"fontsize": 9},
    )  # fmt: skip
