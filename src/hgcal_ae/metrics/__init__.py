"""Physics-driven measures: resolution and linearity fits, shower shapes, shower depth.

Submodules: :mod:`~hgcal_ae.metrics.gaussian_core` (iterated Gaussian core),
:mod:`~hgcal_ae.metrics.fits` (S/sqrt(E) (+) C, linearity, t_max and E_c fits, all with
uncertainties), :mod:`~hgcal_ae.metrics.shower_shapes` (per-event sums, longitudinal
profiles, barycentres and containment radii on CSR hit arrays) and
:mod:`~hgcal_ae.metrics.shower_max` (shower maxima).
"""

from __future__ import annotations

from hgcal_ae.metrics.fits import (
    FitResult,
    critical_energy_fit,
    linear_fit,
    linearity_residuals,
    resolution_fit,
    shower_max_fit,
)
from hgcal_ae.metrics.gaussian_core import gaussian_core
from hgcal_ae.metrics.shower_max import mean_profile_t_max, profile_t_max
from hgcal_ae.metrics.shower_shapes import (
    barycentre,
    containment_radius,
    event_index,
    event_sums,
    hit_multiplicity,
    longitudinal_profile,
)

__all__ = [
    "FitResult",
    "barycentre",
    "containment_radius",
    "critical_energy_fit",
    "event_index",
    "event_sums",
    "gaussian_core",
    "hit_multiplicity",
    "linear_fit",
    "linearity_residuals",
    "longitudinal_profile",
    "mean_profile_t_max",
    "profile_t_max",
    "resolution_fit",
    "shower_max_fit",
]
