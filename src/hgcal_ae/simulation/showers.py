"""Fast simulation of electromagnetic showers in the CE-E, down to silicon cells.

The shower model (Grindhammer & Peters, hep-ex/0001020, the GFlash method; constants in
:mod:`~hgcal_ae.simulation.gflash`) is applied per shower, vectorised over a batch of showers:

1. **Beam.** Energy ``E·(1 + spread·N(0,1))``, impact point from a Gaussian beam spot,
   incidence angles; photons first convert after an exponential depth of mean 9/7 X0.
2. **Longitudinal.** Each shower draws its own Γ profile (correlated ln T, ln α).  The
   absorber slab of layer L reaches from half-way to the previous layer to half-way to the
   next one (the convention of the dE/dx weights, which average the material in front of and
   behind each layer); the last slab includes the 40 mm steel case behind layer 28 (2.28 X0,
   Fe X0 = 1.758 cm, physics.md §1.1).  ΔE_L = E·[P(α, β t_hi) − P(α, β t_lo)].
3. **Sampling fluctuations, from the structure.** A minimum-ionising particle loses w_L
   (the layer's dE/dx weight, [MB]) in the slab, so the shower energy ΔE_L corresponds to
   ΔE_L/w_L MIP crossings of the silicon.  Two corrections follow from the medium, not from
   the target resolution: the electron/MIP response ê = 1/(1 + 0.007(Z_passive − Z_Si))
   ([GF-S]) scales the visible track length, and the crossings are inclined, ⟨cos θ⟩ =
   cos(21 MeV/(π E_c)) (Amaldi, Phys. Scripta 23 (1981) 409), which makes fewer, longer
   crossings.  The number of crossings is Poisson with mean ΔE_L·ê·⟨cos θ⟩/w_L and each
   deposits a Landau-distributed energy in 300 µm Si (:mod:`~hgcal_ae.simulation.landau`)
   divided by ⟨cos θ⟩.
4. **Lateral.** Every crossing sits at a radius drawn from the core/tail radial profile at
   its depth τ (in Molière radii of the medium) and a uniform azimuth around the shower axis,
   then is located in its cell; crossings in insensitive regions or outside the wafers are lost.

Digitisation (noise, threshold) is in :mod:`~hgcal_ae.simulation.digitisation`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from hgcal_ae.detector.grid_locator import GridLocator
from hgcal_ae.detector.setups import DetectorSetup
from hgcal_ae.errors import ConfigError
from hgcal_ae.simulation.gflash import gamma_cdf, longitudinal_fluctuations, sample_longitudinal
from hgcal_ae.simulation.gflash_radial import radial_parameters, sample_radius_grouped, tau_of_depth
from hgcal_ae.simulation.landau import MIP_KEV, sample_deposits_mip
from hgcal_ae.simulation.medium import SamplingMedium

__all__ = [
    "MAX_ENERGY_GEV",
    "PARTICLES",
    "BeamConfig",
    "CellDeposits",
    "ShowerModel",
    "simulate_deposits",
]

PARTICLES: dict[str, int] = {"e-": 11, "e+": -11, "gamma": 22}  # PDG codes
STEEL_CASE_X0 = 40.0 / 17.58  # 40 mm Fe behind cassette 14 [G4ex]; X0(Fe) = 1.758 cm (PDG)
PHOTON_CONVERSION_X0 = 9.0 / 7.0  # mean free path of a high-energy photon [X0]
# Largest beam energy accepted: the LHC's 7 TeV per beam.  A shower's crossings are held in
# memory at once (about 70 per GeV, a few hundred bytes each), so a 1e9 GeV request would ask
# for ~10^11 crossings (157 GiB) instead of saying what is wrong.
MAX_ENERGY_GEV = 7000.0


@dataclass(frozen=True)
class BeamConfig:
    """The beam: particle, energy and where and how it hits the calorimeter.

    Attributes
    ----------
    particle
        ``"e+"``, ``"e-"`` or ``"gamma"``.
    energy_gev
        Nominal energy [GeV], finite, > 0 and at most :data:`MAX_ENERGY_GEV` (7 TeV).
    energy_spread
        Relative Gaussian spread of the energy (the H2 values are not public: physics.md §5).
    x_cm, y_cm
        Mean impact point on the front face [cm].
    spot_sigma_cm
        Gaussian width of the beam spot in x and y [cm].
    angle_x_rad, angle_y_rad
        Incidence angles in the x-z and y-z planes [rad], |angle| < 1.
    """

    particle: str = "e+"
    energy_gev: float = 100.0
    energy_spread: float = 0.0
    x_cm: float = 0.0
    y_cm: float = 0.0
    spot_sigma_cm: float = 0.0
    angle_x_rad: float = 0.0
    angle_y_rad: float = 0.0

    def __post_init__(self) -> None:
        if self.particle not in PARTICLES:
            msg = f"unknown particle {self.particle!r}; expected one of {', '.join(PARTICLES)}"
            raise ConfigError(msg)
        if not (math.isfinite(self.energy_gev) and 0 < self.energy_gev <= MAX_ENERGY_GEV):
            msg = f"beam energy must be a finite number > 0 and <= {MAX_ENERGY_GEV:g} GeV (the LHC beam energy; one shower is simulated in memory), got {self.energy_gev!r}"
            raise ConfigError(msg)
        for name in ("energy_spread", "spot_sigma_cm"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                msg = f"{name} must be finite and >= 0, got {value!r}"
                raise ConfigError(msg)
        for name in ("x_cm", "y_cm", "angle_x_rad", "angle_y_rad"):
            if not math.isfinite(getattr(self, name)):
                msg = f"{name} must be finite, got {getattr(self, name)!r}"
                raise ConfigError(msg)
        if max(abs(self.angle_x_rad), abs(self.angle_y_rad)) >= 1.0:
            msg = f"incidence angles must be below 1 rad, got {self.angle_x_rad!r}, {self.angle_y_rad!r}"
            raise ConfigError(msg)

    @property
    def pdg(self) -> int:
        return PARTICLES[self.particle]


@dataclass(frozen=True)
class ShowerModel:
    """The set-up plus the derived constants of the sampling model (see the module docstring)."""

    setup: DetectorSetup
    medium: SamplingMedium

    @cached_property
    def locator(self) -> GridLocator:
        """Fast, exact point → global cell lookup for this set-up's layers."""
        return GridLocator.build(self.setup.tiling, self.setup.lattice)

    @property
    def cos_theta(self) -> float:
        """Mean cosine of the crossing angle, cos(21 MeV / (π E_c)) (Amaldi 1981)."""
        return math.cos(21.0 / (math.pi * self.medium.ec_eff_mev))

    @property
    def deposit_cut_mip(self) -> float:
        """Largest single-crossing deposit: half the critical energy (Møller), in MIP."""
        return 0.5 * self.medium.ec_eff_mev * 1000.0 / MIP_KEV

    def slab_edges_x0(self) -> npt.NDArray[np.float64]:
        """Depth [X0] of the slab boundaries, shape (n_layers + 1,)."""
        t = self.setup.stack.x0_cumulative
        return np.concatenate([[0.0], 0.5 * (t[:-1] + t[1:]), [t[-1] + STEEL_CASE_X0]])


@dataclass(frozen=True)
class CellDeposits:
    """True energy deposits per cell of a batch of showers, before digitisation.

    ``key`` is sorted and encodes ``(event, layer index, global cell)`` as
    ``(event * n_layers + layer_index) * cells_per_layer + cell``; ``energy_mip`` is the summed
    deposit in MIP.  Per-event truth has shape (n_events,).
    """

    key: npt.NDArray[np.int64]
    energy_mip: npt.NDArray[np.float64]
    energy_gev: npt.NDArray[np.float64]
    x_cm: npt.NDArray[np.float64]
    y_cm: npt.NDArray[np.float64]
    angle_x_rad: npt.NDArray[np.float64]
    angle_y_rad: npt.NDArray[np.float64]
    n_crossings: int


def simulate_deposits(
    beam: BeamConfig, n_events: int, model: ShowerModel, rng: np.random.Generator
) -> CellDeposits:
    """Simulate ``n_events`` showers of ``beam`` and return the summed deposit of every hit cell.

    Parameters
    ----------
    beam
        The beam.
    n_events
        Number of showers in this batch (> 0).  Memory grows with it: the caller batches.
    model
        Detector set-up and sampling medium.
    rng
        Seeded generator; the same seed gives the same deposits.
    """
    if not isinstance(n_events, int | np.integer) or n_events <= 0:
        msg = f"events must be a positive integer, got {n_events!r}"
        raise ConfigError(msg)
    setup, medium = model.setup, model.medium
    stack = setup.stack
    n_layers = stack.n_layers

    # 1. beam
    energy = beam.energy_gev * (1.0 + beam.energy_spread * rng.standard_normal(n_events))
    energy = np.clip(energy, 1e-3 * beam.energy_gev, None)
    x0 = beam.x_cm + beam.spot_sigma_cm * rng.standard_normal(n_events)
    y0 = beam.y_cm + beam.spot_sigma_cm * rng.standard_normal(n_events)
    ax = np.full(n_events, beam.angle_x_rad)
    ay = np.full(n_events, beam.angle_y_rad)
    start = (
        rng.exponential(PHOTON_CONVERSION_X0, n_events)
        if beam.particle == "gamma"
        else np.zeros(n_events)
    )

    # 2. longitudinal profile per shower, energy per slab (n_events, n_layers) [GeV]
    T, alpha = sample_longitudinal(energy, medium, rng)
    edges = model.slab_edges_x0()[None, :] - start[:, None]
    cdf = gamma_cdf(np.clip(edges, 0.0, None), T[:, None], alpha[:, None])
    slab_gev = energy[:, None] * np.diff(cdf, axis=1)

    # 3. crossings per (event, layer): the groups g = event * n_layers + layer index
    weights = stack.dedx_weight_mev
    mean_crossings = slab_gev * 1000.0 * medium.ehat * model.cos_theta / weights[None, :]
    counts = rng.poisson(mean_crossings).reshape(-1)
    n_cross = int(counts.sum())

    # 4. lateral position of every crossing (float32: positions need µm, not pm)
    alpha_mean = np.exp(longitudinal_fluctuations(energy, medium).mean_ln_alpha)
    depth = np.clip(stack.x0_cumulative[None, :] - start[:, None], 0.0, None)
    tau = tau_of_depth(depth, T[:, None], alpha[:, None], alpha_mean[:, None])
    r_core, r_tail, p_core = radial_parameters(tau, energy[:, None], medium)
    r = sample_radius_grouped(
        counts, medium.rm_eff_cm * r_core.reshape(-1), medium.rm_eff_cm * r_tail.reshape(-1),
        p_core.reshape(-1), rng,
    )  # fmt: skip
    phi = rng.random(n_cross, dtype=np.float32) * np.float32(2.0 * np.pi)
    z_cm = stack.z_mm / 10.0
    axis_x = (x0[:, None] + np.tan(ax)[:, None] * z_cm[None, :]).astype(np.float32).reshape(-1)
    axis_y = (y0[:, None] + np.tan(ay)[:, None] * z_cm[None, :]).astype(np.float32).reshape(-1)
    px = np.repeat(axis_x, counts) + r * np.cos(phi)
    py = np.repeat(axis_y, counts) + r * np.sin(phi)
    gcell = model.locator(px, py)

    # 5. deposits, summed per cell
    deposit = sample_deposits_mip(n_cross, rng, model.deposit_cut_mip) / np.float32(model.cos_theta)
    inside = np.flatnonzero(gcell >= 0)
    group = np.repeat(np.arange(n_events * n_layers), counts)[inside]
    key = group * setup.cells_per_layer + gcell[inside]
    n_keys = n_events * n_layers * setup.cells_per_layer
    # numpy's stub types bincount as intp even when float weights make it float64
    summed: npt.NDArray[np.float64]
    if n_keys <= 4 * max(n_cross, 1):  # dense: one bincount pass, no sort
        summed = np.bincount(key, weights=deposit[inside], minlength=n_keys)  # type: ignore[assignment]
        unique = np.flatnonzero(summed)
        summed = summed[unique]
    else:
        unique, inverse = np.unique(key, return_inverse=True)
        summed = np.bincount(inverse, weights=deposit[inside], minlength=len(unique))  # type: ignore[assignment]
    return CellDeposits(
        key=unique,
        energy_mip=summed,
        energy_gev=energy,
        x_cm=x0,
        y_cm=y0,
        angle_x_rad=ax,
        angle_y_rad=ay,
        n_crossings=n_cross,
    )
