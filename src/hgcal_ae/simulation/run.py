"""Simulating many showers into an events file, streaming batch by batch."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from hgcal_ae import __version__
from hgcal_ae.datasets.events import EventWriter
from hgcal_ae.detector.setups import detector_setup
from hgcal_ae.errors import ConfigError
from hgcal_ae.simulation.digitisation import DEFAULT_NOISE_MIP, DEFAULT_THRESHOLD_MIP, digitise
from hgcal_ae.simulation.medium import tb2018_medium
from hgcal_ae.simulation.showers import BeamConfig, ShowerModel, simulate_deposits

__all__ = ["CROSSINGS_PER_BATCH", "shower_model", "simulate_to_file"]

CROSSINGS_PER_BATCH = 2_000_000  # bounds the memory of one batch (about 200 MB of temporaries)
CROSSINGS_PER_GEV = 70  # about 66 silicon crossings per GeV in the 2018 CE-E (measured)


def shower_model(
    geometry: str = "tb2018", *, cuw: str = "analysis", medium: str = "W75Cu25"
) -> ShowerModel:
    """The detector set-up ``geometry`` with the effective medium of the CuW reading ``medium``."""
    return ShowerModel(setup=detector_setup(geometry, cuw=cuw), medium=tb2018_medium(medium))


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
        batch_events = max(1, int(CROSSINGS_PER_BATCH / (CROSSINGS_PER_GEV * beam.energy_gev)))
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
