"""Detector description: the CE-E layer stack, the sensors' cell lattices, layer tilings.

Submodules: :mod:`~hgcal_ae.detector.layers` (z, X0, dE/dx weights of the 28 CE-E layers),
:mod:`~hgcal_ae.detector.hexagons` (hexagonal cells of the 6-inch beam-test and 8-inch
final-design wafers), :mod:`~hgcal_ae.detector.tiling` (several wafers per layer).

``hexagons.locate`` is exported as :func:`locate`, ``tiling.locate`` as
:func:`locate_in_tiling`.
"""

from __future__ import annotations

from hgcal_ae.detector.hexagons import (
    SENSOR_NAMES,
    CellLattice,
    in_wafer,
    locate,
    neighbours,
    sensor,
)
from hgcal_ae.detector.layers import (
    CUW_READINGS,
    MIP_KEV_300UM,
    N_LAYERS,
    Z_SOURCES,
    LayerStack,
    ce_e_stack,
    gev_per_mip,
    odd_layers,
)
from hgcal_ae.detector.tiling import (
    SENSOR_SEPARATION_CM,
    Tiling,
    global_cell_centres,
    hex_tiling,
)
from hgcal_ae.detector.tiling import locate as locate_in_tiling

__all__ = [
    "CUW_READINGS",
    "MIP_KEV_300UM",
    "N_LAYERS",
    "SENSOR_NAMES",
    "SENSOR_SEPARATION_CM",
    "Z_SOURCES",
    "CellLattice",
    "LayerStack",
    "Tiling",
    "ce_e_stack",
    "gev_per_mip",
    "global_cell_centres",
    "hex_tiling",
    "in_wafer",
    "locate",
    "locate_in_tiling",
    "neighbours",
    "odd_layers",
    "sensor",
]
