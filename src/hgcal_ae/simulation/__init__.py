"""Parameterised EM showers: the Grindhammer–Peters (GFlash) kernels and their media.

Submodules: :mod:`~hgcal_ae.simulation.medium` (effective parameters of a sampling medium, the
2018 CE-E cassette), :mod:`~hgcal_ae.simulation.gflash` (longitudinal Γ profiles, their
fluctuations, radial profiles, spot counts; hep-ex/0001020).
"""

from __future__ import annotations

from hgcal_ae.simulation.gflash import (
    ALPHA_MIN,
    SIGMA_LN_MAX,
    T_MIN,
    LogProfileParameters,
    gamma_cdf,
    gamma_profile,
    longitudinal_fluctuations,
    mean_longitudinal,
    radial_parameters,
    sample_longitudinal,
    sample_radius,
    spots_per_shower,
    tau_of_depth,
)
from hgcal_ae.simulation.medium import MEDIUM_READINGS, SamplingMedium, tb2018_medium

__all__ = [
    "ALPHA_MIN",
    "MEDIUM_READINGS",
    "SIGMA_LN_MAX",
    "T_MIN",
    "LogProfileParameters",
    "SamplingMedium",
    "gamma_cdf",
    "gamma_profile",
    "longitudinal_fluctuations",
    "mean_longitudinal",
    "radial_parameters",
    "sample_longitudinal",
    "sample_radius",
    "spots_per_shower",
    "tau_of_depth",
    "tb2018_medium",
]
