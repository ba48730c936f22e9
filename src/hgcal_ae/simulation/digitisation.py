"""Digitisation of cell deposits, and the energy reconstruction of the positron analysis.

Every cell of every layer gets Gaussian noise (σ = 1/6 MIP by default, the beam-test
simulation's ``energyNoiseResolution``, [TB] processSim.py; 0.12 MIP in the EP-SFT
validation, [GV]); cells above the 0.5 MIP threshold ([TB], [GV]) become hits.  Cells with no
deposit pass the threshold only through noise: their number is drawn as a binomial and their
values from the Gaussian tail, so the cost does not grow with the number of empty cells.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from hgcal_ae.datasets.event_batch import EventBatch
from hgcal_ae.errors import ConfigError
from hgcal_ae.simulation.showers import CellDeposits, ShowerModel

__all__ = ["DEFAULT_NOISE_MIP", "DEFAULT_THRESHOLD_MIP", "digitise"]

DEFAULT_NOISE_MIP = 1.0 / 6.0  # [TB] processSim.py energyNoiseResolution
DEFAULT_THRESHOLD_MIP = 0.5  # [TB] NoiseThreshold, [GV]


def digitise(
    deposits: CellDeposits,
    model: ShowerModel,
    rng: np.random.Generator,
    *,
    pdg: int,
    first_event_id: int = 0,
    noise_mip: float = DEFAULT_NOISE_MIP,
    threshold_mip: float = DEFAULT_THRESHOLD_MIP,
) -> EventBatch:
    """Add noise, apply the threshold and return the hits as an :class:`EventBatch`.

    Parameters
    ----------
    deposits
        True deposits per cell from :func:`~hgcal_ae.simulation.showers.simulate_deposits`.
    noise_mip
        Gaussian noise σ per cell [MIP]; 0 switches noise off.
    threshold_mip
        Hit threshold [MIP].
    """
    if not (math.isfinite(noise_mip) and noise_mip >= 0):
        msg = f"noise must be finite and >= 0 MIP, got {noise_mip!r}"
        raise ConfigError(msg)
    if not (math.isfinite(threshold_mip) and threshold_mip >= 0):
        msg = f"threshold must be finite and >= 0 MIP, got {threshold_mip!r}"
        raise ConfigError(msg)
    setup = model.setup
    n_events = len(deposits.energy_gev)
    n_layers, per_layer = setup.stack.n_layers, setup.cells_per_layer
    cells_per_event = n_layers * per_layer

    key = deposits.key
    energy = deposits.energy_mip + noise_mip * rng.standard_normal(len(key))
    if noise_mip > 0 and threshold_mip > 0:
        # noise-only hits in the cells without deposit: binomial count, Gaussian-tail values
        p_tail = float(special.ndtr(-threshold_mip / noise_mip))
        empty = cells_per_event - np.bincount(key // cells_per_event, minlength=n_events)
        n_noise = rng.binomial(empty, p_tail)
        noise_event = np.repeat(np.arange(n_events), n_noise)
        noise_key = noise_event * cells_per_event + rng.integers(
            0, cells_per_event, len(noise_event)
        )
        noise_key = np.unique(noise_key)
        if len(key):  # a cell with a deposit already has its noise (key is sorted)
            at = np.minimum(np.searchsorted(key, noise_key), len(key) - 1)
            noise_key = noise_key[key[at] != noise_key]
        u = rng.random(len(noise_key))
        noise_energy = -noise_mip * special.ndtri(u * p_tail)  # |N| above the threshold
        key = np.concatenate([key, noise_key])
        energy = np.concatenate([energy, noise_energy])
        order = np.argsort(key, kind="stable")
        key, energy = key[order], energy[order]
    keep = energy >= threshold_mip
    key, energy = key[keep], energy[keep]

    event = key // cells_per_event
    layer_index = (key // per_layer) % n_layers
    gcell = key % per_layer
    cx, cy = setup.cell_centres()
    return EventBatch.from_counts(
        np.bincount(event, minlength=n_events),
        event_id=first_event_id + np.arange(n_events),
        pdg=np.full(n_events, pdg),
        true_energy_gev=deposits.energy_gev,
        true_x_cm=deposits.x_cm,
        true_y_cm=deposits.y_cm,
        angle_x_rad=deposits.angle_x_rad,
        angle_y_rad=deposits.angle_y_rad,
        layer=setup.stack.layer[layer_index],
        cell=gcell,
        x_cm=cx[gcell],
        y_cm=cy[gcell],
        z_cm=setup.stack.z_mm[layer_index] / 10.0,
        energy_mip=energy,
    )
