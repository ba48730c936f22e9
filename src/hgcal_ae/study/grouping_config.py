"""The settings of the trigger-cell grouping study: showers to simulate, granularities to compare.

Public API::

    GroupingConfig(energies_gev=(20, 50, 100, 200), events_per_energy=200, seed=0, ...)
    GEOMETRY                          # "hd8": 12 x 12-cell rhombi, divisible by 2 and by 3
    GRANULARITIES                     # {"cells": 1, "tc2x2": 2, "tc3x3": 3}: k on hd8
    REFERENCE                         # "cells": what the other granularities are compared with

The study itself is :func:`hgcal_ae.study.grouping.grouping_study`, its result
:class:`hgcal_ae.study.grouping_result.GroupingResult`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from hgcal_ae.errors import ConfigError
from hgcal_ae.simulation import digitisation as digi
from hgcal_ae.simulation.showers import PARTICLES
from hgcal_ae.study.showers import HALF_WAFER_CM, TriggerDatasetConfig

__all__ = ["GEOMETRY", "GRANULARITIES", "REFERENCE", "GroupingConfig"]

GEOMETRY = "hd8"  #: the study's set-up: 12 x 12-cell rhombi, divisible by both 2 and 3
#: Granularity name -> unit side k in cells (k = 1: the cells themselves, the reference).
GRANULARITIES: dict[str, int] = {"cells": 1, "tc2x2": 2, "tc3x3": 3}
REFERENCE = "cells"


def _bad(name: str, value: object, expected: str) -> ConfigError:
    return ConfigError(f"GroupingConfig field {name!r}: expected {expected}, got {value!r}")


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    ok = isinstance(value, int | float | np.integer | np.floating)
    return ok and not isinstance(value, bool) and math.isfinite(float(value))  # type: ignore[arg-type]


@dataclass(frozen=True)
class GroupingConfig:
    """What to simulate for the grouping study; every field is checked on construction.

    Attributes
    ----------
    energies_gev
        Beam energies [GeV], a non-empty tuple of numbers > 0 (nominal H2 energies are listed
        in physics.md §2.1).
    events_per_energy
        Showers per energy, >= 1.
    seed
        Seed of the random streams, >= 0: same config, same result.
    particle
        ``"e+"``, ``"e-"`` or ``"gamma"``.
    position_range_cm, angle_max_rad
        Impact points uniform in a disc of this radius around the central wafer [cm], angles
        uniform in +-``angle_max_rad`` (< 1) [rad] (as :class:`TriggerDatasetConfig`).
    occupancy
        ``"signal"`` (cells with a true deposit only) or ``"noise"`` (also noise-only cells
        of every wafer of the kept layers), as :class:`TriggerDatasetConfig`.
    noise_mip, threshold_mip
        Cell noise sigma and hit threshold [MIP] (physics.md §2.2); ``threshold_mip`` is also
        the occupancy threshold of every unit.
    """

    energies_gev: tuple[float, ...] = (20.0, 50.0, 100.0, 200.0)
    events_per_energy: int = 200
    seed: int = 0
    particle: str = "e+"
    position_range_cm: float = HALF_WAFER_CM
    angle_max_rad: float = 0.1
    occupancy: str = "signal"
    noise_mip: float = digi.DEFAULT_NOISE_MIP
    threshold_mip: float = digi.DEFAULT_THRESHOLD_MIP

    def __post_init__(self) -> None:
        try:  # a string is iterable too: "25" must not become (2.0, 5.0)
            energies = (
                ()
                if isinstance(self.energies_gev, str | bytes)
                else tuple(float(e) for e in self.energies_gev)
            )
        except (TypeError, ValueError):
            energies = ()
        if not energies or not all(math.isfinite(e) and e > 0 for e in energies):
            raise _bad("energies_gev", self.energies_gev, "a non-empty tuple of energies > 0")
        if len(set(energies)) != len(energies):
            raise _bad("energies_gev", self.energies_gev, "distinct energies")
        object.__setattr__(self, "energies_gev", energies)
        for name, lowest in (("events_per_energy", 1), ("seed", 0)):
            value = getattr(self, name)
            if not _is_int(value) or value < lowest:
                raise _bad(name, value, f"an integer >= {lowest}")
            object.__setattr__(self, name, int(value))
        if self.particle not in PARTICLES:
            raise _bad("particle", self.particle, f"one of {tuple(PARTICLES)}")
        if self.occupancy not in ("signal", "noise"):
            raise _bad("occupancy", self.occupancy, "one of ('signal', 'noise')")
        for name, high in (
            ("position_range_cm", math.inf),
            ("angle_max_rad", 1.0),
            ("noise_mip", math.inf),
            ("threshold_mip", math.inf),
        ):
            value = getattr(self, name)
            if not (_is_number(value) and 0 <= value < high):
                raise _bad(name, value, f"a finite number >= 0 and < {high}")
            object.__setattr__(self, name, float(value))

    def dataset_config(self) -> TriggerDatasetConfig:
        """The equivalent :class:`TriggerDatasetConfig` (geometry hd8, odd layers)."""
        same = {f.name: getattr(self, f.name) for f in fields(self)}  # every field carries over
        return TriggerDatasetConfig(geometry=GEOMETRY, layers="odd", **same)
