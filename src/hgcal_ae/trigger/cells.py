"""Cells to trigger cells (TCs): 48 TCs per 8-inch module, and per-module TC arrays of events.

Public API::

    trigger_cell_map(sensor_name: str) -> TriggerCellMap        # "ld8" or "hd8", cached
    cells_to_trigger_cells(cell_energy, tc_map) -> (..., 48)    # sum cells into TCs
    module_trigger_cells(batch, setup, *, layers=None) -> ModuleTCs
    module_sums(tc) -> (...,)                                   # sum of the 48 TCs

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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

from hgcal_ae.datasets.events import EventBatch
from hgcal_ae.detector.hexagons import sensor
from hgcal_ae.detector.setups import DetectorSetup
from hgcal_ae.errors import ConfigError, SchemaError

__all__ = [
    "N_TRIGGER_CELLS",
    "ModuleTCs",
    "TriggerCellMap",
    "cells_to_trigger_cells",
    "module_sums",
    "module_trigger_cells",
    "trigger_cell_map",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

N_TRIGGER_CELLS = 48  # TCs per module, physics.md section 4 / [L1] mapping file
_TC_GRID = 4  # 4 x 4 TCs per rhombus: 3 * 16 = 48
_CELLS_PER_TC_SIDE = {"ld8": 2, "hd8": 3}  # k: LD 2x2 = 4 cells, HD 3x3 = 9 cells per TC


@dataclass(frozen=True, eq=False)
class TriggerCellMap:
    """The cell -> trigger-cell map of one 8-inch sensor (arrays read-only, shared by the cache).

    Attributes
    ----------
    sensor : str
        Sensor name, ``"ld8"`` or ``"hd8"``.
    cells_per_tc : int
        Cells per TC: 4 (LD) or 9 (HD).
    tc_of_cell : numpy.ndarray of int64, shape (n_cells,)
        TC id 0..47 of every cell (cells in the lattice's (u, v) order).
    cells_of_tc : numpy.ndarray of int64, shape (48, cells_per_tc)
        Cell indices of every TC, in increasing order.
    tc_x_cm, tc_y_cm : numpy.ndarray of float64, shape (48,)
        TC centres in the sensor frame [cm]: area-weighted mean of their cells' centres.
    tc_area_cm2 : numpy.ndarray of float64, shape (48,)
        Sensitive area of each TC [cm^2] (edge TCs differ, see the module docstring).
    tc_rhombus, tc_row, tc_col : numpy.ndarray of int64, shape (48,)
        Rhombus 0..2 and TC (row, col) 0..3 inside it: id = 16 rhombus + 4 row + col.
    """

    sensor: str
    cells_per_tc: int
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


@cache
def _build_map(name: str) -> TriggerCellMap:
    lattice = sensor(name)
    k = _CELLS_PER_TC_SIDE[name]
    row, col = lattice.rhombus_row // k, lattice.rhombus_col // k
    tc = 16 * lattice.rhombus + _TC_GRID * row + col
    cells_of_tc = np.argsort(tc, kind="stable").reshape(N_TRIGGER_CELLS, k * k)
    area = np.bincount(tc, weights=lattice.area_cm2, minlength=N_TRIGGER_CELLS)
    ids = np.arange(N_TRIGGER_CELLS, dtype=np.int64)
    return TriggerCellMap(
        sensor=name,
        cells_per_tc=k * k,
        tc_of_cell=tc.astype(np.int64),
        cells_of_tc=cells_of_tc.astype(np.int64),
        tc_x_cm=np.bincount(tc, weights=lattice.area_cm2 * lattice.x_cm) / area,
        tc_y_cm=np.bincount(tc, weights=lattice.area_cm2 * lattice.y_cm) / area,
        tc_area_cm2=area,
        tc_rhombus=ids // 16,
        tc_row=(ids % 16) // _TC_GRID,
        tc_col=ids % _TC_GRID,
    )


def trigger_cell_map(sensor_name: str) -> TriggerCellMap:
    """The 48-TC map of an 8-inch sensor (built once, then shared).

    Parameters
    ----------
    sensor_name
        ``"ld8"`` (2 x 2 cells per TC) or ``"hd8"`` (3 x 3 cells per TC).

    Raises
    ------
    ConfigError
        For any other name, including the 6-inch beam-test sensor ``"tb2018_6inch"``, which
        has no TC map: only the final-design 8-inch wafers have 48 TCs.
    """
    if sensor_name not in _CELLS_PER_TC_SIDE:
        msg = f"sensor {sensor_name!r} has no trigger-cell map; only the 8-inch wafers 'ld8' and 'hd8' have 48 TCs (physics.md section 4) — use geometry 'ld8' or 'hd8'"
        raise ConfigError(msg)
    return _build_map(sensor_name)


def _last_axis(values: npt.ArrayLike, size: int, what: str) -> npt.NDArray[np.generic]:
    array = np.asarray(values)
    if array.ndim == 0 or array.shape[-1] != size:
        msg = f"{what} must have shape (..., {size}), got {array.shape}"
        raise ConfigError(msg)
    return array


def cells_to_trigger_cells(cell_energy: npt.ArrayLike, tc_map: TriggerCellMap) -> FloatArray:
    """Sum the cells of a module into its 48 TCs.

    Parameters
    ----------
    cell_energy
        Energy per cell, shape (..., n_cells), any unit (e.g. MIP); integer input becomes
        float64, floating input keeps its dtype.
    tc_map
        The sensor's map.

    Returns
    -------
    numpy.ndarray, shape (..., 48): TC energies, same unit and dtype.  A last axis other
    than ``tc_map.n_cells`` raises :class:`ConfigError`.
    """
    energy = _last_axis(cell_energy, tc_map.n_cells, f"cell_energy of sensor {tc_map.sensor!r}")
    if not np.issubdtype(energy.dtype, np.floating):
        energy = energy.astype(np.float64)
    # a (n_cells, 48) one-hot product runs on BLAS: ~10x faster than gathering the cells
    one_hot = np.zeros((tc_map.n_cells, N_TRIGGER_CELLS), dtype=energy.dtype)
    one_hot[np.arange(tc_map.n_cells), tc_map.tc_of_cell] = 1
    return energy @ one_hot


def module_sums(tc: npt.ArrayLike) -> FloatArray:
    """Module sum of 48 TCs: shape (..., 48) -> (...,), same unit (econt.md section 2)."""
    return _last_axis(tc, N_TRIGGER_CELLS, "tc").sum(axis=-1)


@dataclass(frozen=True, eq=False)
class ModuleTCs:
    """TC energies of every (event, layer, module) with energy, sorted by event, layer, module.

    Attributes
    ----------
    event : numpy.ndarray of int64, shape (M,)
        0-based index of the event within the batch (``batch.event_id[event]`` for the id).
    layer : numpy.ndarray of int64, shape (M,)
        Layer number (1..28 in the CE-E).
    module : numpy.ndarray of int64, shape (M,)
        Module index within the layer (``cell // lattice.n_cells``).
    tc : numpy.ndarray of float64, shape (M, 48)
        Energy per TC [MIP].
    """

    event: IntArray
    layer: IntArray
    module: IntArray
    tc: FloatArray

    @property
    def n_rows(self) -> int:
        """Number of (event, layer, module) rows M."""
        return int(self.event.size)


def _layer_choice(
    layers: Sequence[int] | npt.ArrayLike | None, setup: DetectorSetup
) -> IntArray | None:
    """Layer numbers to keep, from numbers or a (n_layers,) bool mask; None keeps all."""
    if layers is None:
        return None
    choice, stack = np.asarray(layers), np.asarray(setup.stack.layer, dtype=np.int64)
    if choice.dtype == np.bool_ and choice.shape != stack.shape:
        msg = f"layer mask must have shape {stack.shape}, got {choice.shape}"
        raise ConfigError(msg)
    numbers = stack[choice] if choice.dtype == np.bool_ else choice.astype(np.int64).ravel()
    if not np.isin(numbers, stack).all():
        msg = f"layers {numbers[~np.isin(numbers, stack)].tolist()!r} are not in the {setup.name!r} stack (layers 1..{stack.size})"
        raise ConfigError(msg)
    return numbers


def module_trigger_cells(
    batch: EventBatch,
    setup: DetectorSetup,
    *,
    layers: Sequence[int] | npt.ArrayLike | None = None,
) -> ModuleTCs:
    """Sum the hits of events into per-(event, layer, module) TC arrays.

    Hits with an unknown cell (``cell == -1``) are skipped; energies of several hits on one
    cell add up.  Only rows with a non-zero TC are returned.

    Parameters
    ----------
    batch
        Events with hits; ``batch.cell`` is the global id ``module * n_cells + cell``
        (:class:`~hgcal_ae.detector.setups.DetectorSetup`).
    setup
        An 8-inch set-up (``"ld8"`` or ``"hd8"``).
    layers
        Layer numbers to keep (e.g. ``range(1, 28, 2)``, the odd CE-E layers that have
        ECON-T links, physics.md section 4), or a (n_layers,) bool mask such as
        :func:`~hgcal_ae.detector.layers.odd_layers`; default every layer.

    Returns
    -------
    ModuleTCs: M rows sorted by (event, layer, module), TC energies in MIP (float64).

    Raises
    ------
    ConfigError
        If the set-up has no TC map or a layer is not in the stack.
    SchemaError
        If a hit's cell id is outside the set-up's layer (>= ``setup.cells_per_layer``) or
        its layer is not in the stack.
    """
    tc_map = trigger_cell_map(setup.lattice.name)
    keep = _layer_choice(layers, setup)
    cell, n_layers = batch.cell, setup.stack.n_layers
    bad = (cell < -1) | (cell >= setup.cells_per_layer)
    if bad.any():
        msg = f"hit field 'cell' has id {int(cell[np.argmax(bad)])}, expected -1 or 0..{setup.cells_per_layer - 1} for geometry {setup.name!r}"
        raise SchemaError(msg)
    if batch.n_hits and (batch.layer.min() < 1 or batch.layer.max() > n_layers):
        msg = f"hit field 'layer' runs {int(batch.layer.min())}..{int(batch.layer.max())}, expected 1..{n_layers}"
        raise SchemaError(msg)
    hit = cell >= 0
    if keep is not None:
        hit &= np.isin(batch.layer, keep)
    event = batch.event_index_of_hits()[hit]
    layer = batch.layer[hit].astype(np.int64)
    module, local = np.divmod(cell[hit], tc_map.n_cells)
    n_modules = setup.tiling.n_modules
    layer_span = n_layers + 1
    key = (event * layer_span + layer) * n_modules + module
    rows, row_of_hit = np.unique(key, return_inverse=True)
    flat = row_of_hit * N_TRIGGER_CELLS + tc_map.tc_of_cell[local]
    energy = batch.energy_mip[hit].astype(np.float64)
    tc = np.bincount(flat, weights=energy, minlength=rows.size * N_TRIGGER_CELLS).reshape(
        -1, N_TRIGGER_CELLS
    )
    nonzero = (tc != 0).any(axis=1)
    rows, tc = rows[nonzero], tc[nonzero]
    event_layer, module_out = np.divmod(rows, n_modules)
    event_out, layer_out = np.divmod(event_layer, layer_span)
    return ModuleTCs(
        event=event_out.astype(np.int64),
        layer=layer_out.astype(np.int64),
        module=module_out.astype(np.int64),
        tc=tc,
    )
