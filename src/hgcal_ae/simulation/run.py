"""Simulating showers: one digitised batch (:func:`simulate_batch`), or an events file.

Public API::

    shower_model(geometry="tb2018", *, cuw="analysis", medium="W75Cu25") -> ShowerModel
    simulate_batch(groups, model, rng, *, first_event_id=0, noise_mip=1/6, threshold_mip=0.5,
                   layers=None, signal_only=False, add_deposits=None) -> EventBatch
    simulate_to_file(path, beam, n_events, *, geometry="tb2018", seed=0, ...) -> dict
    batch_size(energy_gev) -> int        # events per batch that bound a batch's memory
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hgcal_ae import __version__
from hgcal_ae.datasets.event_batch import EVENT_FIELDS, HIT_FIELDS, EventBatch
from hgcal_ae.datasets.events import EventWriter
from hgcal_ae.detector.setups import detector_setup
from hgcal_ae.errors import ConfigError
from hgcal_ae.simulation.digitisation import DEFAULT_NOISE_MIP, DEFAULT_THRESHOLD_MIP, digitise
from hgcal_ae.simulation.medium import tb2018_medium
from hgcal_ae.simulation.showers import BeamConfig, CellDeposits, ShowerModel, simulate_deposits

__all__ = [
    "CROSSINGS_PER_BATCH",
    "CROSSINGS_PER_GEV",
    "batch_size",
    "shower_model",
    "simulate_batch",
    "simulate_to_file",
]

CROSSINGS_PER_BATCH = 2_000_000  # bounds the memory of one batch (about 200 MB of temporaries)
CROSSINGS_PER_GEV = 70  # about 66 silicon crossings per GeV in the 2018 CE-E (measured)


def shower_model(
    geometry: str = "tb2018", *, cuw: str = "analysis", medium: str = "W75Cu25"
) -> ShowerModel:
    """The detector set-up ``geometry`` with the effective medium of the CuW reading ``medium``."""
    return ShowerModel(setup=detector_setup(geometry, cuw=cuw), medium=tb2018_medium(medium))


def batch_size(energy_gev: float) -> int:
    """Events per batch at ``energy_gev`` so that a batch holds about 2 M crossings."""
    return max(1, int(CROSSINGS_PER_BATCH / (CROSSINGS_PER_GEV * energy_gev)))


def _join(parts: Sequence[CellDeposits], per_event: int) -> CellDeposits:
    """Concatenate the deposits of consecutive groups of events into one batch."""
    sizes = np.cumsum([0] + [len(p.energy_gev) for p in parts[:-1]])
    columns = {
        f.name: np.concatenate([getattr(p, f.name) for p in parts])
        for f in fields(CellDeposits)
        if f.name not in ("key", "n_crossings")
    }
    key = np.concatenate([p.key + s * per_event for p, s in zip(parts, sizes, strict=True)])
    return CellDeposits(key=key, n_crossings=sum(p.n_crossings for p in parts), **columns)


def simulate_batch(
    groups: Sequence[tuple[BeamConfig, int]],
    model: ShowerModel,
    rng: np.random.Generator,
    *,
    first_event_id: int = 0,
    noise_mip: float = DEFAULT_NOISE_MIP,
    threshold_mip: float = DEFAULT_THRESHOLD_MIP,
    layers: npt.ArrayLike | None = None,
    signal_only: bool = False,
    add_deposits: Callable[[CellDeposits], CellDeposits] | None = None,
) -> EventBatch:
    """Simulate and digitise one batch of showers, group after group, into one event batch.

    Parameters
    ----------
    groups
        ``(beam, n_events)`` pairs: each group's showers come from its own beam (impact point,
        angles), all of one particle; events are numbered in the order of the groups.
    model
        Detector set-up and sampling medium (:func:`shower_model`).
    rng
        Seeded generator: the same groups and seed give the same hits.
    first_event_id
        ``event_id`` of the first event.
    noise_mip, threshold_mip
        Cell noise sigma and hit threshold [MIP] (:func:`~hgcal_ae.simulation.digitisation.digitise`).
    layers
        Layer numbers whose hits are kept (e.g. the odd CE-E layers); default all.
    signal_only
        Keep only cells with a true deposit (no noise-only hits).
    add_deposits
        Called with the true deposits before digitisation and returning them with more added
        (e.g. a pile-up model); its cells count as true deposits for ``signal_only``.

    Raises
    ------
    ConfigError
        On no group, groups of several particles, or a group of no events.
    """
    if not groups:
        msg = "simulate_batch needs at least one (beam, n_events) group"
        raise ConfigError(msg)
    particles = {beam.particle for beam, _ in groups}
    if len(particles) != 1:
        msg = f"the groups of one batch must share a particle, got {sorted(particles)}"
        raise ConfigError(msg)
    per_event = model.setup.stack.n_layers * model.setup.cells_per_layer
    deposits = _join([simulate_deposits(beam, n, model, rng) for beam, n in groups], per_event)
    if add_deposits is not None:
        deposits = add_deposits(deposits)
    batch = digitise(
        deposits, model, rng, pdg=groups[0][0].pdg, first_event_id=first_event_id,
        noise_mip=noise_mip, threshold_mip=threshold_mip,
    )  # fmt: skip
    event = batch.event_index_of_hits()
    keep = np.ones(batch.n_hits, bool) if layers is None else np.isin(batch.layer, layers)
    if signal_only:
        group = event * model.setup.stack.n_layers + batch.layer.astype(np.int64) - 1
        key = group * model.setup.cells_per_layer + batch.cell
        found = np.append(deposits.key, -1)[np.searchsorted(deposits.key, key)]
        keep &= found == key
    counts = np.bincount(event[keep], minlength=batch.n_events)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    columns = {name: getattr(batch, name) for name in EVENT_FIELDS}
    columns |= {name: getattr(batch, name)[keep] for name in HIT_FIELDS}
    return EventBatch(hit_offsets=offsets, **columns)


def _check_events(n_events: object) -> int:
    if isinstance(n_events, bool) or not isinstance(n_events, int | np.integer) or n_events <= 0:
        msg = f"events must be a positive integer, got {n_events!r}"
        raise ConfigError(msg)
    return int(n_events)


def simulate_to_file(
    path: str | os.PathLike[str],
    beam: BeamConfig,
    n_events: int,
    *,
    geometry: str = "tb2018",
    seed: int = 0,
    cuw: str = "analysis",
    medium: str = "W75Cu25",
    noise_mip: float = DEFAULT_NOISE_MIP,
    threshold_mip: float = DEFAULT_THRESHOLD_MIP,
    batch_events: int | None = None,
    on_batch: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Simulate ``n_events`` showers of ``beam`` and write them to ``path`` (HDF5, atomically).

    Memory stays flat: showers are simulated, digitised and appended in batches.  The random
    stream depends only on ``seed``, the particle and the energy, so the same call writes the
    same arrays.

    Returns
    -------
    dict
        The metadata written to the file plus event and hit counts.
    """
    n_events = _check_events(n_events)
    model = shower_model(geometry, cuw=cuw, medium=medium)
    if batch_events is None:
        batch_events = batch_size(beam.energy_gev)
    batch_events = _check_events(batch_events)
    rng = np.random.default_rng([int(seed), beam.pdg % 1000, round(beam.energy_gev * 1000)])
    metadata: dict[str, Any] = {
        "generator": "hgcal-ae parameterised EM showers (Grindhammer-Peters profiles, Poisson crossings, Landau deposits)",
        "hgcal_ae_version": __version__,
        "seed": int(seed),
        "beam": {**beam.__dict__, "pdg": beam.pdg},
        "n_events_requested": n_events,
        "detector": model.setup.describe(),
        "medium": {**model.medium.__dict__, "reading": medium},
        "model": {"cos_theta": model.cos_theta, "deposit_cut_mip": model.deposit_cut_mip},
        "digitisation": {"noise_mip": noise_mip, "threshold_mip": threshold_mip, "mip_kev": 84.9},
    }
    with EventWriter(path, metadata) as writer:
        done = 0
        while done < n_events:
            n = min(batch_events, n_events - done)
            deposits = simulate_deposits(beam, n, model, rng)
            writer.append(
                digitise(
                    deposits,
                    model,
                    rng,
                    pdg=beam.pdg,
                    first_event_id=done,
                    noise_mip=noise_mip,
                    threshold_mip=threshold_mip,
                )
            )
            done += n
            if on_batch is not None:
                on_batch(done, n_events)
        counts = {"n_events": writer.n_events, "n_hits": writer.n_hits}
    return {**metadata, **counts, "path": str(Path(path))}
