"""Hexagonal event displays: the cells of one event, layer by layer, on the wafer tiling.

Public API::

    hexagonal_event_display(lattice, tiling, layer, cell, energy_mip, path, *, title,
                            layers=range(1, 29), threshold_mip=0.5, ncols=7, margin_cm=3.0)
    layer_display(lattice, tiling, cell, energy_mip, path, *, title, threshold_mip=0.5,
                  margin_cm=3.0)

A hit is addressed by its layer and a global cell id ``module * lattice.n_cells + cell``
(module = index into the :class:`~hgcal_ae.detector.tiling.Tiling`).  Every panel draws the
cells near the shower as their real outlines (``lattice.vertices_cm`` shifted to the wafer
centre) in one :class:`~matplotlib.collections.PolyCollection`: cells with a hit are filled
by energy on a shared logarithmic colour scale, the others light grey, with the wafer
boundaries on top.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.collections import PolyCollection
from matplotlib.colors import LogNorm

from hgcal_ae.detector.hexagons import CellLattice
from hgcal_ae.detector.tiling import Tiling
from hgcal_ae.errors import ConfigError
from hgcal_ae.plots.style import house_style, new_figure, save_figure

__all__ = ["hexagonal_event_display", "layer_display"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
PathLike = str | os.PathLike[str]

CMAP = "viridis"
EMPTY_CELL = "0.90"
CELL_EDGE = "white"
WAFER_EDGE = "0.25"


@dataclass(frozen=True)
class _Geometry:
    """Cell outlines and centres of every cell of every wafer in the layer frame [cm]."""

    vertices: FloatArray  # (n_modules * n_cells, K, 2)
    x: FloatArray  # (n_modules * n_cells,)
    y: FloatArray
    wafers: FloatArray  # (n_modules, 6, 2)

    @classmethod
    def build(cls, lattice: CellLattice, tiling: Tiling) -> _Geometry:
        if tiling.sensor != lattice.name:
            msg = f"tiling was built for sensor {tiling.sensor!r}, not {lattice.name!r}; use hex_tiling(lattice, ...)"
            raise ConfigError(msg)
        shift = np.stack([tiling.x_cm, tiling.y_cm], axis=1)  # (n_modules, 2)
        vertices = lattice.vertices_cm[None, :, :, :] + shift[:, None, None, :]
        # wafer hexagon: sides with normals at 0, 60, 120 deg, so corners at 30 + 60 k deg
        angles = np.deg2rad(30.0 + 60.0 * np.arange(6))
        radius = lattice.wafer_flat_to_flat_cm / math.sqrt(3.0)
        hexagon = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
        return cls(
            vertices=vertices.reshape(-1, *lattice.vertices_cm.shape[1:]),
            x=(tiling.x_cm[:, None] + lattice.x_cm[None, :]).ravel(),
            y=(tiling.y_cm[:, None] + lattice.y_cm[None, :]).ravel(),
            wafers=hexagon[None, :, :] + shift[:, None, :],
        )


def _hits(
    geometry: _Geometry,
    layer: npt.ArrayLike,
    cell: npt.ArrayLike,
    energy_mip: npt.ArrayLike,
    threshold_mip: float,
) -> tuple[IntArray, IntArray, FloatArray]:
    """Checked hits above threshold, with energies of repeated (layer, cell) summed."""
    lay = np.asarray(layer).ravel()
    cid = np.asarray(cell).ravel()
    e = np.asarray(energy_mip, dtype=np.float64).ravel()
    if not (lay.size == cid.size == e.size):
        msg = f"expected layer, cell and energy_mip of the same length, got {lay.size}, {cid.size} and {e.size}"
        raise ConfigError(msg)
    for name, a in (("layer", lay), ("cell", cid)):
        if a.size and not np.issubdtype(a.dtype, np.integer):
            msg = f"expected integer {name} numbers, got dtype {a.dtype}"
            raise ConfigError(msg)
    n_cells = geometry.x.size
    if cid.size and (cid.min() < 0 or cid.max() >= n_cells):
        msg = (
            f"expected global cell ids module * n_cells + cell in [0, {n_cells}), "
            f"got values in [{int(cid.min())}, {int(cid.max())}]"
        )
        raise ConfigError(msg)
    if not (math.isfinite(threshold_mip) and threshold_mip > 0):
        msg = f"expected a display threshold > 0 MIP (log colour scale), got {threshold_mip!r}"
        raise ConfigError(msg)
    lay, cid = lay.astype(np.int64), cid.astype(np.int64)
    if lay.size == 0:
        return lay, cid, e
    key = (lay - lay.min()) * n_cells + cid
    keys, inverse = np.unique(key, return_inverse=True)
    # numpy's stub types bincount as intp even when float weights make it float64
    summed: FloatArray = np.bincount(inverse, weights=e)  # type: ignore[assignment]
    keep = np.isfinite(summed) & (summed >= threshold_mip)
    keys, summed = keys[keep], summed[keep]
    hit_layer: IntArray = keys // n_cells + lay.min()
    hit_cell: IntArray = keys % n_cells
    return hit_layer, hit_cell, summed


def _view(
    geometry: _Geometry, cells: IntArray, margin_cm: float
) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1) [cm]: the hit cells +- margin, or the whole tiling without hits."""
    if not (math.isfinite(margin_cm) and margin_cm >= 0):
        msg = f"expected a margin >= 0 cm around the hits, got {margin_cm!r}"
        raise ConfigError(msg)
    if cells.size:
        x, y = geometry.x[cells], geometry.y[cells]
    else:
        x, y = geometry.wafers[..., 0].ravel(), geometry.wafers[..., 1].ravel()
        margin_cm = 0.5
    x0, x1 = float(x.min()) - margin_cm, float(x.max()) + margin_cm
    y0, y1 = float(y.min()) - margin_cm, float(y.max()) + margin_cm
    # square view, so panels of the same size show the same scale
    half = 0.5 * max(x1 - x0, y1 - y0)
    cx, cy = 0.5 * (x0 + x1), 0.5 * (y0 + y1)
    return cx - half, cx + half, cy - half, cy + half


def _visible(geometry: _Geometry, view: tuple[float, float, float, float]) -> IntArray:
    pad = float(np.max(np.abs(geometry.vertices - geometry.vertices.mean(axis=1, keepdims=True))))
    x0, x1, y0, y1 = view
    inside = (
        (geometry.x >= x0 - pad)
        & (geometry.x <= x1 + pad)
        & (geometry.y >= y0 - pad)
        & (geometry.y <= y1 + pad)
    )
    return np.flatnonzero(inside)


def _draw_layer(
    ax: Axes,
    geometry: _Geometry,
    background: IntArray,
    cells: IntArray,
    energy: FloatArray,
    norm: LogNorm,
    view: tuple[float, float, float, float],
) -> None:
    """Grey cells of the view, hit cells coloured by energy, wafer outlines, fixed limits."""
    empty = np.setdiff1d(background, cells, assume_unique=False)
    # PolyCollection's stub wants a Sequence of polygons; an (N, K, 2) array is its fast path,
    # hence the three arg-type ignores below
    ax.add_collection(
        PolyCollection(
            geometry.vertices[empty],  # type: ignore[arg-type]
            facecolors=EMPTY_CELL,
            edgecolors=CELL_EDGE,
            linewidths=0.3,
        )
    )
    if cells.size:
        hits = PolyCollection(
            geometry.vertices[cells],  # type: ignore[arg-type]
            array=energy,
            cmap=CMAP,
            norm=norm,
            edgecolors="face",
            linewidths=0.3,
        )
        ax.add_collection(hits)
    ax.add_collection(
        PolyCollection(
            geometry.wafers,  # type: ignore[arg-type]
            facecolors="none",
            edgecolors=WAFER_EDGE,
            linewidths=1.0,
        )
    )
    for artist in ax.collections:
        artist.set_in_layout(False)  # clipped to the axes anyway; spares the layout engine
    ax.set_xlim(view[0], view[1])
    ax.set_ylim(view[2], view[3])
    ax.set_aspect("equal", adjustable="box")
    ax.grid(False)


def _norm(energy: FloatArray, threshold_mip: float) -> LogNorm:
    if energy.size == 0:
        return LogNorm(vmin=threshold_mip, vmax=10 * threshold_mip)
    lo, hi = max(float(energy.min()), threshold_mip), float(energy.max())
    return LogNorm(vmin=lo, vmax=hi if hi > lo else 10 * lo)


def hexagonal_event_display(
    lattice: CellLattice,
    tiling: Tiling,
    layer: npt.ArrayLike,
    cell: npt.ArrayLike,
    energy_mip: npt.ArrayLike,
    path: PathLike,
    *,
    title: str,
    layers: Iterable[int] = range(1, 29),
    threshold_mip: float = 0.5,
    ncols: int = 7,
    margin_cm: float = 3.0,
) -> Path:
    """Draw one event, one panel per layer, and save it.

    Parameters
    ----------
    lattice, tiling
        The sensor and the wafer tiling of a layer (the same in every layer).
    layer
        Layer number of each hit (integers, e.g. 1..28).
    cell
        Global cell id of each hit: ``module * lattice.n_cells + cell index``.
    energy_mip
        Hit energy [MIP]; repeated (layer, cell) entries are summed.
    path
        Destination image, written atomically.
    title
        Figure title.
    layers
        Layers to draw, one panel each in this order (28 layers: a 4 x 7 grid); hits in
        other layers are ignored.
    threshold_mip
        Hits below this energy [MIP] are drawn as empty cells (0.5 MIP: the rechit threshold,
        physics.md section 2.2); also the lower end of the log colour scale.
    ncols
        Panels per row.
    margin_cm
        Margin around the hit cells of all layers [cm]; every panel shows the same region.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ConfigError
        On arrays of different lengths, cell ids outside the tiling, a tiling of another
        sensor, no layers or a threshold that is not > 0.
    """
    panels = [int(v) for v in layers]
    if not panels:
        msg = "expected at least one layer to draw, got none"
        raise ConfigError(msg)
    if isinstance(ncols, bool) or not isinstance(ncols, int) or ncols < 1:
        msg = f"expected ncols to be an integer >= 1, got {ncols!r}"
        raise ConfigError(msg)
    geometry = _Geometry.build(lattice, tiling)
    lay, cells, energy = _hits(geometry, layer, cell, energy_mip, threshold_mip)
    shown = np.isin(lay, panels)
    lay, cells, energy = lay[shown], cells[shown], energy[shown]
    view = _view(geometry, np.unique(cells), margin_cm)
    background = _visible(geometry, view)
    norm = _norm(energy, threshold_mip)

    ncols = min(ncols, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    with house_style():
        fig = new_figure((2.0 * ncols + 1.2, 2.1 * nrows + 0.7))
        axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
        for ax, number in zip(axes.flat, panels, strict=False):
            mine = lay == number
            _draw_layer(ax, geometry, background, cells[mine], energy[mine], norm, view)
            ax.set_title(f"layer {number}", fontsize=9, pad=2)
            ax.tick_params(labelsize=7)
        for ax in axes.flat[len(panels) :]:
            ax.set_visible(False)
        fig.colorbar(
            ScalarMappable(norm=norm, cmap=CMAP),
            ax=axes.ravel().tolist(),
            label="energy [MIP]",
            shrink=0.8,
        )
        fig.supxlabel("x [cm]", fontsize=11)
        fig.supylabel("y [cm]", fontsize=11)
        fig.suptitle(title)
    return save_figure(fig, path)


def layer_display(
    lattice: CellLattice,
    tiling: Tiling,
    cell: npt.ArrayLike,
    energy_mip: npt.ArrayLike,
    path: PathLike,
    *,
    title: str,
    threshold_mip: float = 0.5,
    margin_cm: float = 3.0,
) -> Path:
    """Draw the hits of one layer in a single large panel, and save it.

    Parameters
    ----------
    lattice, tiling
        The sensor and the wafer tiling of the layer.
    cell
        Global cell id of each hit: ``module * lattice.n_cells + cell index``.
    energy_mip
        Hit energy [MIP]; repeated cells are summed.
    path
        Destination image, written atomically.
    title
        Axes title (e.g. ``"layer 7, 100 GeV e+"``).
    threshold_mip
        Hits below this energy [MIP] are drawn as empty cells.
    margin_cm
        Margin around the hit cells [cm].

    Raises
    ------
    ConfigError
        As :func:`hexagonal_event_display`.
    """
    geometry = _Geometry.build(lattice, tiling)
    cid = np.asarray(cell).ravel()
    _, cells, energy = _hits(
        geometry, np.ones(cid.size, dtype=np.int64), cid, energy_mip, threshold_mip
    )
    view = _view(geometry, cells, margin_cm)
    norm = _norm(energy, threshold_mip)
    with house_style():
        fig = new_figure((6.4, 5.4))
        ax = fig.add_subplot()
        _draw_layer(ax, geometry, _visible(geometry, view), cells, energy, norm, view)
        fig.colorbar(ScalarMappable(norm=norm, cmap=CMAP), ax=ax, label="energy [MIP]")
        ax.set_xlabel("x [cm]")
        ax.set_ylabel("y [cm]")
        ax.set_title(title)
    return save_figure(fig, path)
