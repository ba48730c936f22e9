"""Figures of the beam-test autoencoder study.

Public API::

    beamtest_event_display(path, original, decoded, *, title) -> Path   # (28, 109) cells each
    beamtest_profiles(path, entry) -> Path        # mean longitudinal profiles per energy
    beamtest_pareto(path, entries) -> Path        # bits per event against quality, both families

Cells are drawn as the 6-inch sensor's hexagons (:func:`hgcal_ae.detector.hexagons.sensor`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from matplotlib.collections import PolyCollection
from matplotlib.colors import LogNorm

from hgcal_ae.detector.hexagons import sensor
from hgcal_ae.plots.style import house_style, new_figure, one_axes_figure, save_figure

__all__ = ["beamtest_event_display", "beamtest_pareto", "beamtest_profiles"]

SENSOR = "tb2018_6inch"
DISPLAY_LAYERS = (3, 7, 11, 15)  # 1-based: before, around and after the shower maximum
FAMILY_STYLE = {"per_layer": ("o", "tab:blue"), "per_shower": ("s", "tab:red")}


def _hexagons(ax: Any, values: npt.NDArray[np.float64], vmax: float) -> None:
    lattice = sensor(SENSOR)
    shown = np.where(values > 0, values, np.nan)
    collection = PolyCollection(
        list(lattice.vertices_cm), array=shown, cmap="viridis", norm=LogNorm(vmin=0.5, vmax=vmax),
        edgecolors="0.8", linewidths=0.2,
    )  # fmt: skip
    ax.add_collection(collection)
    half = 0.5 * lattice.wafer_flat_to_flat_cm * 1.2
    ax.set_xlim(-half, half)
    ax.set_ylim(-half, half)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


def beamtest_event_display(
    path: str | os.PathLike[str],
    original: npt.ArrayLike,
    decoded: npt.ArrayLike,
    *,
    title: str,
) -> Path:
    """One shower, original (top row) against decoded (bottom row), in four layers [MIP].

    ``original`` and ``decoded`` are one event's cell energies, shape ``(28, 109)``.
    """
    o = np.asarray(original, dtype=np.float64)
    d = np.asarray(decoded, dtype=np.float64)
    vmax = max(float(o.max()), float(d.max()), 1.0)
    with house_style():
        fig = new_figure((11.0, 6.0), layout="none")  # constrained layout: 5x the drawing time
        fig.subplots_adjust(left=0.02, right=0.86, bottom=0.02, top=0.88, wspace=0.05, hspace=0.2)
        axes = fig.subplots(2, len(DISPLAY_LAYERS))
        for col, layer in enumerate(DISPLAY_LAYERS):
            for row, (name, cells) in enumerate((("original", o), ("decoded", d))):
                ax = axes[row, col]
                _hexagons(ax, cells[layer - 1], vmax)
                ax.set_title(f"{name}, layer {layer}: {cells[layer - 1].sum():.0f} MIP", fontsize=9)
        fig.colorbar(axes[0, 0].collections[0], cax=fig.add_axes((0.89, 0.1, 0.02, 0.75)),
                     label="cell energy [MIP]")  # fmt: skip
        fig.suptitle(title)
    return save_figure(fig, path)


def beamtest_profiles(path: str | os.PathLike[str], entry: dict[str, Any]) -> Path:
    """Mean longitudinal profiles [GeV per layer] of the test events per energy:
    originals (lines) against decoded (markers), for one model's summary ``entry``."""
    points = entry["quality"]["points"]

    def draw(ax: Any) -> None:
        layers = np.arange(1, 29)
        for i, p in enumerate(points):
            colour = f"C{i}"
            ax.plot(layers, p["mean_profile_original_gev"], color=colour,
                    label=f"{p['beam_energy_gev']:g} GeV original")  # fmt: skip
            ax.plot(layers, p["mean_profile_decoded_gev"], "o", color=colour, markersize=3,
                    label=f"{p['beam_energy_gev']:g} GeV decoded")  # fmt: skip
        ax.set_yscale("log")

    return one_axes_figure(
        path, draw, xlabel="layer", ylabel="mean energy per layer [GeV]",
        title=f"Longitudinal profile: {entry['label']}", legend={"fontsize": 7, "ncol": 2},
    )  # fmt: skip


def beamtest_pareto(path: str | os.PathLike[str], entries: Sequence[dict[str, Any]]) -> Path:
    """Bits per event against quality (worst energy) for every model; one panel per measure."""
    measures = (
        ("resolution_deviation", "σ/E degradation (worst energy)", 100.0, "%"),
        ("shower_max_shift_rms_x0", "shower-max shift RMS [X0]", 1.0, ""),
        ("barycentre_shift_rms_mm", "barycentre shift RMS [mm]", 1.0, ""),
    )
    with house_style():
        fig = new_figure((13.0, 4.4), layout="none")
        fig.subplots_adjust(left=0.06, right=0.98, bottom=0.13, top=0.88, wspace=0.4)
        axes = fig.subplots(1, len(measures))
        for ax, (key, label, scale, unit) in zip(axes, measures, strict=True):
            for family, (marker, colour) in FAMILY_STYLE.items():
                rows = sorted((e for e in entries if e["family"] == family),
                              key=lambda e: e["bits_per_event"])  # fmt: skip
                if not rows:
                    continue
                bits = [e["bits_per_event"] for e in rows]
                values = [max(scale * e["worst"][key], 1e-9) for e in rows]
                ax.plot(bits, values, marker=marker, color=colour, label=family.replace("_", " "))
                for e, x, y in zip(rows, bits, values, strict=True):
                    ax.annotate(str(e["latent_dim"]), (x, y), fontsize=7,
                                textcoords="offset points", xytext=(3, 3))  # fmt: skip
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("bits per event (codes and sums)")
            ax.set_ylabel(f"{label}{' [' + unit + ']' if unit else ''}")
            ax.legend(fontsize=8)
        fig.suptitle("Beam-test showers: bits against quality (labels: latent dim)")
    return save_figure(fig, path)
