"""Named detector set-ups: a layer stack, the sensor of its layers and how a layer is tiled.

| name | sensor | wafers per layer | use |
|---|---|---|---|
| ``tb2018`` | 6-inch beam-test sensor | 1 (as built in Oct 2018) | validation against the beam test |
| ``tb2018-tiled`` | 6-inch beam-test sensor | 7 (one ring) | showers crossing wafer boundaries |
| ``ld8`` | 8-inch low-density wafer, 192 cells | 7 | trigger studies (2x2 cells per TC) |
| ``hd8`` | 8-inch high-density wafer, 432 cells | 7 | trigger studies (3x3 cells per TC) |

Every set-up uses the 28-layer CE-E stack of the October-2018 prototype (physics.md §1.3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hgcal_ae.detector.hexagons import CellLattice, sensor
from hgcal_ae.detector.layers import LayerStack, ce_e_stack
from hgcal_ae.detector.tiling import Tiling, global_cell_centres, hex_tiling
from hgcal_ae.errors import ConfigError

__all__ = ["GEOMETRIES", "DetectorSetup", "detector_setup"]

# name -> (sensor, rings of wafers around the central one)
GEOMETRIES: dict[str, tuple[str, int]] = {
    "tb2018": ("tb2018_6inch", 0),
    "tb2018-tiled": ("tb2018_6inch", 1),
    "ld8": ("ld8", 1),
    "hd8": ("hd8", 1),
}


@dataclass(frozen=True)
class DetectorSetup:
    """A complete CE-E description: stack, sensor lattice and layer tiling.

    Cells are numbered globally within a layer: ``cell = module * lattice.n_cells + index``.
    """

    name: str
    stack: LayerStack
    lattice: CellLattice
    tiling: Tiling

    @property
    def cells_per_layer(self) -> int:
        return self.tiling.n_modules * self.lattice.n_cells

    def cell_centres(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Centres ``(x_cm, y_cm)`` of every global cell id, each of shape (cells_per_layer,)."""
        x, y = global_cell_centres(self.tiling, self.lattice)
        return x.reshape(-1), y.reshape(-1)

    def describe(self) -> dict[str, object]:
        """The set-up as plain values, for metadata."""
        return {
            "geometry": self.name,
            "sensor": self.lattice.name,
            "wafers_per_layer": self.tiling.n_modules,
            "cells_per_wafer": self.lattice.n_cells,
            "cuw_reading": self.stack.cuw,
            "z_source": self.stack.z_source,
            "n_layers": self.stack.n_layers,
        }


def detector_setup(
    name: str = "tb2018", *, cuw: str = "analysis", z_source: str = "g4"
) -> DetectorSetup:
    """Build the set-up ``name`` (see the module table); :class:`ConfigError` for an unknown one."""
    try:
        sensor_name, rings = GEOMETRIES[name]
    except KeyError:
        msg = f"unknown geometry {name!r}; expected one of {', '.join(GEOMETRIES)}"
        raise ConfigError(msg) from None
    lattice = sensor(sensor_name)
    return DetectorSetup(
        name=name,
        stack=ce_e_stack(cuw=cuw, z_source=z_source),
        lattice=lattice,
        tiling=hex_tiling(lattice, rings),
    )
