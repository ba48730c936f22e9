"""Shower placement and occupancy: the trigger-cell data of the compression study.

Public API::

    TriggerDatasetConfig(geometry="ld8", energies_gev=(20, 50, 100, 200), layers="odd", ...)
    simulate_showers(config, energy_gev, n_events, rng, *, first_event_id=0) -> EventBatch
    energy_batches(config, batch_events=None) -> iterator of (energy, first, n, rng)
    make_trigger_dataset(config, path, *, batch_events=None, on_batch=None) -> dict

**Impact points and angles.**  A :class:`~hgcal_ae.simulation.showers.BeamConfig` is one
beam, so each batch is split into groups of ``events_per_group`` events.  Each group draws a
point uniformly in a disc of radius ``position_range_cm`` around the centre of the central
wafer and two angles uniformly in ±``angle_max_rad``; its events are simulated with that beam
and a Gaussian spot of ``group_spread_cm``.  Impact points are thus a uniform disc smeared by
``group_spread_cm`` (the stored truth is each event's own point), but **the events of one group
share their direction** and lie close together; ``events_per_group=1`` removes that
correlation for about twice the CPU time.

**Occupancy.**  ``"signal"``: only cells with a true shower deposit (smeared by noise, above
threshold), so only modules with shower energy appear.  ``"noise"``: also the noise-only cells
of every wafer of the selected layers.  ``"pileup"``: as ``"noise"``, plus, in every module of
every selected layer, Poisson(``pileup_hits_per_module``) deposits at random cells with
exponential energies of mean ``pileup_mean_mip``, added before digitisation.  **This is a
pile-up-like toy occupancy, not CMS pile-up** (no minimum-bias physics, timing or η).
``"pu200"``: the shower cells in MIP_T plus pile-up trigger cells parametrised on the published
200-pile-up occupancy (:mod:`hgcal_ae.study.occupancy_pu200`), the showers placed at |η| in
``eta_range`` (within 1.5-3.0), the pile-up scaled by ``pileup_scale`` (1 = 200 pile-up).

``cell_energy_gev_total`` [GeV] is Σ E_MIP · gev_per_mip(w_L) over all hits of the selected
layers, the uncompressed reference; with ``layers="odd"`` it is about half the shower energy,
since each dE/dx weight covers one layer's slab only.

The rows are written with :class:`~hgcal_ae.datasets.trigger_cells.TriggerCellWriter`
(schema ``hgcal-ae/trigger-cells`` v1) and read back with
:func:`~hgcal_ae.datasets.trigger_cells.read_trigger_cells` as
:class:`~hgcal_ae.datasets.module_rows.ModuleRows`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

import hgcal_ae
from hgcal_ae.datasets.event_batch import EventBatch
from hgcal_ae.datasets.trigger_cells import TriggerCellWriter
from hgcal_ae.detector.hexagons import sensor
from hgcal_ae.detector.layers import odd_layers
from hgcal_ae.detector.trigger_cells import N_TRIGGER_CELLS
from hgcal_ae.errors import ConfigError
from hgcal_ae.metrics.validation import reconstruct_energy
from hgcal_ae.simulation import digitisation as digi
from hgcal_ae.simulation.run import batch_size, shower_model, simulate_batch
from hgcal_ae.simulation.showers import (
    MAX_ENERGY_GEV,
    PARTICLES,
    BeamConfig,
    CellDeposits,
    ShowerModel,
)
from hgcal_ae.study.occupancy_pu200 import ETA_LIMITS, check_pu200, overlay_pu200
from hgcal_ae.trigger.cells import module_trigger_cells
from hgcal_ae.trigger.formats import tc_lsb_mip

__all__ = [
    "HALF_WAFER_CM",
    "OCCUPANCIES",
    "TriggerDatasetConfig",
    "energy_batches",
    "make_trigger_dataset",
    "simulate_showers",
]

HALF_WAFER_CM = sensor("ld8").wafer_flat_to_flat_cm / 2  # 8.372 cm, same for both 8-inch wafers
OCCUPANCIES = ("signal", "noise", "pileup", "pu200")
_CHOICES = {"geometry": ("ld8", "hd8"), "particle": tuple(PARTICLES), "layers": ("odd", "all")}
_CHOICES["occupancy"] = OCCUPANCIES
_INTEGERS = {"events_per_energy": 1, "events_per_group": 1, "seed": 0}  # field: lowest value
_NUMBERS = dict.fromkeys(("position_range_cm", "noise_mip", "threshold_mip"), math.inf)
_NUMBERS |= dict.fromkeys(
    ("pileup_hits_per_module", "pileup_mean_mip", "group_spread_cm"), math.inf
)
_NUMBERS["angle_max_rad"] = 1.0  # field: upper bound (excluded); all are >= 0
_POSITIVE = ("pileup_mean_mip",)


def _bad(name: str, value: object, expected: str) -> ConfigError:
    return ConfigError(f"TriggerDatasetConfig field {name!r}: expected {expected}, got {value!r}")


@dataclass(frozen=True)
class TriggerDatasetConfig:
    """What to simulate (see the module docstring); every field is checked on construction.

    Energies in GeV, positions in cm, angles in rad, charges in MIP; ``seed`` >= 0.
    """

    geometry: str = "ld8"
    particle: str = "e+"
    energies_gev: tuple[float, ...] = (20.0, 50.0, 100.0, 200.0)
    events_per_energy: int = 1000
    layers: str = "odd"
    position_range_cm: float = HALF_WAFER_CM
    angle_max_rad: float = 0.1
    occupancy: str = "signal"
    pileup_hits_per_module: float = 3.0
    pileup_mean_mip: float = 2.0
    noise_mip: float = digi.DEFAULT_NOISE_MIP
    threshold_mip: float = digi.DEFAULT_THRESHOLD_MIP
    seed: int = 0
    events_per_group: int = 20
    group_spread_cm: float = 1.0
    eta_range: tuple[float, float] = ETA_LIMITS  # pu200: the showers' |η| range
    pileup_scale: float = 1.0  # pu200: 1 = 200 pile-up

    def __post_init__(self) -> None:
        for name, choices in _CHOICES.items():
            if getattr(self, name) not in choices:
                raise _bad(name, getattr(self, name), f"one of {choices}")
        try:
            energies = tuple(float(e) for e in self.energies_gev)
        except (TypeError, ValueError):
            energies = ()
        if not energies or not all(math.isfinite(e) and 0 < e <= MAX_ENERGY_GEV for e in energies):
            expected = f"a non-empty tuple of energies > 0 and <= {MAX_ENERGY_GEV:g} GeV"
            raise _bad("energies_gev", self.energies_gev, expected)
        object.__setattr__(self, "energies_gev", energies)
        for name, lowest in _INTEGERS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < lowest:
                raise _bad(name, value, f"an integer >= {lowest}")
        for name, high in _NUMBERS.items():
            value, low = getattr(self, name), ">" if name in _POSITIVE else ">="
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if not (ok and 0 <= value < high and (value > 0 or low == ">=")):
                raise _bad(name, value, f"a number {low} 0 and < {high}")
        check_pu200(self.eta_range, self.pileup_scale)
        object.__setattr__(self, "eta_range", tuple(float(e) for e in self.eta_range))

    def layer_numbers(self) -> npt.NDArray[np.int64]:
        """The selected CE-E layers: 1, 3, ..., 27 (``"odd"``, physics.md §4) or 1..28."""
        stack = _model(self.geometry).setup.stack
        return stack.layer[odd_layers(stack)] if self.layers == "odd" else stack.layer.copy()


@cache
def _model(geometry: str) -> ShowerModel:
    return shower_model(geometry)


def _groups(
    config: TriggerDatasetConfig, energy: float, n_events: int, rng: np.random.Generator
) -> list[tuple[BeamConfig, int]]:
    """One beam per group of events: a random point in the disc and random angles."""
    size = config.events_per_group
    n_groups = -(-n_events // size)
    radius = config.position_range_cm * np.sqrt(rng.random(n_groups))
    phi = 2.0 * np.pi * rng.random(n_groups)
    angle = rng.uniform(-config.angle_max_rad, config.angle_max_rad, (2, n_groups))
    groups = []
    for g in range(n_groups):  # a few groups per batch: each is one vectorised simulation
        x, y = radius[g] * np.cos(phi[g]), radius[g] * np.sin(phi[g])
        beam = BeamConfig(config.particle, energy, 0.0, float(x), float(y), config.group_spread_cm)
        beam = replace(beam, angle_x_rad=float(angle[0, g]), angle_y_rad=float(angle[1, g]))
        groups.append((beam, min(size, n_events - g * size)))
    return groups


def _toy_pileup(
    config: TriggerDatasetConfig, layers: npt.NDArray[np.int64], rng: np.random.Generator
) -> Callable[[CellDeposits], CellDeposits]:
    """Toy pile-up: Poisson deposits per (event, selected layer, module), exponential energies."""
    setup = _model(config.geometry).setup

    def add(deposits: CellDeposits) -> CellDeposits:
        n_cells = setup.lattice.n_cells
        shape = (len(deposits.energy_gev), len(layers), setup.tiling.n_modules)
        counts = rng.poisson(config.pileup_hits_per_module, shape).reshape(-1)
        event, layer, module = np.repeat(np.indices(shape).reshape(3, -1), counts, axis=1)
        cell = module * n_cells + rng.integers(0, n_cells, counts.sum())
        key = (event * setup.stack.n_layers + layers[layer] - 1) * setup.cells_per_layer + cell
        energy = rng.exponential(config.pileup_mean_mip, counts.sum())
        keys, inverse = np.unique(np.concatenate([deposits.key, key]), return_inverse=True)
        # numpy's stub types bincount as intp even when float weights make it float64
        weights = np.concatenate([deposits.energy_mip, energy])
        summed: npt.NDArray[np.float64] = np.bincount(inverse, weights=weights)  # type: ignore[assignment]
        return replace(deposits, key=keys, energy_mip=summed)

    return add


def simulate_showers(
    config: TriggerDatasetConfig,
    energy_gev: float,
    n_events: int,
    rng: np.random.Generator,
    *,
    first_event_id: int = 0,
) -> EventBatch:
    """One digitised batch of ``config``'s showers at one energy, hits of its layers only."""
    layers = config.layer_numbers()
    pileup = _toy_pileup(config, layers, rng) if config.occupancy == "pileup" else None
    return simulate_batch(
        _groups(config, energy_gev, n_events, rng), _model(config.geometry), rng,
        first_event_id=first_event_id, noise_mip=config.noise_mip,
        threshold_mip=config.threshold_mip, layers=layers,
        signal_only=config.occupancy in ("signal", "pu200"), add_deposits=pileup,
    )  # fmt: skip


def energy_batches(
    config: TriggerDatasetConfig, batch_events: int | None = None
) -> Iterator[tuple[float, int, int, np.random.Generator]]:
    """``(energy, first_event, n_events, rng)`` of every batch, energy after energy.

    Each energy has its own random stream (seed, particle, energy), so the same config and
    ``batch_events`` give the same showers; ``first_event`` counts over all energies.
    """
    first = 0
    for energy in config.energies_gev:
        stream = [config.seed, PARTICLES[config.particle] % 1000, round(energy * 1000)]
        rng = np.random.default_rng(stream)
        step = batch_events or batch_size(energy)
        for start in range(0, config.events_per_energy, step):
            n = min(step, config.events_per_energy - start)
            yield energy, first, n, rng
            first += n


def make_trigger_dataset(
    config: TriggerDatasetConfig,
    path: str | os.PathLike[str],
    *,
    batch_events: int | None = None,
    on_batch: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Simulate ``config`` and stream its module TC rows to ``path`` (schema v1, atomically).

    Each energy has its own random stream (seed, particle, energy): the same config and
    ``batch_events`` write the same arrays.  On any error nothing is left at ``path``.

    Parameters
    ----------
    batch_events
        Events simulated per batch (bounds memory); default about 2 M crossings per batch.
    on_batch
        Called as ``on_batch(events_done, events_total)`` after every batch.

    Returns
    -------
    dict: the metadata written (also ``n_events``, ``n_rows``) plus ``path``.
    """
    if not isinstance(config, TriggerDatasetConfig):
        msg = f"config must be a TriggerDatasetConfig, got {type(config).__name__}"
        raise ConfigError(msg)
    if batch_events is not None and (
        isinstance(batch_events, bool) or not isinstance(batch_events, int) or batch_events < 1
    ):
        msg = f"batch_events must be a positive integer or None, got {batch_events!r}"
        raise ConfigError(msg)
    setup = _model(config.geometry).setup
    layers = config.layer_numbers()
    tc_unit = "MIP_T" if config.occupancy == "pu200" else "MIP"  # econt.md §8: ADC / cosh η
    metadata: dict[str, Any] = {
        "generator": "hgcal-ae parameterised EM showers, digitised, 48 TCs per module",
        "hgcal_ae_version": hgcal_ae.__version__,
        "config": asdict(config),
        "detector": setup.describe(),
        "trigger_cell_map": {"sensor": setup.lattice.name, "n_tc": N_TRIGGER_CELLS},
        "layers": layers.tolist(),
        "units": {"tc": tc_unit, "cell_energy_gev_total": "GeV"},
        "tc_lsb_mip": tc_lsb_mip(setup.lattice.name),
        "tc_lsb_note": "TC charges are in MIP; ECON-T 4E3M codes use tc_lsb_mip = 2^k/45 MIP "
        "(45 ADC per MIP, physics.md 2.2; HGCROC drops k = 1 (LD) / 3 (HD) LSBs, econt.md 2)",
        "occupancy_note": {
            "signal": "cells with a true shower deposit only",
            "noise": "plus noise-only cells of every wafer",
            "pileup": "plus noise and a pile-up-LIKE TOY (Poisson cells, exponential MIP); "
            "not CMS pile-up",
            "pu200": "shower cells in MIP_T plus pile-up TCs parametrised on published 200-PU "
            "occupancy (hgcal_ae.study.occupancy_pu200); not a CMS simulation",
        }[config.occupancy],
    }
    total = len(config.energies_gev) * config.events_per_energy
    with TriggerCellWriter(path, metadata) as writer:
        for energy, first, n, rng in energy_batches(config, batch_events):
            batch = simulate_showers(config, energy, n, rng, first_event_id=first)
            total_gev = reconstruct_energy(batch, setup.stack.dedx_weight_mev)
            rows = module_trigger_cells(batch, setup, layers=layers)
            if config.occupancy == "pu200":
                rows = overlay_pu200(
                    rows, setup, rng, eta_range=config.eta_range,
                    pileup_scale=config.pileup_scale, seed=config.seed,
                )[0]  # fmt: skip
            writer.append(rows.with_truth(cell_energy_gev_total=total_gev))
            if on_batch is not None:
                on_batch(first + n, total)
        counts = {"n_events": writer.n_events, "n_rows": writer.n_rows}
    return {**metadata, **counts, "path": str(Path(path))}
