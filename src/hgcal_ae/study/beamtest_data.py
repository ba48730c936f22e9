"""Beam-test events as cell arrays and back: the input of the beam-test autoencoders.

Public API::

    BEAMTEST_SENSOR = "tb2018_6inch"
    event_cells(batch, metadata, where) -> (cells (N, 28, 109) [MIP], n_hits_off_sensor)
    cells_to_events(cells, template, threshold_mip, stack) -> EventBatch
    split_events(n_events, fractions, seed) -> (train, validation, test) event indices

An events file (simulated with the ``tb2018`` geometry, or ingested from the 2018 ntuples)
holds hits; the autoencoders read every event as a dense ``(28, 109)`` array of cell
energies on the 6-inch sensor.  Simulated hits carry their cell index; ingested beam-test
hits carry ``cell = -1`` and a position, which :func:`hgcal_ae.detector.hexagons.locate`
turns into a cell (hits on the unmodelled partial edge cells are counted and left out).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from hgcal_ae.datasets.event_batch import EventBatch
from hgcal_ae.datasets.splits import DEFAULT_FRACTIONS, split_rows
from hgcal_ae.detector.hexagons import locate, sensor
from hgcal_ae.detector.layers import N_LAYERS, LayerStack
from hgcal_ae.errors import ConfigError, DataError

__all__ = ["BEAMTEST_SENSOR", "cells_to_events", "event_cells", "split_events"]

BEAMTEST_SENSOR = "tb2018_6inch"
FloatArray = npt.NDArray[np.float64]


def _check_geometry(metadata: Mapping[str, Any], where: str) -> None:
    detector = metadata.get("detector")
    if not isinstance(detector, Mapping):
        return  # ingested beam-test data: no detector description, cells from positions
    name, wafers = detector.get("sensor"), detector.get("wafers_per_layer", 1)
    if name != BEAMTEST_SENSOR or wafers != 1:
        msg = (
            f"{where} holds events of sensor {name!r} with {wafers} wafers per layer "
            f"(geometry {detector.get('geometry')!r}); expected the beam-test sensor "
            f"{BEAMTEST_SENSOR!r}, one per layer (geometry 'tb2018')"
        )
        raise DataError(msg)


def event_cells(
    batch: EventBatch, metadata: Mapping[str, Any], where: str
) -> tuple[FloatArray, int]:
    """The events' cell energies on the beam-test sensor.

    Parameters
    ----------
    batch
        Events with layers 1..28 and hits in MIP.
    metadata
        The events file's metadata (its ``detector`` entry, if any, is checked).
    where
        How to name the events in messages (``"events file 'x.h5'"``).

    Returns
    -------
    cells : numpy.ndarray, shape (n_events, 28, 109) [MIP]
        Energies summed per cell.
    n_off_sensor : int
        Hits whose position lies on no modelled cell (left out).

    Raises
    ------
    DataError
        If the file is of another geometry (an 8-inch sensor, tiled wafers), or a hit has a
        layer outside 1..28 or a cell index outside the sensor.
    """
    _check_geometry(metadata, where)
    lattice = sensor(BEAMTEST_SENSOR)
    layer = batch.layer.astype(np.int64)
    if layer.size and (layer.min() < 1 or layer.max() > N_LAYERS):
        msg = f"{where}: hit layers must be 1..{N_LAYERS}, got {layer.min()}..{layer.max()}"
        raise DataError(msg)
    cell = batch.cell.astype(np.int64)
    if cell.size and cell.max() >= lattice.n_cells:
        msg = (
            f"{where}: cell index {int(cell.max())} is not a cell of the beam-test sensor "
            f"{BEAMTEST_SENSOR!r} (expected 0..{lattice.n_cells - 1}); wrong geometry?"
        )
        raise DataError(msg)
    unknown = cell < 0
    if unknown.any():
        cell = cell.copy()
        cell[unknown] = locate(lattice, batch.x_cm[unknown], batch.y_cm[unknown])
    on = cell >= 0
    event = batch.event_index_of_hits()
    flat = (event[on] * N_LAYERS + layer[on] - 1) * lattice.n_cells + cell[on]
    size = batch.n_events * N_LAYERS * lattice.n_cells
    sums = np.bincount(flat, weights=batch.energy_mip[on].astype(np.float64), minlength=size)
    cells = np.asarray(sums, dtype=np.float64).reshape(batch.n_events, N_LAYERS, lattice.n_cells)
    return cells, int((~on).sum())


def cells_to_events(
    cells: npt.ArrayLike, template: EventBatch, threshold_mip: float, stack: LayerStack
) -> EventBatch:
    """Cell energies as an event batch: one hit per cell with energy > 0 and >= ``threshold_mip``.

    The per-event fields (energy, truth) come from ``template`` (the original events);
    hit positions are the cell centres and the layer's z.  This is how decoded events are
    read out: the same threshold as the digitisation (0.5 MIP) removes the decoder's faint
    tails, as it removes noise in the originals.
    """
    arr = np.asarray(cells, dtype=np.float64)
    lattice = sensor(BEAMTEST_SENSOR)
    if (
        arr.ndim != 3
        or arr.shape[1:] != (N_LAYERS, lattice.n_cells)
        or len(arr) != template.n_events
    ):
        msg = f"cells must have shape ({template.n_events}, {N_LAYERS}, {lattice.n_cells}), got {arr.shape}"
        raise ConfigError(msg)
    event, layer, cell = np.nonzero((arr > 0) & (arr >= threshold_mip))  # C order: by event
    counts = np.bincount(event, minlength=template.n_events)
    return EventBatch(
        event_id=template.event_id,
        pdg=template.pdg,
        true_energy_gev=template.true_energy_gev,
        true_x_cm=template.true_x_cm,
        true_y_cm=template.true_y_cm,
        angle_x_rad=template.angle_x_rad,
        angle_y_rad=template.angle_y_rad,
        hit_offsets=np.concatenate([[0], np.cumsum(counts)]),
        layer=(layer + 1).astype(np.int16),
        cell=cell.astype(np.int64),
        x_cm=lattice.x_cm[cell].astype(np.float32),
        y_cm=lattice.y_cm[cell].astype(np.float32),
        z_cm=(stack.z_mm[layer] / 10.0).astype(np.float32),
        energy_mip=arr[event, layer, cell].astype(np.float32),
    )


def split_events(
    n_events: int, fractions: Sequence[float] = DEFAULT_FRACTIONS, *, seed: int = 0
) -> tuple[npt.NDArray[np.int64], ...]:
    """Train / validation / test event indices by the package's one split rule.

    Raises
    ------
    ConfigError
        If a split would hold no event ("fewer events than one per split").
    """
    parts = split_rows(np.arange(n_events, dtype=np.int64), fractions, seed=seed)
    names = ("training", "validation", "test")
    for name, part in zip(names, parts, strict=False):
        if part.size == 0:
            msg = (
                f"{n_events} events give no {name} event with split fractions "
                f"{tuple(fractions)}; expected enough events for at least one per split"
            )
            raise ConfigError(msg)
    return parts
