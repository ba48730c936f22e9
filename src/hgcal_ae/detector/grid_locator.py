"""Fast point → cell lookup for a whole layer through a pixel table, exact at cell edges.

A layer is covered by square pixels much smaller than a cell.  A pixel whose four corners
all lie in the same cell lies wholly inside it (cells are convex), so the table stores that
cell; every other pixel (on a cell edge, a wafer gap or outside) is marked and its points
go through the exact hexagonal lookup.  With pixels 1/50 of the cell pitch (coarser for large
tilings) only a few per cent of the points of a shower take the exact path, and the result equals
:func:`~hgcal_ae.detector.tiling.locate` point by point.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from hgcal_ae.detector.hexagons import CellLattice
from hgcal_ae.detector.hexagons import locate as locate_in_sensor
from hgcal_ae.detector.tiling import Tiling
from hgcal_ae.detector.tiling import locate as locate_in_tiling

__all__ = ["GridLocator", "locate_global"]

EXACT = -2  # table entry: pixel not inside a single cell, use the exact lookup
PIXELS_PER_PITCH = 50
MAX_PIXELS = 4_000_000  # coarser pixels for large tilings: table <= 16 MB, built in ~2 s


def locate_global(
    tiling: Tiling, lattice: CellLattice, x: npt.ArrayLike, y: npt.ArrayLike
) -> npt.NDArray[np.int64]:
    """Exact global cell id (module * cells per wafer + cell) of each point; -1 if insensitive."""
    if tiling.n_modules == 1 and tiling.x_cm[0] == 0 and tiling.y_cm[0] == 0:
        return locate_in_sensor(lattice, x, y)
    module, cell = locate_in_tiling(tiling, lattice, x, y)
    return np.where(cell >= 0, module * lattice.n_cells + cell, -1)


@dataclass(frozen=True)
class GridLocator:
    """Pixel table of a tiled layer; call it with points [cm] to get global cell ids."""

    tiling: Tiling
    lattice: CellLattice
    pixel_cm: float
    x_min: float
    y_min: float
    table: npt.NDArray[np.int32] = field(repr=False)

    @classmethod
    def build(
        cls, tiling: Tiling, lattice: CellLattice, pixels_per_pitch: int = PIXELS_PER_PITCH
    ) -> GridLocator:
        """Build the table (about 0.1–0.5 s; build once per detector set-up)."""
        half = lattice.wafer_flat_to_flat_cm  # > circumradius of the wafer
        x_min, x_max = tiling.x_cm.min() - half, tiling.x_cm.max() + half
        y_min, y_max = tiling.y_cm.min() - half, tiling.y_cm.max() + half
        pixel = lattice.pitch_cm / pixels_per_pitch
        pixel = max(pixel, float(np.sqrt((x_max - x_min) * (y_max - y_min) / MAX_PIXELS)))
        nx = int(np.ceil((x_max - x_min) / pixel))
        ny = int(np.ceil((y_max - y_min) / pixel))
        gx = x_min + pixel * np.arange(nx + 1)
        gy = y_min + pixel * np.arange(ny + 1)
        corners = locate_global(tiling, lattice, gx[None, :], gy[:, None])
        c00, c01, c10, c11 = corners[:-1, :-1], corners[:-1, 1:], corners[1:, :-1], corners[1:, 1:]
        pure = (c00 >= 0) & (c00 == c01) & (c00 == c10) & (c00 == c11)
        table = np.where(pure, c00, EXACT).astype(np.int32)
        table.flags.writeable = False
        return cls(tiling, lattice, float(pixel), float(x_min), float(y_min), table)

    def __call__(self, x: npt.ArrayLike, y: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Global cell id of each point (1-D arrays of equal length); -1 if insensitive."""
        x = np.asarray(x)
        y = np.asarray(y)
        inv = 1.0 / self.pixel_cm
        fx = (x - self.x_min) * inv
        fy = (y - self.y_min) * inv
        ny, nx = self.table.shape
        inside = (fx >= 0) & (fx < nx) & (fy >= 0) & (fy < ny)  # False for NaN too
        ix = np.where(inside, fx, 0).astype(np.int32)  # NaN and inf never reach the cast
        flat = np.where(inside, fy, 0).astype(np.int32) * nx + ix
        cell = np.where(inside, np.take(self.table.reshape(-1), flat), EXACT).astype(np.int64)
        slow = np.flatnonzero(cell == EXACT)
        if len(slow):
            cell[slow] = locate_global(self.tiling, self.lattice, x[slow], y[slow])
        return cell
