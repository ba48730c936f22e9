"""Hexagonal cell lattices of the silicon sensors, indexed by integer axial (u, v).

Public API::

    sensor(name: str) -> CellLattice            # "tb2018_6inch", "ld8", "hd8"
    neighbours(lattice) -> (n_cells, 6) int     # -1 where a neighbour is missing
    locate(lattice, x_cm, y_cm) -> int array    # containing cell, -1 outside
    in_wafer(lattice, x_cm, y_cm) -> bool array # inside the wafer hexagon

All coordinates are in the sensor's local frame, in cm, with the wafer centre at the origin
and two wafer sides parallel to the y axis (wafer corners up and down).  Cells are sorted by
(u, v).  The sensors:

``tb2018_6inch``
    The 2018 beam-test 6-inch sensor: cells of side s = 0.6496345 cm, pitch sqrt(3) s =
    1.125 cm, corners up and down, in a wafer hexagon of side 11 s = 7.146 cm ([G4ex], [TQ];
    [TB] ``HGCalTBCellVertices::Xmax``).  (u, v) is the [TB] (iu, iv): centre
    x = (u + v/2) pitch, y = 1.5 s v, cell (0, 0) at the wafer centre (before [TB]'s
    per-layer 90 degree turn).  **Simplification: only the 109 full cells** (those lying
    entirely inside the wafer) are modelled.  133 lattice positions have their
    centre inside the wafer: exactly the 133 cells incl. half cells of [GV] and of [TB]
    ``HGCalTBTopology::iu_iv_valid``.  The other 24 are the partial (half and "mouse-bite")
    cells along the edge.  The real sensor reads out 128 channels ([TB] ``SensorSize=128``);
    how the partial cells and calibration pads map onto them is not modelled.  109 is also
    the full-cell count of the simplified Geant4 models [G4ex]/[TQ].  The partial cells,
    13.2 of the 132.7 cm^2 wafer (9.9 %), are insensitive here: ``locate`` gives -1 there.
``ld8`` / ``hd8``
    The final-design 8-inch wafers (flat-to-flat W = 167.4408 mm): N = 8 / 12 cells per side
    and 3N^2 = 192 / 432 cells.  They use the CMSSW (u, v) convention ([L1]; cmssw
    ``HGCalCell::cellUV2XY1``, placement index 0; ``HGCSiliconDetIdToModule``):
    0 <= u, v < 2N, v - u < N, u - v <= N.  The cell side is s = W/(3N), and the centres are
    x = (1.5 (u - v) - 0.5) s, y = (u + v - 2N + 1) sqrt(3)/2 s.  Cells have their corners
    left and right.  The wafer centre is a corner shared by three cells.  Each cell is the
    part of the wafer nearer to its centre than to any other cell's, so the 3N^2 cells tile
    the wafer exactly.  A full cell has area W^2/(2 sqrt(3) N^2) = wafer area / 3N^2:
    1.265 cm^2 (LD) and 0.562 cm^2 (HD); physics.md section 4 quotes 1.25-1.27 and
    0.55-0.56.  Edge cells differ (cmssw ``truncatedCell``/``extendedCell``/``cornerCell``):
    cells on the edges u = 0, v = 2N-1, u - v = N are cut by the wafer edge (5/6 of a full
    cell); cells on the edges v = 0, u = 2N-1, v - u = N-1 extend into the notches between
    cut-off lattice positions (7/6); the 6 corner cells have 11/12.
    The wafer is three rhombi of N x N cells meeting at the centre.  Rhombus 0 is u < N,
    v < N with (row, col) = (u, v).  Rhombi 1 and 2 are its images under rotations by +120
    and +240 degrees, and (row, col) are carried along, so (0, 0) is each rhombus's outer
    corner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import numpy as np
import numpy.typing as npt

from hgcal_ae.detector._geometry import (
    clip_convex,
    hexagon_vertices,
    inside_hexagon,
    lattice_offsets,
    lookup_index,
    nearest_lattice_point,
    polygon_areas,
)
from hgcal_ae.errors import ConfigError

__all__ = [
    "SENSOR_NAMES",
    "CellLattice",
    "in_wafer",
    "locate",
    "neighbours",
    "read_only_arrays",
    "sensor",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

SQRT3 = float(np.sqrt(3.0))
TB_CELL_SIDE_CM = 0.6496345  # full-cell side length [TB] HGCalTBCellParameters.h
TB_WAFER_SIDE_CELLS = 11  # wafer side = 11 cell sides = 7.146 cm [G4ex], [TQ]; [TB] Xmax()
WAFER_8INCH_FLAT_TO_FLAT_CM = 16.74408  # cmssw hgcalwafer/v9/hgcal.xml (physics.md section 4)
CELLS_PER_SIDE = {"ld8": 8, "hd8": 12}  # N: 3N^2 = 192 / 432 cells, hgcal.xml and [L1]
SENSOR_NAMES = ("tb2018_6inch", "ld8", "hd8")


def read_only_arrays(obj: object) -> None:
    """Make every numpy array attribute of ``obj`` read-only (geometry shared through caches).

    Called by the ``__post_init__`` of the frozen geometry dataclasses (:class:`CellLattice`,
    :class:`~hgcal_ae.detector.tiling.Tiling`, ...): frozen fields, and frozen contents.
    """
    for value in vars(obj).values():
        if isinstance(value, np.ndarray):
            value.flags.writeable = False


@dataclass(frozen=True, eq=False)
class CellLattice:
    """Cells of one sensor on a hexagonal lattice with integer axial coordinates (u, v).

    Attributes
    ----------
    name : str
        Sensor name, one of :data:`SENSOR_NAMES`.
    u, v : numpy.ndarray of int64, shape (n_cells,)
        Axial cell coordinates (see the module docstring for each convention).
    x_cm, y_cm : numpy.ndarray of float64, shape (n_cells,)
        Cell centres in the sensor frame [cm].
    area_cm2 : numpy.ndarray of float64, shape (n_cells,)
        Sensitive area of each cell [cm^2] (truncated/extended edge cells differ).
    vertices_cm : numpy.ndarray of float64, shape (n_cells, K, 2)
        Outline of each cell [cm], counter-clockwise, padded with repeated vertices.
    rhombus, rhombus_row, rhombus_col : numpy.ndarray of int64, shape (n_cells,)
        8-inch wafers: rhombus 0..2 and (row, col) 0..N-1 inside it; -1 for the 6-inch one.
    pitch_cm : float
        Distance between neighbouring cell centres = cell flat-to-flat [cm].
    cell_side_cm : float
        Side (= circumradius) of a full hexagonal cell [cm].
    cells_per_side : int
        N of the 8-inch wafers (3N^2 cells); 0 for the 6-inch sensor.
    wafer_flat_to_flat_cm : float
        Flat-to-flat size of the wafer hexagon [cm]; wafer sides have normals at 0, 60, 120 deg.
    fills_wafer : bool
        True if the cells tile the whole wafer hexagon (8-inch), False if the partial edge
        cells are left out (6-inch).
    origin_cm, basis_cm : numpy.ndarray
        Centre of cell (0, 0), shape (2,), and the lattice vectors e_u, e_v as the columns of
        a (2, 2) matrix [cm]: centre = origin + basis @ (u, v).
    neighbour_offsets : numpy.ndarray of int64, shape (6, 2)
        (du, dv) of the six neighbours, counter-clockwise.
    """

    name: str
    pitch_cm: float
    cell_side_cm: float
    cells_per_side: int
    wafer_flat_to_flat_cm: float
    fills_wafer: bool
    u: IntArray
    v: IntArray
    x_cm: FloatArray
    y_cm: FloatArray
    area_cm2: FloatArray
    vertices_cm: FloatArray = field(repr=False)
    rhombus: IntArray = field(repr=False)
    rhombus_row: IntArray = field(repr=False)
    rhombus_col: IntArray = field(repr=False)
    origin_cm: FloatArray = field(repr=False)
    basis_cm: FloatArray = field(repr=False)
    neighbour_offsets: IntArray = field(repr=False)
    _lookup: IntArray = field(repr=False)
    _uv_min: tuple[int, int] = field(repr=False)

    @property
    def n_cells(self) -> int:
        """Number of cells."""
        return int(self.u.size)

    @property
    def wafer_area_cm2(self) -> float:
        """Area of the wafer hexagon [cm^2]: (sqrt(3)/2) * flat_to_flat^2."""
        return 0.5 * SQRT3 * self.wafer_flat_to_flat_cm**2

    def __post_init__(self) -> None:
        read_only_arrays(self)  # shared through the sensor() cache

    def index_of(self, u: npt.ArrayLike, v: npt.ArrayLike) -> IntArray:
        """Cell index of axial coordinates (u, v), broadcast; -1 where there is no cell."""
        return lookup_index(self._lookup, self._uv_min, u, v)


def _rhombi(u: IntArray, v: IntArray, n: int) -> tuple[IntArray, IntArray, IntArray]:
    """Rhombus 0..2 and in-rhombus (row, col) of 8-inch cells; all -1 when ``n == 0``.

    Rhombus 0 is u < N, v < N with (row, col) = (u, v).  A rotation by +120 degrees about
    the wafer centre maps (u, v) to (2N-1-v, N-1+u-v); rhombi 1 (u >= N, u > v) and 2
    (v >= N, v >= u) are the images of rhombus 0, and carry its (row, col).
    """
    if n == 0:
        minus = np.full(u.shape, -1, dtype=np.int64)
        return minus, minus.copy(), minus.copy()
    in0 = (u < n) & (v < n)
    in1 = ~in0 & (u > v)
    rhombus = np.select([in0, in1], [0, 1], default=2)
    row = np.select([in0, in1], [u, v - u + n], default=2 * n - 1 - v)
    col = np.select([in0, in1], [v, 2 * n - 1 - u], default=u - v + n - 1)
    return rhombus.astype(np.int64), row.astype(np.int64), col.astype(np.int64)


def _build(
    name: str,
    u: IntArray,
    v: IntArray,
    *,
    side: float,
    basis: FloatArray,
    origin: FloatArray,
    wafer_f2f: float,
    fills_wafer: bool,
    cells_per_side: int,
) -> CellLattice:
    """Assemble a lattice: cells sorted by (u, v), centres, lookup table, outlines, areas."""
    order = np.lexsort((v, u))
    u, v = u[order], v[order]
    xy = origin + np.stack([u, v], axis=1) @ basis.T
    pitch = SQRT3 * side
    uv_min = (int(u.min()), int(v.min()))
    lookup = np.full((int(u.max()) - uv_min[0] + 1, int(v.max()) - uv_min[1] + 1), -1, np.int64)
    lookup[u - uv_min[0], v - uv_min[1]] = np.arange(u.size)
    offsets = lattice_offsets(basis, pitch)
    if fills_wafer:
        # each cell is the part of the wafer nearer to its centre than to any other cell's:
        # the wafer hexagon clipped by the bisectors with the cells up to two rings away
        wafer = hexagon_vertices(wafer_f2f / SQRT3, 30.0)
        vertices = np.broadcast_to(wafer, (u.size, 6, 2)).copy()
        for du, dv in lattice_offsets(basis, 2.0 * pitch):  # 18 offsets, vectorised over cells
            j = lookup_index(lookup, uv_min, u + du, v + dv)
            has = j >= 0
            normal = np.where(has[:, None], xy[j] - xy, 0.0)
            offset = np.where(has, 0.5 * np.einsum("ij,ij->i", normal, xy[j] + xy), 1.0)
            vertices = clip_convex(vertices, normal, offset)
    else:
        # a vertex lies 30 degrees off the direction of the first neighbour
        e0 = offsets[0] @ basis.T
        first_vertex_deg = float(np.degrees(np.arctan2(e0[1], e0[0]))) + 30.0
        vertices = xy[:, None, :] + hexagon_vertices(side, first_vertex_deg)[None]
    rhombus, row, col = _rhombi(u, v, cells_per_side)
    return CellLattice(
        name=name,
        u=u,
        v=v,
        x_cm=xy[:, 0].copy(),
        y_cm=xy[:, 1].copy(),
        area_cm2=polygon_areas(vertices),
        vertices_cm=vertices,
        rhombus=rhombus,
        rhombus_row=row,
        rhombus_col=col,
        pitch_cm=pitch,
        cell_side_cm=side,
        cells_per_side=cells_per_side,
        wafer_flat_to_flat_cm=wafer_f2f,
        fills_wafer=fills_wafer,
        origin_cm=origin,
        basis_cm=basis,
        neighbour_offsets=offsets,
        _lookup=lookup,
        _uv_min=uv_min,
    )


def _tb2018_6inch() -> CellLattice:
    """The 109 full cells of the 6-inch beam-test sensor (see the module docstring)."""
    side = TB_CELL_SIDE_CM
    pitch = SQRT3 * side
    basis = np.array([[pitch, 0.5 * pitch], [0.0, 1.5 * side]])  # [TB] HGCalTBCellVertices.h
    wafer_f2f = SQRT3 * TB_WAFER_SIDE_CELLS * side
    du, dv = np.meshgrid(np.arange(-12, 13), np.arange(-12, 13), indexing="ij")
    u, v = du.ravel(), dv.ravel()
    corners = (np.stack([u, v], axis=1) @ basis.T)[:, None, :] + hexagon_vertices(side, 30.0)
    full = inside_hexagon(corners[..., 0], corners[..., 1], wafer_f2f, 0.0).all(axis=1)
    return _build(
        "tb2018_6inch",
        u[full],
        v[full],
        side=side,
        basis=basis,
        origin=np.zeros(2),
        wafer_f2f=wafer_f2f,
        fills_wafer=False,
        cells_per_side=0,
    )


def _eight_inch(name: str) -> CellLattice:
    """3N^2 cells of an 8-inch wafer in the CMSSW (u, v) convention (module docstring)."""
    n = CELLS_PER_SIDE[name]
    side = WAFER_8INCH_FLAT_TO_FLAT_CM / (3 * n)  # cmssw HGCalCell: cellX = waferSize/(3N)
    height = 0.5 * SQRT3 * side  # cmssw HGCalCell: cellY = sqrt(3)/2 cellX
    basis = np.array([[1.5 * side, -1.5 * side], [height, height]])
    origin = np.array([-0.5 * side, (1 - 2 * n) * height])
    du, dv = np.meshgrid(np.arange(2 * n), np.arange(2 * n), indexing="ij")
    u, v = du.ravel(), dv.ravel()
    valid = (v - u < n) & (u - v <= n)  # cmssw HGCSiliconDetIdToModule::getDetIds
    return _build(
        name,
        u[valid],
        v[valid],
        side=side,
        basis=basis,
        origin=origin,
        wafer_f2f=WAFER_8INCH_FLAT_TO_FLAT_CM,
        fills_wafer=True,
        cells_per_side=n,
    )


@cache
def _cached_sensor(name: str) -> CellLattice:
    return _tb2018_6inch() if name == "tb2018_6inch" else _eight_inch(name)


def sensor(name: str) -> CellLattice:
    """The cell lattice of a sensor (built once, then shared; its arrays are read-only).

    Parameters
    ----------
    name
        ``"tb2018_6inch"`` (2018 beam-test 6-inch sensor, 109 full cells), ``"ld8"``
        (8-inch low density, 192 cells) or ``"hd8"`` (8-inch high density, 432 cells).

    Raises
    ------
    ConfigError
        If ``name`` is not one of these.
    """
    if name not in SENSOR_NAMES:
        choices = ", ".join(repr(s) for s in SENSOR_NAMES)
        msg = f"unknown sensor {name!r}; expected one of {choices}"
        raise ConfigError(msg)
    return _cached_sensor(name)


def neighbours(lattice: CellLattice) -> IntArray:
    """Indices of the six neighbours of every cell, counter-clockwise.

    Returns
    -------
    numpy.ndarray of int64, shape (n_cells, 6)
        Column k is the neighbour at offset ``lattice.neighbour_offsets[k]``; -1 where that
        position holds no cell (outside the wafer, or a partial cell not modelled).
    """
    du, dv = lattice.neighbour_offsets[:, 0], lattice.neighbour_offsets[:, 1]
    return lattice.index_of(lattice.u[:, None] + du, lattice.v[:, None] + dv)


def in_wafer(
    lattice: CellLattice, x_cm: npt.ArrayLike, y_cm: npt.ArrayLike
) -> npt.NDArray[np.bool_]:
    """Whether points [cm] lie inside (or on the edge of) the sensor's wafer hexagon."""
    return inside_hexagon(x_cm, y_cm, lattice.wafer_flat_to_flat_cm, 0.0)


def locate(lattice: CellLattice, x_cm: npt.ArrayLike, y_cm: npt.ArrayLike) -> IntArray:
    """Index of the cell containing each point; -1 outside the sensitive area.

    Exact hex rounding in cube coordinates gives the nearest lattice position, a lookup
    table its cell.  On 8-inch wafers a point in an edge notch (nearest position not a cell)
    goes to the nearest of that position's neighbour cells, and points outside the wafer
    hexagon get -1.  On the 6-inch sensor points on the unmodelled partial cells get -1.

    Parameters
    ----------
    lattice
        The sensor.
    x_cm, y_cm
        Point coordinates in the sensor frame [cm], broadcastable arrays of any shape.

    Returns
    -------
    numpy.ndarray of int64, the broadcast shape of ``x_cm`` and ``y_cm``.
    """
    x, y = np.broadcast_arrays(
        np.asarray(x_cm, dtype=np.float64), np.asarray(y_cm, dtype=np.float64)
    )
    u, v = nearest_lattice_point(x, y, lattice.origin_cm, lattice.basis_cm)
    index = lattice.index_of(u, v)
    if not lattice.fills_wafer:
        return index
    inside = in_wafer(lattice, x, y)
    notch = (index < 0) & inside
    if notch.any():
        du, dv = lattice.neighbour_offsets[:, 0], lattice.neighbour_offsets[:, 1]
        candidates = lattice.index_of(u[notch][:, None] + du, v[notch][:, None] + dv)
        dx = x[notch][:, None] - lattice.x_cm[candidates]
        dy = y[notch][:, None] - lattice.y_cm[candidates]
        dist2 = np.where(candidates >= 0, dx * dx + dy * dy, np.inf)
        index[notch] = np.take_along_axis(candidates, dist2.argmin(axis=1)[:, None], axis=1)[:, 0]
    return np.where(inside, index, -1)
