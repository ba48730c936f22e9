"""Validation of simulated (or beam-test) positron showers: the positron-paper quantities.

For every beam energy: the reconstructed energy ([MB] weights) with an iterated Gaussian core
fit, the mean longitudinal profile with a Γ fit of the depth of the maximum, the 90 %
transverse containment radius and the hit multiplicity.  Across energies: the resolution fit
σ/E = S/√E ⊕ C, the linearity fit and its residuals, and t_max against ln E.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from hgcal_ae.datasets.event_batch import EventBatch
from hgcal_ae.detector.layers import LayerStack, gev_per_mip
from hgcal_ae.errors import ConfigError
from hgcal_ae.metrics.fits import (
    FitResult,
    linear_fit,
    linearity_residuals,
    resolution_fit,
    shower_max_fit,
)
from hgcal_ae.metrics.gaussian_core import gaussian_core
from hgcal_ae.metrics.shower_max import mean_profile_t_max
from hgcal_ae.metrics.shower_shapes import (
    containment_radius,
    hit_multiplicity,
    longitudinal_profile,
)

__all__ = [
    "VALIDATION_TARGETS",
    "EnergyPoint",
    "Target",
    "ValidationResult",
    "analyse_energy_point",
    "check_targets",
    "reconstruct_energy",
    "target_values",
    "validation_fits",
]

FloatArray = npt.NDArray[np.float64]


def reconstruct_energy(
    batch: EventBatch, dedx_weight_mev: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """Event energy [GeV] = Σ_hits E_MIP · (84.9 keV + w_L) ([MB] config.py), shape (n_events,).

    Parameters
    ----------
    batch
        Hits with layers 1..len(weights).
    dedx_weight_mev
        dE/dx weight of each layer [MeV], e.g. ``LayerStack.dedx_weight_mev``.
    """
    per_mip = gev_per_mip(dedx_weight_mev)
    per_hit = batch.energy_mip.astype(np.float64) * per_mip[batch.layer.astype(np.int64) - 1]
    # numpy's stub types bincount as intp even when float weights make it float64
    event = batch.event_index_of_hits()
    energy: FloatArray = np.bincount(event, weights=per_hit, minlength=batch.n_events)  # type: ignore[assignment]
    return energy


@dataclass(frozen=True)
class EnergyPoint:
    """What one beam energy gives; energies in GeV, depths in X0, radii in cm."""

    beam_energy_gev: float
    n_events: int
    reco: FitResult  # mean and sigma of the reconstructed energy [GeV]
    rel_sigma: float
    rel_sigma_err: float
    mean_profile_gev: FloatArray  # (n_layers,) mean energy per layer
    profile_err_gev: FloatArray
    t_max: FitResult  # Γ fit of the mean profile
    r90_mean_cm: float
    r90_err_cm: float
    hits_mean: float
    multiplicity: npt.NDArray[np.int64]
    reco_energy_gev: FloatArray

    def as_dict(self) -> dict[str, Any]:
        return {
            "beam_energy_gev": self.beam_energy_gev,
            "n_events": self.n_events,
            "reco_mean_gev": self.reco.values["mean"],
            "reco_mean_err_gev": self.reco.errors["mean"],
            "reco_sigma_gev": self.reco.values["sigma"],
            "reco_sigma_err_gev": self.reco.errors["sigma"],
            "rel_sigma": self.rel_sigma,
            "rel_sigma_err": self.rel_sigma_err,
            "t_max_x0": self.t_max.values["t_max"],
            "t_max_err_x0": self.t_max.errors["t_max"],
            "r90_mean_cm": self.r90_mean_cm,
            "r90_err_cm": self.r90_err_cm,
            "hits_mean": self.hits_mean,
            "mean_profile_gev": self.mean_profile_gev.tolist(),
        }


def analyse_energy_point(
    batch: EventBatch, stack: LayerStack, beam_energy_gev: float | None = None
) -> EnergyPoint:
    """Measure one beam energy's events (hits in MIP, layers 1..28).

    Parameters
    ----------
    batch
        The events of one beam energy.
    stack
        Layer stack whose dE/dx weights and depths are used.
    beam_energy_gev
        The beam energy; default: the mean true energy of the events.
    """
    if batch.n_events < 10:
        msg = f"validation needs at least 10 events per energy, got {batch.n_events}"
        raise ConfigError(msg)
    energy = float(
        beam_energy_gev if beam_energy_gev is not None else np.nanmean(batch.true_energy_gev)
    )
    reco = reconstruct_energy(batch, stack.dedx_weight_mev)
    core = gaussian_core(reco)
    mean, sigma = core.values["mean"], core.values["sigma"]
    rel = sigma / mean
    rel_err = rel * math.hypot(core.errors["sigma"] / sigma, core.errors["mean"] / mean)

    hit_gev = (
        batch.energy_mip.astype(np.float64) * gev_per_mip(stack.dedx_weight_mev)[batch.layer - 1]
    )
    profiles = longitudinal_profile(
        batch.layer, hit_gev, batch.hit_offsets, n_layers=stack.n_layers
    )
    mean_profile = profiles.mean(axis=0)
    profile_err = profiles.std(axis=0, ddof=1) / math.sqrt(batch.n_events)
    t_max = mean_profile_t_max(
        mean_profile, stack.x0_cumulative, profile_err=np.maximum(profile_err, 1e-9)
    )

    r90 = containment_radius(batch.x_cm, batch.y_cm, hit_gev, batch.hit_offsets, fraction=0.9)
    r90 = r90[np.isfinite(r90)]
    mult = hit_multiplicity(batch.hit_offsets)
    return EnergyPoint(
        beam_energy_gev=energy,
        n_events=batch.n_events,
        reco=core,
        rel_sigma=rel,
        rel_sigma_err=rel_err,
        mean_profile_gev=mean_profile,
        profile_err_gev=profile_err,
        t_max=t_max,
        r90_mean_cm=float(r90.mean()),
        r90_err_cm=float(r90.std(ddof=1) / math.sqrt(len(r90))),
        hits_mean=float(mult.mean()),
        multiplicity=mult,
        reco_energy_gev=reco,
    )


@dataclass(frozen=True)
class ValidationResult:
    """The fits across beam energies."""

    points: list[EnergyPoint]
    resolution: FitResult
    linearity: FitResult
    linearity_residuals: FloatArray
    shower_max: FitResult

    def as_dict(self) -> dict[str, Any]:
        return {
            "points": [p.as_dict() for p in self.points],
            "resolution_fit": {
                **self.resolution.as_dict(),
                "model": "sigma/E = S/sqrt(E) (+) C, E in GeV",
            },
            "linearity_fit": {**self.linearity.as_dict(), "model": "E_reco = a * E_beam + b [GeV]"},
            "linearity_residuals": self.linearity_residuals.tolist(),
            "max_abs_linearity_residual": float(np.max(np.abs(self.linearity_residuals))),
            "shower_max_fit": {
                **self.shower_max.as_dict(),
                "model": "t_max = slope * ln(E/GeV) + offset [X0]",
            },
        }


def validation_fits(points: Sequence[EnergyPoint]) -> ValidationResult:
    """Resolution, linearity and shower-maximum fits across at least three energies."""
    if len(points) < 3:
        msg = f"validation fits need at least 3 beam energies, got {len(points)}"
        raise ConfigError(msg)
    points = sorted(points, key=lambda p: p.beam_energy_gev)
    e = np.array([p.beam_energy_gev for p in points])
    rel = np.array([p.rel_sigma for p in points])
    rel_err = np.array([p.rel_sigma_err for p in points])
    mean = np.array([p.reco.values["mean"] for p in points])
    mean_err = np.array([p.reco.errors["mean"] for p in points])
    t_max = np.array([p.t_max.values["t_max"] for p in points])
    t_err = np.array([p.t_max.errors["t_max"] for p in points])
    lin = linear_fit(e, mean, mean_err)
    return ValidationResult(
        points=list(points),
        resolution=resolution_fit(e, rel, rel_err),
        linearity=lin,
        linearity_residuals=linearity_residuals(e, mean, lin),
        shower_max=shower_max_fit(np.log(e), t_max, t_err),
    )


@dataclass(frozen=True)
class Target:
    """A validation target: ``low <= value <= high`` (either bound may be open), in ``unit``."""

    quantity: str
    low: float | None
    high: float | None
    unit: str

    def text(self) -> str:
        """``"18–26 %·√GeV"``, ``"≤ 1.5 %"``: how tables state the target."""
        if self.low is None:
            return f"≤ {self.high:g} {self.unit}"
        if self.high is None:
            return f"≥ {self.low:g} {self.unit}"
        return f"{self.low:g}–{self.high:g} {self.unit}"

    def met(self, values: Sequence[float]) -> bool:
        """Whether every value lies within the target."""
        return all(
            (self.low is None or v >= self.low) and (self.high is None or v <= self.high)
            for v in values
        )


#: What the simulation of 20–300 GeV positrons in the 2018 CE-E prototype must give (the
#: targets of the simulation issue, from the 2018 beam-test positron results; nothing in the
#: simulation is tuned to them).  Keys are those of :func:`target_values`.
VALIDATION_TARGETS: dict[str, Target] = {
    "S": Target("stochastic term S", 18.0, 26.0, "%·√GeV"),
    "C": Target("constant term C", None, 1.5, "%"),
    "linearity": Target("linearity, largest residual", None, 1.0, "%"),
    "slope": Target("shower maximum against ln E, slope", 0.8, 1.2, "X0"),
    "r90": Target("90 % containment radius, every energy", 1.5, 4.0, "cm"),
}


def target_values(summary: dict[str, Any]) -> dict[str, list[float]]:
    """The validated numbers of a ``validate-simulation`` summary, in the targets' units."""
    resolution = summary["resolution_fit"]["values"]
    return {
        "S": [100 * resolution["S"]],
        "C": [100 * resolution["C"]],
        "linearity": [100 * summary["max_abs_linearity_residual"]],
        "slope": [summary["shower_max_fit"]["values"]["slope"]],
        "r90": [p["r90_mean_cm"] for p in summary["points"]],
    }


def check_targets(summary: dict[str, Any]) -> dict[str, bool]:
    """Whether each of :data:`VALIDATION_TARGETS` is met by a validation summary."""
    values = target_values(summary)
    return {key: target.met(values[key]) for key, target in VALIDATION_TARGETS.items()}
