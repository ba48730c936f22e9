"""The trigger-cell grouping study: cells against 2 x 2- and 3 x 3-cell TC sums, same showers.

Public API::

    grouping_study(config, *, on_batch=None) -> GroupingResult
    GroupingResult.rows() / .layer_rows() / .energy_rows() / .to_json()

The settings (``GroupingConfig``, ``GRANULARITIES``) are
:mod:`hgcal_ae.study.grouping_config`, the result and its summaries
:mod:`hgcal_ae.study.grouping_result`; this module simulates and measures.

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
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hgcal_ae.datasets.event_batch import EventBatch
from hgcal_ae.detector.setups import DetectorSetup, detector_setup
from hgcal_ae.detector.trigger_cells import trigger_cell_map
from hgcal_ae.errors import ConfigError
from hgcal_ae.study.grouping_config import GEOMETRY, GRANULARITIES, REFERENCE, GroupingConfig
from hgcal_ae.study.grouping_result import MM_PER_CM, GroupingResult
from hgcal_ae.study.showers import energy_batches, simulate_showers
from hgcal_ae.trigger.cells import module_trigger_cells

__all__ = ["grouping_study"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_WINDOW = 1  # shower-maximum window: the hottest odd layer +- this many odd layers
# events per dense (modules, units) block: with noise every module has a row, and k = 1 rows
# hold 432 cells: 64 events x 14 layers x 7 modules x 432 x 8 B = 22 MB
_CHUNK_EVENTS = 64


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
        sums = np.bincount(group, weights=values, minlength=size)  # float64: numpy's stub says intp
        out.append(np.asarray(sums, dtype=np.float64).reshape(-1, n_layers))
    acc.module_energy += float(e.sum())
    acc.hottest_energy += float(tcs.tc.max(axis=1, initial=0.0).sum())
    acc.n_modules += tcs.n_rows
    acc.n_above += int(np.count_nonzero(tcs.tc >= threshold))


def _shower_max_window(energy: FloatArray) -> npt.NDArray[np.bool_]:
    """The hottest layer and +-_WINDOW neighbours of each event, (n_events, n_layers) bool."""
    hottest = np.argmax(energy, axis=1)
    index = np.arange(energy.shape[1])
    near = np.abs(index[None, :] - hottest[:, None]) <= _WINDOW
    window: npt.NDArray[np.bool_] = near & (energy.sum(axis=1) > 0)[:, None]
    return window


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
    z_cm = setup.stack.z_mm[layers - 1] / MM_PER_CM
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
    layer_energy: dict[str, FloatArray] = {}
    bx: dict[str, FloatArray] = {}
    by: dict[str, FloatArray] = {}
    width: dict[str, FloatArray] = {}
    for name, a in acc.items():
        e = np.concatenate(a.energy)
        with np.errstate(invalid="ignore", divide="ignore"):
            xm, ym = np.concatenate(a.sum_x) / e, np.concatenate(a.sum_y) / e
            var = np.concatenate(a.sum_r2) / e - xm**2 - ym**2
        ok = e > 0
        layer_energy[name] = e
        bx[name], by[name] = np.where(ok, xm, np.nan), np.where(ok, ym, np.nan)
        width[name] = np.where(ok, np.sqrt(np.clip(var, 0.0, None)), np.nan)
    units = {name: trigger_cell_map(GEOMETRY, k).n_tc for name, k in GRANULARITIES.items()}
    return GroupingResult(
        config=config,
        layers=layers,
        true_energy_gev=event["true_energy_gev"],
        true_x_cm=true_x,
        true_y_cm=true_y,
        shower_max=_shower_max_window(layer_energy[REFERENCE]),
        layer_energy_mip=layer_energy,
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
