"""Several wafers tiling one layer, so that a shower can cross module boundaries.

Public API::

    hex_tiling(lattice, rings: int, gap_cm: float = 0.1) -> Tiling
    locate(tiling, lattice, x_cm, y_cm) -> (module_index, cell_index)   # -1/-1 in gaps
    global_cell_centres(tiling, lattice) -> (x_cm, y_cm), each (n_modules, n_cells)

The wafers are copies of one sensor, all in the same orientation, on a hexagonal lattice of
centres whose neighbours face each other across a flat side.  Wafer centres are one
flat-to-flat plus the gap apart: the final design leaves 1.0 mm between sensors (cmssw
``hgcalwafer/v9/hgcal.xml`` SensorSeparation, physics.md section 4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from hgcal_ae.detector._geometry import lookup_index, nearest_lattice_point
from hgcal_ae.detector.hexagons import CellLattice, read_only_arrays
from hgcal_ae.detector.hexagons import locate as locate_cell
from hgcal_ae.errors import ConfigError

__all__ = ["SENSOR_SEPARATION_CM", "Tiling", "global_cell_centres", "hex_tiling", "locate"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

SENSOR_SEPARATION_CM = 0.1  # 1.0 mm between sensors, cmssw hgcalwafer/v9/hgcal.xml (section 4)


@dataclass(frozen=True, eq=False)
class Tiling:
    """Wafer positions of one layer, on a hexagonal lattice of wafer centres.

    Attributes
    ----------
    sensor : str
        Name of the :class:`~hgcal_ae.detector.hexagons.CellLattice` the tiling was built for.
    x_cm, y_cm : numpy.ndarray of float64, shape (n_modules,)
        Wafer centres in the layer frame [cm]; module 0 is at the origin.
    module_id : numpy.ndarray of int64, shape (n_modules,)
        Module identifier of each wafer (0, 1, ... ordered by ring, then counter-clockwise).
    ring : numpy.ndarray of int64, shape (n_modules,)
        Hexagonal ring of each wafer: 0 for the central one.
    u, v : numpy.ndarray of int64, shape (n_modules,)
        Axial coordinates of the wafer on the wafer lattice.
    spacing_cm : float
        Distance between neighbouring wafer centres = wafer flat-to-flat + gap [cm].
    gap_cm : float
        Width of the insensitive gap between neighbouring wafers [cm].
    basis_cm : numpy.ndarray of float64, shape (2, 2)
        Wafer-lattice vectors as columns: centre = basis @ (u, v).
    """

    sensor: str
    x_cm: FloatArray
    y_cm: FloatArray
    module_id: IntArray
    ring: IntArray
    u: IntArray
    v: IntArray
    basis_cm: FloatArray = field(repr=False)
    spacing_cm: float
    gap_cm: float
    _lookup: IntArray = field(repr=False)
    _uv_min: tuple[int, int] = field(repr=False)

    def __post_init__(self) -> None:
        read_only_arrays(self)

    @property
    def n_modules(self) -> int:
        """Number of wafers."""
        return int(self.x_cm.size)


def hex_tiling(lattice: CellLattice, rings: int, gap_cm: float = SENSOR_SEPARATION_CM) -> Tiling:
    """One central wafer and ``rings`` hexagonal rings of neighbours: 1 + 3 r (r + 1) wafers.

    Parameters
    ----------
    lattice
        The sensor placed at every position.
    rings
        Number of rings around the central wafer (0 gives a single wafer; 1 gives 7; 2, 19).
    gap_cm
        Gap between the flat sides of neighbouring wafers [cm]; default 0.1 cm, the final
        design's sensor separation.

    Raises
    ------
    ConfigError
        If ``rings`` is not a non-negative integer or ``gap_cm`` is negative or not finite.
    """
    if isinstance(rings, bool) or not isinstance(rings, int | np.integer) or rings < 0:
        msg = f"rings must be a non-negative integer, got {rings!r}"
        raise ConfigError(msg)
    if not math.isfinite(gap_cm) or gap_cm < 0:
        msg = f"gap_cm must be a finite length >= 0 cm, got {gap_cm!r}; the design value is 0.1"
        raise ConfigError(msg)
    rings = int(rings)
    spacing = lattice.wafer_flat_to_flat_cm + gap_cm
    # neighbouring wafers face each other across the sides with normals at 0, 60, 120 deg
    basis = spacing * np.array([[1.0, 0.5], [0.0, 0.5 * math.sqrt(3.0)]])
    du, dv = np.meshgrid(np.arange(-rings, rings + 1), np.arange(-rings, rings + 1), indexing="ij")
    u, v = du.ravel(), dv.ravel()
    ring = np.maximum(np.maximum(np.abs(u), np.abs(v)), np.abs(u + v))
    keep = ring <= rings
    u, v, ring = u[keep], v[keep], ring[keep]
    xy = np.stack([u, v], axis=1) @ basis.T
    angle = np.round(np.arctan2(xy[:, 1], xy[:, 0]) % (2 * np.pi), 9)
    order = np.lexsort((angle, ring))
    u, v, ring, xy = u[order], v[order], ring[order], xy[order]
    lookup = np.full((2 * rings + 1, 2 * rings + 1), -1, dtype=np.int64)
    lookup[u + rings, v + rings] = np.arange(u.size)
    return Tiling(
        sensor=lattice.name,
        x_cm=xy[:, 0].copy(),
        y_cm=xy[:, 1].copy(),
        module_id=np.arange(u.size, dtype=np.int64),
        ring=ring.astype(np.int64),
        u=u.astype(np.int64),
        v=v.astype(np.int64),
        spacing_cm=spacing,
        gap_cm=float(gap_cm),
        basis_cm=basis,
        _lookup=lookup,
        _uv_min=(-rings, -rings),
    )


def _check_same_sensor(tiling: Tiling, lattice: CellLattice) -> None:
    if tiling.sensor != lattice.name:
        msg = (
            f"tiling was built for sensor {tiling.sensor!r}, got lattice {lattice.name!r}; "
            "pass the lattice given to hex_tiling()"
        )
        raise ConfigError(msg)


def locate(
    tiling: Tiling, lattice: CellLattice, x_cm: npt.ArrayLike, y_cm: npt.ArrayLike
) -> tuple[IntArray, IntArray]:
    """Module and cell containing each point of the layer.

    Hex rounding on the wafer lattice finds the only wafer that can contain the point (each
    wafer lies inside the hexagon of points nearest to its centre), then
    :func:`hgcal_ae.detector.hexagons.locate` finds the cell in that wafer's frame.

    Parameters
    ----------
    tiling, lattice
        The layer tiling and the sensor it was built for.
    x_cm, y_cm
        Points in the layer frame [cm], broadcastable arrays of any shape.

    Returns
    -------
    (module_index, cell_index) : numpy.ndarray of int64, the broadcast shape of the points
        Indices into the tiling's wafers and the lattice's cells; both -1 for points in a
        gap between wafers, on an insensitive part of a wafer, or outside the tiling.

    Raises
    ------
    ConfigError
        If the tiling was built for another sensor.
    """
    _check_same_sensor(tiling, lattice)
    x, y = np.broadcast_arrays(
        np.asarray(x_cm, dtype=np.float64), np.asarray(y_cm, dtype=np.float64)
    )
    wu, wv = nearest_lattice_point(x, y, np.zeros(2), tiling.basis_cm)
    module = lookup_index(tiling._lookup, tiling._uv_min, wu, wv)
    safe = np.where(module >= 0, module, 0)
    cell = locate_cell(lattice, x - tiling.x_cm[safe], y - tiling.y_cm[safe])
    cell = np.where(module >= 0, cell, -1)
    return np.where(cell >= 0, module, -1), cell


def global_cell_centres(tiling: Tiling, lattice: CellLattice) -> tuple[FloatArray, FloatArray]:
    """Centres of all cells of all wafers in the layer frame.

    Returns
    -------
    (x_cm, y_cm) : numpy.ndarray of float64, each of shape (n_modules, n_cells) [cm]
        Row m holds the cells of module m, in the lattice's cell order.

    Raises
    ------
    ConfigError
        If the tiling was built for another sensor.
    """
    _check_same_sensor(tiling, lattice)
    return (
        tiling.x_cm[:, None] + lattice.x_cm[None, :],
        tiling.y_cm[:, None] + lattice.y_cm[None, :],
    )
