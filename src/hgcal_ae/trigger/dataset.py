"""Trigger-cell datasets for the compression study: simulated showers as rows of 48 TCs.

Public API::

    TriggerDatasetConfig(geometry="ld8", energies_gev=(20, 50, 100, 200), layers="odd", ...)
    make_trigger_dataset(config, path, *, batch_events=None, on_batch=None) -> dict
    read_trigger_dataset(path, start=None, stop=None) -> (TriggerData, metadata)
    split_rows(row_event, fractions=(0.8, 0.1, 0.1), *, seed=0) -> (train, validation, test)
    tc_lsb_mip(sensor) -> float        # ECON-T 4E3M input LSB [MIP]: 2/45 (LD), 8/45 (HD)

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

On disk, **schema version 1** of ``hgcal-ae/trigger-cells`` (chunked, gzip, resizable)::

    /  attrs: schema, schema_version = 1, hgcal_ae_version, metadata = "<JSON>"
    /modules/event   int64   (M,)      global event index; rows sorted by event, layer, module
    /modules/layer   int16   (M,)      CE-E layer 1..28
    /modules/module  int16   (M,)      wafer index within the layer (0 = central)
    /modules/tc      float32 (M, 48)   TC charges [MIP], chunks (4096, 48)
    /events/event_id (int64), pdg (int32), true_energy_gev, true_x_cm, true_y_cm,
            angle_x_rad, angle_y_rad, cell_energy_gev_total (float64)   (n_events,)
    /events/module_offsets  int64  (n_events + 1,)   rows of event i: [offsets[i], offsets[i+1])

``cell_energy_gev_total`` [GeV] is Σ E_MIP · gev_per_mip(w_L) over all hits of the selected
layers, the uncompressed reference; with ``layers="odd"`` it is about half the shower energy,
since each dE/dx weight covers one layer's slab only.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields, replace
from functools import cache
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import numpy.typing as npt

import hgcal_ae
from hgcal_ae.atomic import atomic_path, jsonable
from hgcal_ae.datasets.events import EVENT_FIELDS, HIT_FIELDS, EventBatch
from hgcal_ae.detector.hexagons import sensor
from hgcal_ae.detector.layers import odd_layers
from hgcal_ae.errors import ConfigError, DataError, SchemaError
from hgcal_ae.simulation import digitisation as digi
from hgcal_ae.simulation.run import CROSSINGS_PER_BATCH, CROSSINGS_PER_GEV, shower_model
from hgcal_ae.simulation.showers import (
    PARTICLES,
    BeamConfig,
    CellDeposits,
    ShowerModel,
    simulate_deposits,
)
from hgcal_ae.trigger.cells import N_TRIGGER_CELLS, module_trigger_cells

__all__ = ["SCHEMA", "SCHEMA_VERSION", "TriggerData", "TriggerDatasetConfig"]
__all__ += ["make_trigger_dataset", "read_trigger_dataset", "split_rows", "tc_lsb_mip"]

SCHEMA = "hgcal-ae/trigger-cells"
SCHEMA_VERSION = 1
ADC_PER_MIP = 45.0  # high gain 0.0222222 MIP per ADC, [TB] calibration file (physics.md §2.2)
_DROPPED_LSBS = {"ld8": 1, "hd8": 3}  # HGCROC truncation before 4E3M (econt.md §2, physics.md §4)
HALF_WAFER_CM = sensor("ld8").wafer_flat_to_flat_cm / 2  # 8.372 cm, same for both 8-inch wafers
_F64, _I64, _I16 = np.dtype(np.float64), np.dtype(np.int64), np.dtype(np.int16)
_EVENTS = {"event_id": _I64, "pdg": np.dtype(np.int32)} | {
    name: _F64
    for name in ("true_energy_gev", "true_x_cm", "true_y_cm", "angle_x_rad", "angle_y_rad")
}
_EVENTS["cell_energy_gev_total"] = _F64
_MODULES = {"event": _I64, "layer": _I16, "module": _I16}
_CHUNK = 4096
_COMPRESSION: dict[str, Any] = {"compression": "gzip", "compression_opts": 4, "shuffle": True}
_CHOICES = {"geometry": ("ld8", "hd8"), "particle": tuple(PARTICLES), "layers": ("odd", "all")}
_CHOICES["occupancy"] = ("signal", "noise", "pileup")
_INTEGERS = {"events_per_energy": 1, "events_per_group": 1, "seed": 0}  # field: lowest value
_NUMBERS = dict.fromkeys(("position_range_cm", "noise_mip", "threshold_mip"), math.inf)
_NUMBERS |= dict.fromkeys(
    ("pileup_hits_per_module", "pileup_mean_mip", "group_spread_cm"), math.inf
)
_NUMBERS["angle_max_rad"] = 1.0  # field: upper bound (excluded); all are >= 0
_POSITIVE = ("pileup_mean_mip",)


def tc_lsb_mip(sensor_name: str) -> float:
    """LSB of the ECON-T 4E3M TC input [MIP]: 2^dropped / 45 ADC per MIP (2/45 LD, 8/45 HD)."""
    if sensor_name not in _DROPPED_LSBS:
        msg = f"unknown sensor {sensor_name!r}; expected one of 'ld8', 'hd8'"
        raise ConfigError(msg)
    return 2 ** _DROPPED_LSBS[sensor_name] / ADC_PER_MIP


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

    def __post_init__(self) -> None:
        for name, choices in _CHOICES.items():
            if getattr(self, name) not in choices:
                raise _bad(name, getattr(self, name), f"one of {choices}")
        try:
            energies = tuple(float(e) for e in self.energies_gev)
        except (TypeError, ValueError):
            energies = ()
        if not energies or not all(math.isfinite(e) and e > 0 for e in energies):
            raise _bad("energies_gev", self.energies_gev, "a non-empty tuple of energies > 0")
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

    def layer_numbers(self) -> npt.NDArray[np.int64]:
        """The selected CE-E layers: 1, 3, ..., 27 (``"odd"``, physics.md §4) or 1..28."""
        stack = _model(self.geometry).setup.stack
        return stack.layer[odd_layers(stack)] if self.layers == "odd" else stack.layer.copy()


@cache
def _model(geometry: str) -> ShowerModel:
    return shower_model(geometry)


def _group_deposits(
    config: TriggerDatasetConfig, energy: float, n_events: int, rng: np.random.Generator
) -> CellDeposits:
    """Showers at random points and angles, one beam per group, joined into one batch."""
    model, size = _model(config.geometry), config.events_per_group
    n_groups = -(-n_events // size)
    radius = config.position_range_cm * np.sqrt(rng.random(n_groups))
    phi = 2.0 * np.pi * rng.random(n_groups)
    angle = rng.uniform(-config.angle_max_rad, config.angle_max_rad, (2, n_groups))
    parts = []
    for g in range(n_groups):
        x, y = radius[g] * np.cos(phi[g]), radius[g] * np.sin(phi[g])
        beam = BeamConfig(config.particle, energy, 0.0, float(x), float(y), config.group_spread_cm)
        beam = replace(beam, angle_x_rad=float(angle[0, g]), angle_y_rad=float(angle[1, g]))
        parts.append(simulate_deposits(beam, min(size, n_events - g * size), model, rng))
    per_event = model.setup.stack.n_layers * model.setup.cells_per_layer
    shifts = np.arange(n_groups) * size * per_event
    columns = {
        f.name: np.concatenate([getattr(p, f.name) for p in parts])
        for f in fields(CellDeposits)
        if f.name not in ("key", "n_crossings")
    }
    key = np.concatenate([p.key + s for p, s in zip(parts, shifts, strict=True)])
    return CellDeposits(key=key, n_crossings=sum(p.n_crossings for p in parts), **columns)


def _add_pileup(
    deposits: CellDeposits, config: TriggerDatasetConfig, layers: npt.NDArray[np.int64],
    rng: np.random.Generator,
) -> CellDeposits:  # fmt: skip
    """Toy pile-up: Poisson deposits per (event, selected layer, module), exponential energies."""
    setup = _model(config.geometry).setup
    n_cells = setup.lattice.n_cells
    shape = (len(deposits.energy_gev), len(layers), setup.tiling.n_modules)
    counts = rng.poisson(config.pileup_hits_per_module, shape).reshape(-1)
    event, layer, module = np.repeat(np.indices(shape).reshape(3, -1), counts, axis=1)
    cell = module * n_cells + rng.integers(0, n_cells, counts.sum())
    key = (event * setup.stack.n_layers + layers[layer] - 1) * setup.cells_per_layer + cell
    energy = rng.exponential(config.pileup_mean_mip, counts.sum())
    keys, inverse = np.unique(np.concatenate([deposits.key, key]), return_inverse=True)
    summed = np.bincount(inverse, weights=np.concatenate([deposits.energy_mip, energy]))
    return replace(deposits, key=keys, energy_mip=summed)


def _simulate_batch(
    config: TriggerDatasetConfig, energy: float, n_events: int, first_event_id: int,
    layers: npt.NDArray[np.int64], rng: np.random.Generator,
) -> EventBatch:  # fmt: skip
    """One digitised batch with the hits of ``layers`` only (and, for "signal", no noise-only)."""
    model = _model(config.geometry)
    deposits = _group_deposits(config, energy, n_events, rng)
    if config.occupancy == "pileup":
        deposits = _add_pileup(deposits, config, layers, rng)
    pdg, noise, threshold = PARTICLES[config.particle], config.noise_mip, config.threshold_mip
    batch = digi.digitise(
        deposits, model, rng, pdg=pdg, first_event_id=first_event_id, noise_mip=noise,
        threshold_mip=threshold,
    )  # fmt: skip
    event = batch.event_index_of_hits()
    keep = np.isin(batch.layer, layers)
    if config.occupancy == "signal":  # only cells with a true deposit
        group = event * model.setup.stack.n_layers + batch.layer.astype(np.int64) - 1
        key = group * model.setup.cells_per_layer + batch.cell
        found = np.append(deposits.key, -1)[np.searchsorted(deposits.key, key)]
        keep &= found == key
    offsets = np.concatenate([[0], np.cumsum(np.bincount(event[keep], minlength=n_events))])
    columns = {name: getattr(batch, name) for name in EVENT_FIELDS}
    columns |= {name: getattr(batch, name)[keep] for name in HIT_FIELDS}
    return EventBatch(hit_offsets=offsets, **columns)


def _append(dataset: h5py.Dataset, values: npt.ArrayLike, at: int) -> None:
    values = np.asarray(values)
    dataset.resize((at + len(values), *dataset.shape[1:]))
    dataset[at:] = values


def _create_datasets(h5: h5py.File) -> dict[str, h5py.Dataset]:
    layout = {f"events/{name}": (dtype, ()) for name, dtype in _EVENTS.items()}
    layout |= {f"modules/{name}": (dtype, ()) for name, dtype in _MODULES.items()}
    layout |= {"modules/tc": (np.dtype(np.float32), (N_TRIGGER_CELLS,))}
    datasets = {}
    for name, (dtype, width) in layout.items():
        options = {"maxshape": (None, *width), "chunks": (_CHUNK, *width), **_COMPRESSION}
        datasets[name.split("/")[1]] = h5.create_dataset(name, (0, *width), dtype, **options)
    offsets = np.zeros(1, np.int64)  # events/module_offsets starts at row 0
    options = {"maxshape": (None,), "chunks": (_CHUNK,), **_COMPRESSION}
    datasets["module_offsets"] = h5.create_dataset("events/module_offsets", data=offsets, **options)
    return datasets


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
    metadata: dict[str, Any] = {
        "generator": "hgcal-ae parameterised EM showers, digitised, 48 TCs per module",
        "hgcal_ae_version": hgcal_ae.__version__,
        "config": asdict(config),
        "detector": setup.describe(),
        "trigger_cell_map": {"sensor": setup.lattice.name, "n_tc": N_TRIGGER_CELLS},
        "layers": layers.tolist(),
        "units": {"tc": "MIP", "cell_energy_gev_total": "GeV"},
        "tc_lsb_mip": tc_lsb_mip(setup.lattice.name),
        "tc_lsb_note": "TC charges are in MIP; ECON-T 4E3M codes use tc_lsb_mip = 2^k/45 MIP "
        "(45 ADC per MIP, physics.md 2.2; HGCROC drops k = 1 (LD) / 3 (HD) LSBs, econt.md 2)",
        "occupancy_note": {
            "signal": "cells with a true shower deposit only",
            "noise": "plus noise-only cells of every wafer",
            "pileup": "plus noise and a pile-up-LIKE TOY (Poisson cells, exponential MIP); "
            "not CMS pile-up",
        }[config.occupancy],
    }
    total, done, rows = len(config.energies_gev) * config.events_per_energy, 0, 0
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as h5:
        h5.attrs.update({"schema": SCHEMA, "schema_version": SCHEMA_VERSION})
        h5.attrs["hgcal_ae_version"] = hgcal_ae.__version__
        ds = _create_datasets(h5)
        for energy in config.energies_gev:
            stream = [config.seed, PARTICLES[config.particle] % 1000, round(energy * 1000)]
            rng = np.random.default_rng(stream)
            step = batch_events or max(1, int(CROSSINGS_PER_BATCH / (CROSSINGS_PER_GEV * energy)))
            for first in range(0, config.events_per_energy, step):
                n = min(step, config.events_per_energy - first)
                batch = _simulate_batch(config, energy, n, done, layers, rng)
                tcs = module_trigger_cells(batch, setup, layers=layers)
                columns = {name: getattr(batch, name) for name in EVENT_FIELDS}
                total_gev = digi.reconstruct_energy(batch, setup.stack.dedx_weight_mev)
                columns |= {"cell_energy_gev_total": total_gev, "event": tcs.event + done}
                columns |= {"layer": tcs.layer, "module": tcs.module, "tc": tcs.tc}
                for name, values in columns.items():
                    _append(ds[name], values, done if name in _EVENTS else rows)
                per_event = np.bincount(tcs.event, minlength=n)
                _append(ds["module_offsets"], rows + np.cumsum(per_event), done + 1)
                done, rows = done + n, rows + tcs.n_rows
                if on_batch is not None:
                    on_batch(done, total)
        metadata |= {"n_events": done, "n_rows": rows}
        h5.attrs["metadata"] = json.dumps(metadata, sort_keys=True, default=jsonable)
    return {**metadata, "path": str(Path(path))}


@dataclass(frozen=True, eq=False)
class TriggerData:
    """Module rows (shape (M,); ``tc`` (M, 48) [MIP]) and per-event arrays (n_events,).

    ``event`` keeps the file's global event index; ``module_offsets`` (n_events + 1,) is
    rebased to this slice: the rows of the i-th event here are ``[offsets[i], offsets[i+1])``.
    """

    event: npt.NDArray[np.int64]
    layer: npt.NDArray[np.int16]
    module: npt.NDArray[np.int16]
    tc: npt.NDArray[np.float32]
    event_id: npt.NDArray[np.int64]
    pdg: npt.NDArray[np.int32]
    true_energy_gev: npt.NDArray[np.float64]
    true_x_cm: npt.NDArray[np.float64]
    true_y_cm: npt.NDArray[np.float64]
    angle_x_rad: npt.NDArray[np.float64]
    angle_y_rad: npt.NDArray[np.float64]
    cell_energy_gev_total: npt.NDArray[np.float64]
    module_offsets: npt.NDArray[np.int64]

    @property
    def n_events(self) -> int:
        return int(self.event_id.shape[0])

    @property
    def n_rows(self) -> int:
        return int(self.tc.shape[0])

    def event_index_of_rows(self) -> npt.NDArray[np.int64]:
        """0-based index (within this slice) of the event of each row, shape (M,)."""
        return np.repeat(np.arange(self.n_events, dtype=np.int64), np.diff(self.module_offsets))


def _check_schema(h5: h5py.File, where: str) -> tuple[int, int]:
    """Check attributes, datasets and shapes (no data read); return (n_events, n_rows)."""
    expected = f"expected schema {SCHEMA!r} v{SCHEMA_VERSION}"
    for attr in ("schema", "schema_version", "metadata"):
        if attr not in h5.attrs:
            raise SchemaError(f"{where} has no attribute {attr!r} ({expected})")
    if h5.attrs["schema"] != SCHEMA or h5.attrs["schema_version"] not in range(1, 2):
        msg = (
            f"{where} has schema {h5.attrs['schema']!r} v{h5.attrs['schema_version']!r}, {expected}"
        )
        raise SchemaError(msg)
    names = [f"events/{n}" for n in (*_EVENTS, "module_offsets")]
    items = {
        name: h5.get(name) for name in (*names, *(f"modules/{n}" for n in _MODULES), "modules/tc")
    }
    for name, item in items.items():
        if not isinstance(item, h5py.Dataset):
            raise SchemaError(f"{where} has no dataset {name!r} ({expected})")
    n_events, n_rows = items["events/event_id"].shape[0], items["modules/tc"].shape[0]
    for name, item in items.items():
        shape = (n_events,) if name.startswith("events/") else (n_rows,)
        shape = {"modules/tc": (n_rows, N_TRIGGER_CELLS), names[-1]: (n_events + 1,)}.get(
            name, shape
        )
        if item.shape != shape:
            msg = f"{where}: dataset {name!r} has shape {item.shape}, expected {shape}"
            raise SchemaError(msg)
    return int(n_events), int(n_rows)


def read_trigger_dataset(
    path: str | os.PathLike[str], start: int | None = None, stop: int | None = None
) -> tuple[TriggerData, dict[str, Any]]:
    """Read events ``start:stop`` (slice rules), their module rows, and the metadata dict.

    Raises
    ------
    DataError
        If the file is missing, not HDF5, truncated or corrupt.
    SchemaError
        If an attribute or dataset is missing or has the wrong shape (named in the message).
    """
    where = f"trigger-cell file {str(path)!r}"
    try:
        h5 = h5py.File(path, "r")
    except FileNotFoundError as exc:
        raise DataError(f"{where} does not exist") from exc
    except OSError as exc:
        msg = f"{where} is not a readable HDF5 file ({exc}); it may be truncated — write it again"
        raise DataError(msg) from exc
    with h5:
        try:
            n_events, n_rows = _check_schema(h5, where)
            first, last, _ = slice(start, stop).indices(n_events)
            last = max(first, last)
            all_offsets = h5["events/module_offsets"]
            offsets = all_offsets[first : last + 1]
            ends = int(all_offsets[0]), int(all_offsets[-1])
            if ends != (0, n_rows) or np.any(np.diff(offsets) < 0):
                msg = f"{where}: dataset 'events/module_offsets' must rise from 0 to {n_rows}, got {ends[0]}..{ends[1]}"
                raise SchemaError(msg)
            r0, r1 = int(offsets[0]), int(offsets[-1])
            columns = {name: h5[f"events/{name}"][first:last] for name in _EVENTS}
            columns |= {name: h5[f"modules/{name}"][r0:r1] for name in (*_MODULES, "tc")}
            text = h5.attrs["metadata"]
        except (OSError, KeyError) as exc:
            msg = f"{where} is not a readable HDF5 file ({exc}); it may be truncated or corrupt"
            raise DataError(msg) from exc
    try:
        metadata = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"{where}: attribute 'metadata' is not JSON ({exc})") from exc
    return TriggerData(module_offsets=offsets - r0, **columns), metadata


def split_rows(
    row_event: npt.ArrayLike, fractions: Sequence[float] = (0.8, 0.1, 0.1), *, seed: int = 0
) -> tuple[npt.NDArray[np.int64], ...]:
    """Split rows into train / validation / test (one array per fraction) **by event**.

    The events (not the rows) are shuffled with ``seed`` and cut at the cumulative fractions,
    so all modules of a shower land in the same split: no shower is both trained and tested.

    Parameters
    ----------
    row_event
        Event of each row, shape (n_rows,) (e.g. ``TriggerData.event``).
    fractions
        Non-negative fractions of the events, summing to 1.

    Returns
    -------
    tuple of int64 arrays of row indices, each sorted; together a partition of the rows.
    """
    event = np.asarray(row_event)
    if event.ndim != 1 or not (event.size == 0 or np.issubdtype(event.dtype, np.integer)):
        msg = f"row_event must be 1-D integer event indices, got dtype {event.dtype} and shape {event.shape}"
        raise ConfigError(msg)
    share = np.asarray(fractions, dtype=np.float64)
    if share.ndim != 1 or share.size == 0 or share.min() < 0 or abs(share.sum() - 1) > 1e-9:
        msg = f"fractions must be non-negative and sum to 1, got {tuple(fractions)!r}"
        raise ConfigError(msg)
    events = np.random.default_rng(seed).permutation(np.unique(event))
    cuts = np.round(np.cumsum(share) * events.size).astype(np.int64)
    parts = np.split(events, cuts[:-1])
    return tuple(np.flatnonzero(np.isin(event, part)).astype(np.int64) for part in parts)
