"""The cells of a hexagonal sensor laid out as an image: one cell, one pixel.

Public API::

    sensor_image(name="tb2018_6inch") -> SensorImage
    SensorImage.to_image(cells) -> (..., height, width)   # cells (..., n_cells)
    SensorImage.to_cells(image) -> (..., n_cells)          # the inverse on the cells' pixels

The layout ("odd-row offset" coordinates of the hexagonal lattice): row ``r = v - min(v)``,
column ``c = u + floor(v / 2) - min(u + floor(v / 2))``, with the sensor's axial (u, v) of
:mod:`hgcal_ae.detector.hexagons`.  A cell's centre is x = (u + v/2) pitch, y = 1.5 s v, so
row r holds the cells of one y, and column c the cells with ``c <= x / pitch + const < c + 1``:
odd rows are shifted half a pixel, as the hexagons are.  Each of the six neighbours of a cell
lies in the 3 x 3 block of pixels around it (on the 6-inch lattice), so small convolutions see neighbouring cells
as neighbouring pixels.  The map (u, v) -> (r, c) is one-to-one (for fixed v, c grows with
u), so every cell lands in exactly one pixel and :meth:`SensorImage.to_cells` of
:meth:`SensorImage.to_image` gives the cells back exactly; pixels without a cell are 0.

For the 2018 beam-test sensor (``tb2018_6inch``, 109 full cells, u and v in -6..6) the image
is 13 rows x 11 columns, of which 109 pixels hold a cell (row 0 is the bottom, v = -6)::

    ....###....
    ..######...
    .#########.
    ##########.
    ###########
    ...         (rows of 10 and 11 cells alternate)
    .#########.
    ..######...
    ....###....
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

from hgcal_ae.detector.hexagons import read_only_arrays, sensor
from hgcal_ae.errors import ConfigError

__all__ = ["SensorImage", "sensor_image"]

IntArray = npt.NDArray[np.int64]
ArrayT = npt.NDArray[np.generic]


@dataclass(frozen=True, eq=False)
class SensorImage:
    """Where each cell of a sensor sits in its image.

    Attributes
    ----------
    sensor : str
        The sensor's name (:func:`hgcal_ae.detector.hexagons.sensor`).
    height, width : int
        Image shape (rows, columns).
    row, col : numpy.ndarray of int64, shape (n_cells,)
        Pixel of each cell, in the cell order of the sensor's lattice (sorted by (u, v)).
    mask : numpy.ndarray of bool, shape (height, width)
        True on the pixels that hold a cell.
    """

    sensor: str
    height: int
    width: int
    row: IntArray
    col: IntArray
    mask: npt.NDArray[np.bool_]

    def __post_init__(self) -> None:
        read_only_arrays(self)

    @property
    def n_cells(self) -> int:
        """Number of cells (= number of True pixels of :attr:`mask`)."""
        return int(self.row.size)

    @property
    def pixel(self) -> IntArray:
        """Flat pixel index ``row * width + col`` of each cell, shape (n_cells,)."""
        return self.row * self.width + self.col

    def to_image(self, cells: npt.ArrayLike) -> ArrayT:
        """Cell values ``(..., n_cells)`` as images ``(..., height, width)``, 0 off the cells.

        Vectorised over any leading axes (events, layers); the dtype is kept.
        """
        values = np.asarray(cells)
        self._check_last(values.shape, (self.n_cells,), "cells")
        image = np.zeros((*values.shape[:-1], self.height, self.width), dtype=values.dtype)
        image[..., self.row, self.col] = values
        return image

    def to_cells(self, image: npt.ArrayLike) -> ArrayT:
        """Images ``(..., height, width)`` back to cell values ``(..., n_cells)``.

        Pixels without a cell are ignored; ``to_cells(to_image(x))`` equals ``x`` exactly.
        """
        values = np.asarray(image)
        self._check_last(values.shape, (self.height, self.width), "image")
        return np.ascontiguousarray(values[..., self.row, self.col])

    def _check_last(self, shape: tuple[int, ...], expected: tuple[int, ...], name: str) -> None:
        if len(shape) < len(expected) or shape[len(shape) - len(expected) :] != expected:
            msg = f"{name} of sensor {self.sensor!r} must end in shape {expected}, got {shape}"
            raise ConfigError(msg)


@cache
def sensor_image(name: str = "tb2018_6inch") -> SensorImage:
    """The image layout of sensor ``name`` (module docstring); built once, read-only.

    Raises
    ------
    ConfigError
        If ``name`` is not a known sensor.
    """
    lattice = sensor(name)
    row = lattice.v - lattice.v.min()
    col = lattice.u + np.floor_divide(lattice.v, 2)
    col = col - col.min()
    height, width = int(row.max()) + 1, int(col.max()) + 1
    mask = np.zeros((height, width), dtype=bool)
    mask[row, col] = True
    return SensorImage(
        sensor=name,
        height=height,
        width=width,
        row=row.astype(np.int64),
        col=col.astype(np.int64),
        mask=mask,
    )
