"""The trigger-cell (TC) map of the 8-inch sensors: 48 TCs per module, their cells and centres.

Public API::

    N_TRIGGER_CELLS                                   # 48 TCs per module (physics.md section 4)
    trigger_cell_map(sensor_name, cells_per_tc_side=None) -> TriggerCellMap   # cached
    tc_coords(sensor_name) -> (48, 2)                 # TC centres in the sensor frame [cm]
    tc_pitch_cm(sensor_name) -> float                 # distance of neighbouring TC centres

Every final-design silicon module sends **48 TCs**: 4 cells per TC on low-density (LD, 192
cells) and 9 on high-density (HD, 432 cells) wafers (physics.md section 4; [L1]
``triggercell_mapping_8inch_aligned_192_432_V9_0.txt``, TC ids 0-47).  **The grouping is
this project's own symmetric choice**, modelled on that [L1] file (48 TC ids, 4 or 9 cells
each) and **not checked cell by cell against it**.  The wafer is three rhombi
of N x N cells (:mod:`hgcal_ae.detector.hexagons`, N = 8 / 12); inside each, the cell at
in-rhombus (row, col) goes to TC ``16 * rhombus + 4 * (row // k) + (col // k)`` with
k = 2 (LD) or 3 (HD): a 4 x 4 grid of k x k-cell TCs per rhombus, each TC a compact
parallelogram of cells.  Rhombus 0 (TC 0-15) is u < N, v < N with (row, col) = (u, v);
rhombi 1 and 2 are its images under +120 / +240 degree rotations, so the map has the
wafer's three-fold symmetry.

TC areas (in full-cell areas, measured on :func:`~hgcal_ae.detector.hexagons.sensor`): the
9 TCs of a rhombus with row >= 1 and col >= 1 have exactly k^2.  The TCs along the wafer edge
differ because edge cells are 5/6 (cut), 7/6 (extended) or 11/12 (corner) of a full cell:
row 0 (cut edge) 44/12 (LD) / 102/12 (HD) for cols 1-2, col 0 rows 1-3 (extended edge)
52/12 / 114/12, and the corner TCs (0, 0) 47/12 / 107/12 and (0, 3) 45/12 / 103/12.
Each rhombus sums to N^2 full cells, and the wafer to its full area.

**Other groupings** (for the TC-grouping study, not the detector's): ``cells_per_tc_side=k``
for any k dividing N builds the same symmetric construction with g = N/k TCs per rhombus
side, TC id ``g^2 * rhombus + g * (row // k) + (col // k)``, 3 g^2 TCs of k^2 cells each:
hd8 k = 2 gives 108 TCs of 2 x 2 cells, k = 3 the default 48; ld8 k = 2 the default 48,
k = 4 gives 12.  k = 1 is the cells themselves (3 N^2 "TCs" of one cell).  Only the default
k (None) is the 48-TC map of physics.md section 4, the one every ECON-T algorithm expects.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

from hgcal_ae.detector.hexagons import CELLS_PER_SIDE, sensor
from hgcal_ae.errors import ConfigError

__all__ = [
    "N_TRIGGER_CELLS",
    "TriggerCellMap",
    "tc_coords",
    "tc_pitch_cm",
    "trigger_cell_map",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

N_TRIGGER_CELLS = 48  # TCs per module (default map), physics.md section 4 / [L1] mapping file
_CELLS_PER_TC_SIDE = {"ld8": 2, "hd8": 3}  # default k: LD 2x2 = 4 cells, HD 3x3 = 9 per TC
_RHOMBI = 3  # an 8-inch wafer is three N x N rhombi (hexagons.py)


@dataclass(frozen=True, eq=False)
class TriggerCellMap:
    """The cell -> trigger-cell map of one 8-inch sensor (arrays read-only, shared by the cache).

    Attributes
    ----------
    The default map has n_tc = 48; another ``cells_per_tc_side`` k gives n_tc = 3 (N/k)^2.

    sensor : str
        Sensor name, ``"ld8"`` or ``"hd8"``.
    cells_per_tc : int
        Cells per TC, k^2: 4 (LD) or 9 (HD) by default.
    cells_per_tc_side : int
        k, the side of a TC in cells (2 LD, 3 HD by default).
    tcs_per_rhombus_side : int
        g = N / k TCs along each side of a rhombus (4 by default).
    tc_of_cell : numpy.ndarray of int64, shape (n_cells,)
        TC id 0..n_tc-1 of every cell (cells in the lattice's (u, v) order).
    cells_of_tc : numpy.ndarray of int64, shape (n_tc, cells_per_tc)
        Cell indices of every TC, in increasing order.
    tc_x_cm, tc_y_cm : numpy.ndarray of float64, shape (n_tc,)
        TC centres in the sensor frame [cm]: area-weighted mean of their cells' centres.
    tc_area_cm2 : numpy.ndarray of float64, shape (n_tc,)
        Sensitive area of each TC [cm^2] (edge TCs differ, see the module docstring).
    tc_rhombus, tc_row, tc_col : numpy.ndarray of int64, shape (n_tc,)
        Rhombus 0..2 and TC (row, col) 0..g-1 inside it: id = g^2 rhombus + g row + col
        (16 rhombus + 4 row + col by default).
    """

    sensor: str
    cells_per_tc: int
    cells_per_tc_side: int
    tcs_per_rhombus_side: int
    tc_of_cell: IntArray
    cells_of_tc: IntArray
    tc_x_cm: FloatArray
    tc_y_cm: FloatArray
    tc_area_cm2: FloatArray
    tc_rhombus: IntArray
    tc_row: IntArray
    tc_col: IntArray

    def __post_init__(self) -> None:
        for value in vars(self).values():
            if isinstance(value, np.ndarray):
                value.flags.writeable = False

    @property
    def n_cells(self) -> int:
        """Number of cells of the sensor (192 or 432)."""
        return int(self.tc_of_cell.size)

    @property
    def n_tc(self) -> int:
        """Number of TCs per module, 3 (N/k)^2: 48 for the default map."""
        return int(self.tc_area_cm2.size)


@cache
def _build_map(name: str, k: int) -> TriggerCellMap:
    lattice = sensor(name)
    grid = CELLS_PER_SIDE[name] // k  # g = N / k (k divides N: checked by the caller)
    n_tc = _RHOMBI * grid * grid
    row, col = lattice.rhombus_row // k, lattice.rhombus_col // k
    tc = grid * grid * lattice.rhombus + grid * row + col
    cells_of_tc = np.argsort(tc, kind="stable").reshape(n_tc, k * k)
    # numpy's stub types bincount as intp even when float weights make it float64
    area: FloatArray = np.bincount(tc, weights=lattice.area_cm2, minlength=n_tc)  # type: ignore[assignment]
    ids = np.arange(n_tc, dtype=np.int64)
    return TriggerCellMap(
        sensor=name,
        cells_per_tc=k * k,
        cells_per_tc_side=k,
        tcs_per_rhombus_side=grid,
        tc_of_cell=tc.astype(np.int64),
        cells_of_tc=cells_of_tc.astype(np.int64),
        tc_x_cm=np.bincount(tc, weights=lattice.area_cm2 * lattice.x_cm) / area,
        tc_y_cm=np.bincount(tc, weights=lattice.area_cm2 * lattice.y_cm) / area,
        tc_area_cm2=area,
        tc_rhombus=ids // (grid * grid),
        tc_row=(ids % (grid * grid)) // grid,
        tc_col=ids % grid,
    )


def _cells_per_tc_side(sensor_name: str, cells_per_tc_side: object) -> int:
    """k for ``sensor_name``: the default for None, else a divisor of N (ConfigError if not)."""
    default = _CELLS_PER_TC_SIDE[sensor_name]
    if cells_per_tc_side is None:
        return default
    n = CELLS_PER_SIDE[sensor_name]
    allowed = [k for k in range(1, n + 1) if n % k == 0]
    k = cells_per_tc_side
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or int(k) not in allowed:
        msg = f"cells_per_tc_side={k!r} does not divide the {n} x {n}-cell rhombi of sensor {sensor_name!r}; expected one of {allowed} (or None for the default {default}: 48 TCs)"
        raise ConfigError(msg)
    return int(k)


def trigger_cell_map(sensor_name: str, cells_per_tc_side: int | None = None) -> TriggerCellMap:
    """The TC map of an 8-inch sensor, 48 TCs by default (built once, then shared).

    Parameters
    ----------
    sensor_name
        ``"ld8"`` (2 x 2 cells per TC by default) or ``"hd8"`` (3 x 3 by default).
    cells_per_tc_side
        k, TCs of k x k cells inside each rhombus; None (default) is the detector's 48-TC
        map.  Any divisor of the rhombus side N (8 LD, 12 HD) is allowed: it gives
        3 (N/k)^2 TCs, e.g. 108 for hd8 with k = 2 and 12 for ld8 with k = 4.

    Raises
    ------
    ConfigError
        For any other name, including the 6-inch beam-test sensor ``"tb2018_6inch"``, which
        has no TC map: only the final-design 8-inch wafers have 48 TCs; or for a k that does
        not divide N (the message lists the allowed values).
    """
    if sensor_name not in _CELLS_PER_TC_SIDE:
        msg = f"sensor {sensor_name!r} has no trigger-cell map; only the 8-inch wafers 'ld8' and 'hd8' have 48 TCs (physics.md section 4) — use geometry 'ld8' or 'hd8'"
        raise ConfigError(msg)
    return _build_map(sensor_name, _cells_per_tc_side(sensor_name, cells_per_tc_side))


def tc_coords(sensor_name: str) -> FloatArray:
    """TC centres ``(48, 2)`` of the default map in the sensor frame [cm], read-only."""
    tc_map = trigger_cell_map(sensor_name)
    coords = np.column_stack([tc_map.tc_x_cm, tc_map.tc_y_cm])
    coords.flags.writeable = False
    return coords


def tc_pitch_cm(sensor_name: str) -> float:
    """Distance between neighbouring TC centres [cm]: cells per TC side x cell pitch.

    2 x 1.2084 = 2.4168 cm (LD) and 3 x 0.8056 = 2.4168 cm (HD), Ecoder's 2.4168015
    (econt.md §5).
    """
    return trigger_cell_map(sensor_name).cells_per_tc_side * sensor(sensor_name).pitch_cm
