"""The figure of the neighbour-merging study (:mod:`hgcal_ae.study.neighbours`).

Public API::

    neighbour_plot(summary, path, *, title=None) -> Path

Three panels, drawn from the study's JSON summary alone (so a ``summary.json`` on disk can be
redrawn):

1. per-module EMD distributions [cm] of the module AE alone and with the neighbours' border
   TCs, for split and contained showers;
2. the mean EMD [cm] of each model (and of the shuffled-border control, if trained) for all,
   split and contained showers, with the paired mean differences with - alone (and with -
   shuffled) and their standard errors written above;
3. the histogram of the hottest module's share of each event-layer's energy, with the split
   threshold marked.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from hgcal_ae.errors import ConfigError
from hgcal_ae.plots.style import house_style, new_figure, save_figure

__all__ = ["neighbour_plot"]

_MODELS = {"alone": ("module alone", "C0"), "with_neighbours": ("with neighbours", "C1")}
_CONTROL = ("shuffled_border", ("shuffled border (control)", "0.55"))
_STYLE = {"split": "-", "contained": ":"}


def _get(summary: Mapping[str, Any], *keys: str) -> Any:
    value: Any = summary
    for key in keys:
        try:
            value = value[key]
        except (KeyError, TypeError, IndexError):
            msg = f"neighbour summary has no {'/'.join(keys)!r}; pass the .summary of neighbour_study()"
            raise ConfigError(msg) from None
    return value


def _number(value: Any) -> float:
    return float("nan") if value is None else float(value)


def neighbour_plot(
    summary: Mapping[str, Any], path: str | os.PathLike[str], *, title: str | None = None
) -> Path:
    """Draw the neighbour-study figure (module docstring) and write it atomically to ``path``.

    Parameters
    ----------
    summary
        :attr:`NeighbourStudyResult.summary <hgcal_ae.study.neighbours.NeighbourStudyResult>`
        or the same dict read back from JSON.
    path
        Destination image (``.png``, ``.pdf``, ``.svg``).
    title
        Figure title; by default names the geometry and the latent code.

    Raises
    ------
    ConfigError
        If the summary lacks a field the figure needs.
    """
    edges = np.asarray(_get(summary, "emd_histogram", "edges_cm"), dtype=np.float64)
    rows = _get(summary, "rows")
    split = _get(summary, "split_statistics", "all")
    comparison = _get(summary, "comparison")
    settings = _get(summary, "settings")
    mean = {(r["model"], r["showers"]): _number(r.get("emd_mean_cm")) for r in rows}
    classes = ("all", "split", "contained")
    with house_style():
        fig = new_figure((16.0, 4.8))
        ax_hist, ax_mean, ax_split = fig.subplots(1, 3)
        centres, widths = 0.5 * (edges[1:] + edges[:-1]), np.diff(edges)
        for name, (label, colour) in _MODELS.items():
            for cls, style in _STYLE.items():
                counts = np.asarray(_get(summary, "emd_histogram", name, cls), dtype=np.float64)
                total = counts.sum()
                density = counts / (total * widths) if total > 0 else counts
                ax_hist.step(centres, density, where="mid", color=colour, linestyle=style,
                             label=f"{label}, {cls} ({int(total)})")  # fmt: skip
        ax_hist.set_xlabel("EMD per module [cm] (last bin: overflow)")
        ax_hist.set_ylabel("modules per cm (normalised)")
        ax_hist.set_title("EMD vs uncompressed TCs")
        ax_hist.legend(fontsize=8)

        x = np.arange(len(classes))
        models = dict(_MODELS)
        if any(m == _CONTROL[0] for m, _ in mean):
            models[_CONTROL[0]] = _CONTROL[1]
        width = 0.8 / len(models)
        for k, (name, (label, colour)) in enumerate(models.items()):
            values = [mean.get((name, cls), float("nan")) for cls in classes]
            offset = (k - (len(models) - 1) / 2) * width
            ax_mean.bar(x + offset, values, width=width, color=colour, label=label)
        top = max([v for v in mean.values() if np.isfinite(v)], default=1.0)
        for i, cls in enumerate(classes):
            lines = []
            for base in ("alone", _CONTROL[0]):
                paired = comparison.get(f"with_neighbours_minus_{base}", {}).get(cls, {})
                d = _number(paired.get("emd_cm", {}).get("mean_difference"))
                se = _number(paired.get("emd_cm", {}).get("standard_error"))
                if np.isfinite(d):
                    lines.append(f"{d:+.3f} ± {se:.3f}")
            ax_mean.text(i, 1.03 * top, "\n".join(lines), ha="center", va="bottom", fontsize=8)
        ax_mean.set_xticks(x, [f"{c} showers" for c in classes])
        ax_mean.set_ylim(0, 1.35 * top)
        ax_mean.set_ylabel("mean EMD per module [cm]")
        ax_mean.set_title("mean EMD; with − alone (top), with − shuffled [cm]", fontsize=10)
        ax_mean.legend(loc="lower right", fontsize=8)

        hist = split["hottest_fraction_histogram"]
        h_edges = np.asarray(hist["edges"], dtype=np.float64)
        ax_split.stairs(np.asarray(hist["counts"], dtype=np.float64), h_edges, fill=True,
                        color="0.6")  # fmt: skip
        threshold = _number(split["threshold"])
        ax_split.axvline(threshold, color="C3", linestyle="--",
                         label=f"split below {threshold:.2f}")  # fmt: skip
        share = _number(split.get("split_share_event_layers"))
        ax_split.set_xlabel("hottest module's share of the layer energy")
        ax_split.set_ylabel("event-layers")
        ax_split.set_title(f"split event-layers: {100 * share:.1f} %")
        ax_split.legend(loc="upper left")
        fig.suptitle(
            title
            or f"{settings['geometry']}: latent {settings['latent_dim']} × "
            f"{settings['latent_bits']} bits, {settings['n_border']} border TCs"
        )
    return save_figure(fig, path)
