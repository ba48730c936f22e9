"""The trigger-cell grouping study: cells against 2 x 2- and 3 x 3-cell TC sums, same showers.

Public API::

    GroupingConfig(energies_gev=(20, 50, 100, 200), events_per_energy=200, seed=0, ...)
    GRANULARITIES                     # {"cells": 1, "tc2x2": 2, "tc3x3": 3}: k on hd8
    grouping_study(config, *, on_batch=None) -> GroupingResult
    GroupingResult.rows() / .layer_rows() / .energy_rows() / .to_json()

**Showers.**  Positron (by default) showers on the final-design high-density geometry
``"hd8"`` (7 wafers of 432 cells per layer), simulated and digitised exactly as
:mod:`hgcal_ae.study.showers` does (:func:`~hgcal_ae.study.showers.simulate_showers`: random
impact points in a disc around the central wafer, small random angles, groups of events sharing
a beam, noise and the 0.5 MIP cell threshold of physics.md §2.2), with the same random streams
(seed, particle, energy) and batches as :func:`~hgcal_ae.study.showers.make_trigger_dataset`.  Only the odd
CE-E layers are kept (the ones with ECON-T links, physics.md §4).

**Granularities.**  The digitised cell energies of every (event, layer, module) are summed
into units of k x k cells with :func:`~hgcal_ae.trigger.cells.module_trigger_cells`
(``cells_per_tc_side=k``): k = 1 is the cells themselves (the reference, 432 per module),
k = 2 gives 108 TCs per module, k = 3 the detector's 48.  Unit energies are the exact sums,
not 4E3M-quantised, so only the grouping differs between granularities.

**Measures** (per granularity; per layer, in the shower-maximum window, per event):

* barycentre of a layer: energy-weighted mean of the unit centres (TC centres: area-weighted
  cell centres, :class:`~hgcal_ae.detector.trigger_cells.TriggerCellMap`) over all modules of the
  layer, in the layer frame [cm];
* its residual against the true shower axis at that layer, x_true + tan(angle_x) z_layer
  (the axis :func:`~hgcal_ae.simulation.showers.simulate_deposits` uses), and its shift from
  the cell-level barycentre.  Both are quoted as the **RMS per axis**,
  sqrt(<dx^2 + dy^2> / 2), in mm, over the events with energy in the layer;
* the shower-maximum window of an event is the odd layer with the most cell energy and its
  two odd neighbours (chosen on cells, the same entries for every granularity);
* the event barycentre is the energy-weighted mean of all units of all kept layers, compared
  with the true axis at the same energy-weighted depth (the axis is a straight line);
* width: the energy-weighted RMS radius of a layer's units about their barycentre; its ratio
  to the cell level is mean(width) / mean(width of cells) over the same entries;
* hottest unit: sum over modules of the hottest unit's energy over the sum of the module
  energies (the module-energy-weighted mean of the fraction);
* occupancy: mean number of units >= ``threshold_mip`` per module with energy;
* bits: every unit as a 7-bit 4E3M code, n_units x 7 bits per module per bunch crossing (no
  header), and the e-links that needs, ceil(bits / 32)
  (:func:`~hgcal_ae.trigger.bandwidth.elinks_needed`, econt.md §6).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from hgcal_ae.datasets.event_batch import EventBatch
from hgcal_ae.detector.setups import DetectorSetup, detector_setup
from hgcal_ae.detector.trigger_cells import trigger_cell_map
from hgcal_ae.errors import ConfigError
from hgcal_ae.simulation import digitisation as digi
from hgcal_ae.simulation.showers import PARTICLES
from hgcal_ae.study.showers import (
    HALF_WAFER_CM,
    TriggerDatasetConfig,
    energy_batches,
    simulate_showers,
)
from hgcal_ae.trigger.bandwidth import elinks_needed
from hgcal_ae.trigger.cells import module_trigger_cells
from hgcal_ae.trigger.formats import TC_4E3M

__all__ = ["GEOMETRY", "GRANULARITIES", "GroupingConfig", "GroupingResult", "grouping_study"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

GEOMETRY = "hd8"  #: the study's set-up: 12 x 12-cell rhombi, divisible by both 2 and 3
#: Granularity name -> unit side k in cells (k = 1: the cells themselves, the reference).
GRANULARITIES: dict[str, int] = {"cells": 1, "tc2x2": 2, "tc3x3": 3}
REFERENCE = "cells"
_WINDOW = 1  # shower-maximum window: the hottest odd layer +- this many odd layers
_MM_PER_CM = 10.0
# events per dense (modules, units) block: with noise every module has a row, and k = 1 rows
# hold 432 cells: 64 events x 14 layers x 7 modules x 432 x 8 B = 22 MB
_CHUNK_EVENTS = 64


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
        return TriggerDatasetConfig(
            geometry=GEOMETRY,
            particle=self.particle,
            energies_gev=self.energies_gev,
            events_per_energy=self.events_per_energy,
            layers="odd",
            position_range_cm=self.position_range_cm,
            angle_max_rad=self.angle_max_rad,
            occupancy=self.occupancy,
            noise_mip=self.noise_mip,
            threshold_mip=self.threshold_mip,
            seed=self.seed,
        )


@dataclass
class _Accumulator:
    """Per-granularity sums filled batch by batch."""

    energy: list[FloatArray]  # (n_events_batch, n_layers) per batch
    sum_x: list[FloatArray]
    sum_y: list[FloatArray]
    sum_r2: list[FloatArray]
    module_energy: float = 0.0
    hottest_energy: float = 0.0
    n_modules: int = 0
    n_above: int = 0


def _layer_sums(
    batch: EventBatch, setup: DetectorSetup, layers: IntArray, threshold: float,
    acc: dict[str, _Accumulator],
) -> None:  # fmt: skip
    """Add a batch's per-(event, layer) energy moments and per-module counts, every k."""
    for first in range(0, batch.n_events, _CHUNK_EVENTS):
        chunk = batch.select(np.arange(first, min(first + _CHUNK_EVENTS, batch.n_events)))
        for name, k in GRANULARITIES.items():
            _unit_sums(chunk, setup, layers, k, threshold, acc[name])


def _unit_sums(
    batch: EventBatch, setup: DetectorSetup, layers: IntArray, k: int, threshold: float,
    acc: _Accumulator,
) -> None:  # fmt: skip
    """Sum the hits into k x k-cell units per module, then their moments per (event, layer)."""
    tcs = module_trigger_cells(batch, setup, layers=layers, cells_per_tc_side=k)
    tc_map = trigger_cell_map(setup.lattice.name, k)
    mx, my = setup.tiling.x_cm[tcs.module], setup.tiling.y_cm[tcs.module]
    e = tcs.tc.sum(axis=1)
    ex, ey = tcs.tc @ tc_map.tc_x_cm, tcs.tc @ tc_map.tc_y_cm  # moments in the module frame
    er2 = tcs.tc @ (tc_map.tc_x_cm**2 + tc_map.tc_y_cm**2)
    # shift to the layer frame: sum E |u + M|^2 = sum E |u|^2 + 2 M . sum E u + E |M|^2
    sx, sy = ex + e * mx, ey + e * my
    sr2 = er2 + 2.0 * (mx * ex + my * ey) + e * (mx**2 + my**2)
    n_layers = layers.size
    group = tcs.event * n_layers + np.searchsorted(layers, tcs.layer)
    size = batch.n_events * n_layers
    for out, values in ((acc.energy, e), (acc.sum_x, sx), (acc.sum_y, sy), (acc.sum_r2, sr2)):
        out.append(np.bincount(group, weights=values, minlength=size).reshape(-1, n_layers))
    acc.module_energy += float(e.sum())
    acc.hottest_energy += float(tcs.tc.max(axis=1, initial=0.0).sum())
    acc.n_modules += tcs.n_rows
    acc.n_above += int(np.count_nonzero(tcs.tc >= threshold))


def _rms_per_axis(dx: FloatArray, dy: FloatArray) -> float:
    """sqrt(<dx^2 + dy^2> / 2) over the finite entries [same unit]; nan if none."""
    d2 = dx**2 + dy**2
    d2 = d2[np.isfinite(d2)]
    return float(np.sqrt(d2.mean() / 2.0)) if d2.size else math.nan


def _ratio_of_means(num: FloatArray, den: FloatArray) -> float:
    ok = np.isfinite(num) & np.isfinite(den)
    total = den[ok].sum()
    return float(num[ok].sum() / total) if ok.any() and total > 0 else math.nan


def _plain(value: Any) -> Any:
    """Python floats/ints for JSON: numpy scalars converted, nan and inf as None."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return value


@dataclass(frozen=True, eq=False)
class GroupingResult:
    """Per-event layer quantities of every granularity, and the summaries drawn from them.

    Arrays of shape (n_events, n_layers) are indexed by event (all energies, in the order of
    ``config.energies_gev``) and kept layer (``layers``); the dicts are keyed by granularity
    name (:data:`GRANULARITIES`).  Barycentres and widths are nan where a layer has no energy.

    Attributes
    ----------
    config : GroupingConfig
    layers : numpy.ndarray of int64, shape (n_layers,)
        Kept CE-E layers (the odd ones, 1..27).
    true_energy_gev : numpy.ndarray, shape (n_events,)
        Shower energy [GeV].
    true_x_cm, true_y_cm : numpy.ndarray, shape (n_events, n_layers)
        True shower axis at each layer [cm].
    shower_max : numpy.ndarray of bool, shape (n_events, n_layers)
        The shower-maximum window of each event (from the cells).
    layer_energy_mip, layer_x_cm, layer_y_cm, layer_width_cm : dict of numpy.ndarray
        Per granularity, shape (n_events, n_layers): layer energy [MIP], barycentre [cm],
        RMS radius [cm].
    units_per_module : dict of int
        432 / 108 / 48.
    hottest_fraction, occupancy_per_module : dict of float
        Module-energy-weighted fraction in the hottest unit; mean units >= threshold per
        module with energy.
    n_module_rows : dict of int
        Number of (event, layer, module) with energy.
    """

    config: GroupingConfig
    layers: IntArray
    true_energy_gev: FloatArray
    true_x_cm: FloatArray
    true_y_cm: FloatArray
    shower_max: npt.NDArray[np.bool_]
    layer_energy_mip: dict[str, FloatArray]
    layer_x_cm: dict[str, FloatArray]
    layer_y_cm: dict[str, FloatArray]
    layer_width_cm: dict[str, FloatArray]
    units_per_module: dict[str, int]
    hottest_fraction: dict[str, float]
    occupancy_per_module: dict[str, float]
    n_module_rows: dict[str, int]

    @property
    def granularities(self) -> tuple[str, ...]:
        return tuple(self.layer_energy_mip)

    @property
    def n_events(self) -> int:
        return int(self.true_energy_gev.size)

    def bits_per_module(self, name: str) -> int:
        """Bits per module per bunch crossing to send every unit as 7-bit 4E3M (no header)."""
        return self.units_per_module[name] * TC_4E3M.bits

    def elinks_per_module(self, name: str) -> int:
        """E-links (32 bits per bunch crossing each) for :meth:`bits_per_module`."""
        return int(elinks_needed(self.bits_per_module(name)))

    # -- residuals ---------------------------------------------------------------------------

    def _residual(self, name: str, against: str) -> tuple[FloatArray, FloatArray]:
        """(dx, dy) [cm] of the layer barycentres against the truth or another granularity."""
        if against == "truth":
            ref_x, ref_y = self.true_x_cm, self.true_y_cm
        else:
            ref_x, ref_y = self.layer_x_cm[against], self.layer_y_cm[against]
        return self.layer_x_cm[name] - ref_x, self.layer_y_cm[name] - ref_y

    def _event_residual(
        self, name: str, against: str, events: npt.NDArray[np.bool_] | slice = slice(None)
    ) -> tuple[FloatArray, FloatArray]:
        """(dx, dy) [cm] of the event barycentre (all kept layers) against the reference."""
        e = self.layer_energy_mip[name][events]
        total = e.sum(axis=1)

        def bary(x: FloatArray) -> FloatArray:  # energy-weighted mean over the layers
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(e > 0, x[events] * e, 0.0).sum(axis=1) / total

        if against == "truth":
            ref_x, ref_y = bary(self.true_x_cm), bary(self.true_y_cm)
        else:
            ref_x, ref_y = bary(self.layer_x_cm[against]), bary(self.layer_y_cm[against])
        return bary(self.layer_x_cm[name]) - ref_x, bary(self.layer_y_cm[name]) - ref_y

    def layer_resolution_mm(self, name: str, against: str = "truth") -> FloatArray:
        """RMS per axis [mm] of each layer's barycentre residual, shape (n_layers,).

        ``against`` is ``"truth"`` (the true axis at the layer) or a granularity name (the
        shift from its barycentre, e.g. ``"cells"``).
        """
        dx, dy = self._residual(name, against)
        return np.array([_rms_per_axis(dx[:, i], dy[:, i]) for i in range(self.layers.size)])

    def shower_max_resolution_mm(
        self, name: str, against: str = "truth", energy_gev: float | None = None
    ) -> float:
        """RMS per axis [mm] of the layer residuals in the shower-maximum windows."""
        dx, dy = self._residual(name, against)
        window = self.shower_max & self._events(energy_gev)[:, None]
        return _rms_per_axis(dx[window], dy[window]) * _MM_PER_CM

    def event_resolution_mm(
        self, name: str, against: str = "truth", energy_gev: float | None = None
    ) -> float:
        """RMS per axis [mm] of the event barycentre residual (all kept layers)."""
        dx, dy = self._event_residual(name, against, self._events(energy_gev))
        return _rms_per_axis(dx, dy) * _MM_PER_CM

    def _events(self, energy_gev: float | None) -> npt.NDArray[np.bool_]:
        if energy_gev is None:
            return np.ones(self.n_events, dtype=bool)
        index = np.repeat(np.arange(len(self.config.energies_gev)), self.config.events_per_energy)
        if float(energy_gev) not in self.config.energies_gev:
            msg = f"energy {energy_gev!r} GeV was not simulated; expected one of {self.config.energies_gev}"
            raise ConfigError(msg)
        return index == self.config.energies_gev.index(float(energy_gev))

    # -- widths ------------------------------------------------------------------------------

    def layer_width_ratio(self, name: str) -> FloatArray:
        """mean(width) / mean(width of cells) per layer, shape (n_layers,)."""
        w, ref = self.layer_width_cm[name], self.layer_width_cm[REFERENCE]
        return np.array([_ratio_of_means(w[:, i], ref[:, i]) for i in range(self.layers.size)])

    def shower_max_width_ratio(self, name: str) -> float:
        """mean(width) / mean(width of cells) over the shower-maximum windows."""
        window = self.shower_max
        return _ratio_of_means(
            self.layer_width_cm[name][window], self.layer_width_cm[REFERENCE][window]
        )

    # -- tables ------------------------------------------------------------------------------

    def rows(self) -> list[dict[str, Any]]:
        """One summary row per granularity (plain Python values; nan where undefined)."""
        rows = []
        for name in self.granularities:
            k = GRANULARITIES[name]
            units = self.units_per_module[name]
            rows.append(
                {
                    "granularity": name,
                    "cells_per_unit": k * k,
                    "units_per_module": units,
                    "event_resolution_mm": self.event_resolution_mm(name),
                    "shower_max_resolution_mm": self.shower_max_resolution_mm(name),
                    "event_shift_mm": self.event_resolution_mm(name, REFERENCE),
                    "shower_max_shift_mm": self.shower_max_resolution_mm(name, REFERENCE),
                    "shower_max_width_ratio": self.shower_max_width_ratio(name),
                    "shower_max_width_mm": float(
                        np.nanmean(self.layer_width_cm[name][self.shower_max]) * _MM_PER_CM
                    ),
                    "hottest_fraction": self.hottest_fraction[name],
                    "occupancy_per_module": self.occupancy_per_module[name],
                    "occupancy_fraction": self.occupancy_per_module[name] / units,
                    "total_energy_mip": float(self.layer_energy_mip[name].sum()),
                    "bits_per_module": self.bits_per_module(name),
                    "elinks_per_module": self.elinks_per_module(name),
                }
            )
        return [_plain(row) for row in rows]

    def layer_rows(self) -> list[dict[str, Any]]:
        """One row per (granularity, layer): resolution, shift [mm], width ratio, entries."""
        rows = []
        for name in self.granularities:
            resolution = self.layer_resolution_mm(name) * _MM_PER_CM
            shift = self.layer_resolution_mm(name, REFERENCE) * _MM_PER_CM
            ratio = self.layer_width_ratio(name)
            entries = (self.layer_energy_mip[name] > 0).sum(axis=0)
            for i, layer in enumerate(self.layers):
                rows.append(
                    {
                        "granularity": name,
                        "layer": int(layer),
                        "resolution_mm": resolution[i],
                        "shift_mm": shift[i],
                        "width_ratio": ratio[i],
                        "n_events": int(entries[i]),
                    }
                )
        return [_plain(row) for row in rows]

    def energy_rows(self) -> list[dict[str, Any]]:
        """One row per (granularity, beam energy): event and shower-max resolutions [mm]."""
        rows = [
            {
                "granularity": name,
                "energy_gev": energy,
                "event_resolution_mm": self.event_resolution_mm(name, energy_gev=energy),
                "shower_max_resolution_mm": self.shower_max_resolution_mm(name, energy_gev=energy),
            }
            for name in self.granularities
            for energy in self.config.energies_gev
        ]
        return [_plain(row) for row in rows]

    def to_json(self) -> dict[str, Any]:
        """Everything as plain JSON values (floats, ints, strings, lists; nan as None)."""
        return _plain(
            {
                "geometry": GEOMETRY,
                "config": asdict(self.config),
                "n_events": self.n_events,
                "layers": self.layers.tolist(),
                "units": {
                    "resolution": "mm, RMS per axis",
                    "width": "mm, energy-weighted RMS radius",
                    "energy": "MIP",
                    "bits": "per module per bunch crossing, 7-bit 4E3M per unit, no header",
                },
                "summary": self.rows(),
                "per_layer": self.layer_rows(),
                "per_energy": self.energy_rows(),
            }
        )


def _shower_max_window(energy: FloatArray) -> npt.NDArray[np.bool_]:
    """The hottest layer and +-_WINDOW neighbours of each event, (n_events, n_layers) bool."""
    hottest = np.argmax(energy, axis=1)
    index = np.arange(energy.shape[1])
    return (np.abs(index[None, :] - hottest[:, None]) <= _WINDOW) & (energy.sum(axis=1) > 0)[
        :, None
    ]


def grouping_study(
    config: GroupingConfig, *, on_batch: Callable[[int, int], None] | None = None
) -> GroupingResult:
    """Simulate ``config`` on hd8 and measure cells, 2 x 2- and 3 x 3-cell TCs on it.

    Parameters
    ----------
    config
        What to simulate; the same config gives the same result, array for array.
    on_batch
        Called as ``on_batch(events_done, events_total)`` after every simulated batch.

    Returns
    -------
    GroupingResult
        See the module docstring for the definitions of every measure.
    """
    if not isinstance(config, GroupingConfig):
        msg = f"config must be a GroupingConfig, got {type(config).__name__}"
        raise ConfigError(msg)
    dataset = config.dataset_config()
    setup = detector_setup(GEOMETRY)
    layers = dataset.layer_numbers().astype(np.int64)
    z_cm = setup.stack.z_mm[layers - 1] / _MM_PER_CM
    acc = {name: _Accumulator([], [], [], []) for name in GRANULARITIES}
    truth_fields = ("true_energy_gev", "true_x_cm", "true_y_cm", "angle_x_rad", "angle_y_rad")
    truth: dict[str, list[FloatArray]] = {name: [] for name in truth_fields}
    total = len(config.energies_gev) * config.events_per_energy
    # the random streams and batches of make_trigger_dataset (batch_events=None)
    for energy, first, n, rng in energy_batches(dataset):
        batch = simulate_showers(dataset, energy, n, rng, first_event_id=first)
        for name in truth_fields:
            truth[name].append(np.asarray(getattr(batch, name), dtype=np.float64))
        _layer_sums(batch, setup, layers, config.threshold_mip, acc)
        if on_batch is not None:
            on_batch(first + n, total)
    event = {name: np.concatenate(values) for name, values in truth.items()}
    # the true axis at each layer, as simulate_deposits places it
    true_x = event["true_x_cm"][:, None] + np.tan(event["angle_x_rad"])[:, None] * z_cm
    true_y = event["true_y_cm"][:, None] + np.tan(event["angle_y_rad"])[:, None] * z_cm
    energy, bx, by, width = {}, {}, {}, {}
    for name, a in acc.items():
        e = np.concatenate(a.energy)
        with np.errstate(invalid="ignore", divide="ignore"):
            xm, ym = np.concatenate(a.sum_x) / e, np.concatenate(a.sum_y) / e
            var = np.concatenate(a.sum_r2) / e - xm**2 - ym**2
        ok = e > 0
        energy[name] = e
        bx[name], by[name] = np.where(ok, xm, np.nan), np.where(ok, ym, np.nan)
        width[name] = np.where(ok, np.sqrt(np.clip(var, 0.0, None)), np.nan)
    units = {name: trigger_cell_map(GEOMETRY, k).n_tc for name, k in GRANULARITIES.items()}
    return GroupingResult(
        config=config,
        layers=layers,
        true_energy_gev=event["true_energy_gev"],
        true_x_cm=true_x,
        true_y_cm=true_y,
        shower_max=_shower_max_window(energy[REFERENCE]),
        layer_energy_mip=energy,
        layer_x_cm=bx,
        layer_y_cm=by,
        layer_width_cm=width,
        units_per_module=units,
        hottest_fraction={
            n: a.hottest_energy / a.module_energy if a.module_energy > 0 else math.nan
            for n, a in acc.items()
        },
        occupancy_per_module={
            n: a.n_above / a.n_modules if a.n_modules else math.nan for n, a in acc.items()
        },
        n_module_rows={n: a.n_modules for n, a in acc.items()},
    )
