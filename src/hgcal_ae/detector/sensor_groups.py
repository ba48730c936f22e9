"""Neighbouring cells of the 6-inch sensor summed in hexagonal clusters: 2, 3 or 7 cells.

Public API::

    GROUP_SIZES = (1, 2, 3, 7)
    cell_groups(size, name="tb2018_6inch") -> CellGroups
    CellGroups.sums(cells) -> (..., n_groups)       # cells (..., n_cells)
    CellGroups.spread(sums) -> (..., n_cells)       # each cell: its group's sum / group size
    CellGroups.grouped(cells) = spread(sums(cells))

The clusters tile the sensor's axial (u, v) lattice (:mod:`hgcal_ae.detector.hexagons`;
the six neighbours of a cell are at (±1, 0), (0, ±1), ±(1, −1)), so every cell lies in
exactly one group.  Each tiling is a sublattice of anchors and one shape repeated on it; a
cell finds its anchor from a residue of (u, v), without any search:

``7`` (a cell and its six neighbours)
    Anchors are the cells with ``(3u + v) mod 7 == 0`` (the sublattice spanned by (2, 1) and
    (−1, 3)).  The residues of the six neighbour offsets are 3, 1, 5, 4, 6, 2: all
    different and non-zero, so a cell of residue r is the anchor's neighbour of that residue.
``3`` (triangles: three mutually neighbouring cells)
    Anchors are the cells with ``(u − v) mod 3 == 0``; the triangle is the anchor,
    anchor + (1, 0) (residue 1) and anchor + (0, 1) (residue 2).
``2`` (pairs of neighbours)
    Anchors are the cells of even u; the pair is the anchor and anchor + (1, 0).
``1``
    Every cell alone (the cells sent as they are).

The 7-cell tiling is centred on the sensor's centre cell (0, 0), an anchor.  Groups along
the sensor's edge hold the part of their cluster that is on the sensor (fewer cells):
:attr:`CellGroups.counts` gives each group's size.  All maps are array operations.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

from hgcal_ae.detector.hexagons import read_only_arrays, sensor
from hgcal_ae.errors import ConfigError

__all__ = ["GROUP_SIZES", "CellGroups", "cell_groups"]

GROUP_SIZES = (1, 2, 3, 7)
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

# Per tiling: (modulus, coefficients (a, b) of the residue (a u + b v) mod m, the offset from
# the anchor of a cell of each residue).  Offsets are cells of the shape, indexed by residue.
_TILINGS: dict[int, tuple[int, tuple[int, int], tuple[tuple[int, int], ...]]] = {
    1: (1, (0, 0), ((0, 0),)),
    2: (2, (1, 0), ((0, 0), (1, 0))),
    3: (3, (1, -1), ((0, 0), (1, 0), (0, 1))),
    7: (7, (3, 1), ((0, 0), (0, 1), (1, -1), (1, 0), (-1, 0), (-1, 1), (0, -1))),
}


@dataclass(frozen=True, eq=False)
class CellGroups:
    """A partition of a sensor's cells into hexagonal clusters of ``size`` cells.

    Attributes
    ----------
    sensor : str
        The sensor's name.
    size : int
        Cells of a full cluster (1, 2, 3 or 7).
    group : numpy.ndarray of int64, shape (n_cells,)
        Group index of every cell (groups numbered by their anchor's (u, v)).
    anchor_u, anchor_v : numpy.ndarray of int64, shape (n_groups,)
        Axial coordinates of each group's anchor (for 7: the centre cell, which may lie off
        the sensor for an edge group).
    counts : numpy.ndarray of int64, shape (n_groups,)
        Cells in each group (``size``, or fewer at the sensor's edge).
    """

    sensor: str
    size: int
    group: IntArray
    anchor_u: IntArray
    anchor_v: IntArray
    counts: IntArray

    def __post_init__(self) -> None:
        read_only_arrays(self)

    @property
    def n_cells(self) -> int:
        """Cells of the sensor."""
        return int(self.group.size)

    @property
    def n_groups(self) -> int:
        """Number of groups (each cell in exactly one)."""
        return int(self.counts.size)

    @property
    def address_bits(self) -> int:
        """Bits that name one group: ``ceil(log2(n_groups))`` (at least 1)."""
        return max(1, int(np.ceil(np.log2(self.n_groups))))

    def sums(self, cells: npt.ArrayLike) -> FloatArray:
        """Energy of each group, ``(..., n_groups)``, from cell values ``(..., n_cells)``."""
        values = self._check(cells)
        membership = np.zeros((self.n_cells, self.n_groups))
        membership[np.arange(self.n_cells), self.group] = 1.0
        return np.asarray(values @ membership, dtype=np.float64)  # all leading axes at once

    def spread(self, sums: npt.ArrayLike) -> FloatArray:
        """Each cell gets its group's sum divided by the group's size: ``(..., n_cells)``.

        This is what a receiver of the group sums knows of the cells; the sum of each group
        is kept exactly.
        """
        values = np.asarray(sums, dtype=np.float64)
        if values.ndim < 1 or values.shape[-1] != self.n_groups:
            msg = f"group sums must end in {self.n_groups} groups of size {self.size}, got shape {values.shape}"
            raise ConfigError(msg)
        return np.asarray(values[..., self.group] / self.counts[self.group], dtype=np.float64)

    def grouped(self, cells: npt.ArrayLike) -> FloatArray:
        """Cells as a receiver of their group sums sees them: ``spread(sums(cells))``."""
        return self.spread(self.sums(cells))

    def _check(self, cells: npt.ArrayLike) -> FloatArray:
        values = np.asarray(cells, dtype=np.float64)
        if values.ndim < 1 or values.shape[-1] != self.n_cells:
            msg = f"cells of sensor {self.sensor!r} must end in {self.n_cells} cells, got shape {values.shape}"
            raise ConfigError(msg)
        return values


@cache
def cell_groups(size: int, name: str = "tb2018_6inch") -> CellGroups:
    """The hexagonal clusters of ``size`` cells tiling sensor ``name`` (module docstring).

    Raises
    ------
    ConfigError
        If ``size`` is not one of :data:`GROUP_SIZES`, or ``name`` is not a known sensor.
    """
    if isinstance(size, bool) or size not in _TILINGS:
        msg = f"cell group size must be one of {', '.join(map(str, GROUP_SIZES))}, got {size!r}"
        raise ConfigError(msg)
    lattice = sensor(name)
    modulus, (a, b), offsets = _TILINGS[size]
    residue = np.mod(a * lattice.u + b * lattice.v, modulus)
    shift = np.asarray(offsets, dtype=np.int64)[residue]
    anchors = np.stack([lattice.u - shift[:, 0], lattice.v - shift[:, 1]], axis=1)
    unique, group, counts = np.unique(anchors, axis=0, return_inverse=True, return_counts=True)
    return CellGroups(
        sensor=name,
        size=size,
        group=group.reshape(-1).astype(np.int64),
        anchor_u=unique[:, 0].astype(np.int64),
        anchor_v=unique[:, 1].astype(np.int64),
        counts=counts.astype(np.int64),
    )
