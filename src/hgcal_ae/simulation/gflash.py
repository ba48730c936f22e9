"""Grindhammer–Peters (GFlash) longitudinal shower profiles in a sampling calorimeter.

Pure, vectorised numpy kernels (hep-ex/0001020); the radial profiles and spot counts are
:mod:`hgcal_ae.simulation.gflash_radial`.  Sources of the constants, as named in
reference/physics.md §3:

- [GF-H]: Geant4 ``GFlashHomoShowerParameterisation`` (homogeneous medium);
- [GF-S]: Geant4 ``GFlashSamplingShowerParameterisation`` (sampling medium);
- [FS]: G. Grindhammer, S. Peters, hep-ex/0001020 (the paper's tables).

Units: energies in GeV, depths t in radiation lengths X0 of the medium, radii in Molière radii.

Public API::

    mean_longitudinal(energy_gev, medium) -> (T, alpha)
    longitudinal_fluctuations(energy_gev, medium) -> LogProfileParameters
    sample_longitudinal(energy_gev, medium, rng) -> (T, alpha)
    gamma_profile(t, T, alpha) -> f(t)
    gamma_cdf(t, T, alpha) -> P(alpha, beta t)
    checked_energies(energy_gev) -> energies as float64, finite and > 0 GeV
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from hgcal_ae.errors import ConfigError
from hgcal_ae.simulation._special import gammainc_lower, lgamma
from hgcal_ae.simulation.medium import SamplingMedium

__all__ = [
    "ALPHA_MIN",
    "SIGMA_LN_MAX",
    "T_MIN",
    "LogProfileParameters",
    "checked_energies",
    "gamma_cdf",
    "gamma_profile",
    "longitudinal_fluctuations",
    "mean_longitudinal",
    "sample_longitudinal",
]

FloatArray = npt.NDArray[np.float64]

# Clamps of the individual-shower draws ([GF-S] GenerateLongitudinalProfile; physics.md §3.1).
SIGMA_LN_MAX = 0.5
T_MIN = 1.0
ALPHA_MIN = 1.1


def checked_energies(energy_gev: npt.ArrayLike, what: str = "energy_gev") -> FloatArray:
    """Energies [GeV] as a float64 array, checked finite and > 0 (ConfigError naming ``what``)."""
    energy = np.asarray(energy_gev, dtype=np.float64)
    bad = ~(np.isfinite(energy) & (energy > 0))
    if np.any(bad):
        msg = f"{what} must be finite and > 0 GeV, got {energy[bad].ravel()[0]!r}"
        raise ConfigError(msg)
    return energy


def _ln_y(energy_gev: npt.ArrayLike, medium: SamplingMedium) -> FloatArray:
    """ln(E/E_c) with E in GeV and E_c in MeV."""
    return np.log(checked_energies(energy_gev) * 1e3 / medium.ec_eff_mev)


def mean_longitudinal(
    energy_gev: npt.ArrayLike, medium: SamplingMedium
) -> tuple[FloatArray, FloatArray]:
    """Average longitudinal profile parameters (T, α) of a sampling calorimeter.

    Parameters
    ----------
    energy_gev
        Shower energies in GeV, any shape, finite and > 0.
    medium
        Effective medium (Z_eff, E_c,eff, F_S, ê).

    Returns
    -------
    T : numpy.ndarray
        Depth of the shower maximum in X0, shape of ``energy_gev``.
    alpha : numpy.ndarray
        Shape parameter of the Γ profile, shape of ``energy_gev``.

    Notes
    -----
    [FS] "average profiles": T_hom = ln y − 0.858, α_hom = 0.21 + (0.492 + 2.38/Z) ln y,
    T_sam = T_hom − 0.59/F_S − 0.53(1 − ê), α_sam = α_hom − 0.444/F_S, with y = E/E_c.
    At very low energies (a few tens of MeV) T may be negative; callers simulate GeV showers.
    """
    ln_y = _ln_y(energy_gev, medium)
    t_hom = ln_y - 0.858  # [FS]
    alpha_hom = 0.21 + (0.492 + 2.38 / medium.z_eff) * ln_y  # [FS]
    t_sam = t_hom - 0.59 / medium.fs - 0.53 * (1.0 - medium.ehat)  # [FS]
    alpha_sam = alpha_hom - 0.444 / medium.fs  # [FS]
    return t_sam, alpha_sam


class LogProfileParameters(NamedTuple):
    """Means, widths and correlation of (ln T, ln α) for individual showers (arrays)."""

    mean_ln_t: FloatArray
    mean_ln_alpha: FloatArray
    sigma_ln_t: FloatArray
    sigma_ln_alpha: FloatArray
    rho: FloatArray


def longitudinal_fluctuations(
    energy_gev: npt.ArrayLike, medium: SamplingMedium
) -> LogProfileParameters:
    """Parameters of the correlated Gaussians of ln T and ln α (sampling calorimeter).

    Parameters
    ----------
    energy_gev
        Shower energies in GeV, any shape, finite and > 0 with ln(E/E_c) > 2
        (about 90 MeV here), where the fitted σ(ln T) is positive.
    medium
        Effective medium.

    Returns
    -------
    LogProfileParameters
        ⟨ln T⟩, ⟨ln α⟩, σ(ln T), σ(ln α) (both clamped to ≤ 0.5 as in [GF-S]) and ρ, each of
        the shape of ``energy_gev``; T in X0.

    Notes
    -----
    "Individual showers", sampling column ([GF-H], [GF-S], [FS] agree):
    ⟨ln T⟩ = ln(exp⟨ln T_hom⟩ − 0.55/F_S − 0.69(1 − ê)) with ⟨ln T_hom⟩ = ln(ln y − 0.812);
    ⟨ln α⟩ = ln(exp⟨ln α_hom⟩ − 0.476/F_S) with ⟨ln α_hom⟩ = ln(0.81 + (0.458 + 2.26/Z) ln y)
    ([FS] prints 0.476/Z_eff, a typo; [GF-S] divides by F_S);
    σ(ln T) = 1/(−2.5 + 1.25 ln y); σ(ln α) = 1/(−0.82 + 0.79 ln y); ρ = 0.784 − 0.023 ln y.
    """
    ln_y = _ln_y(energy_gev, medium)
    low = ln_y <= 2.0
    if np.any(low):
        e_min = np.exp(2.0) * medium.ec_eff_mev * 1e-3
        msg = (
            f"individual-shower fluctuations need E > {e_min:.3g} GeV (ln(E/E_c) > 2, where "
            f"σ(ln T) = 1/(−2.5 + 1.25 ln y) is positive), got "
            f"{np.asarray(energy_gev, dtype=np.float64)[low].ravel()[0]!r} GeV"
        )
        raise ConfigError(msg)
    one_minus_ehat = 1.0 - medium.ehat
    t_hom = ln_y - 0.812  # [GF-H] exp<ln T_hom>
    alpha_hom = 0.81 + (0.458 + 2.26 / medium.z_eff) * ln_y  # [GF-H] exp<ln alpha_hom>
    mean_ln_t = np.log(t_hom - 0.55 / medium.fs - 0.69 * one_minus_ehat)  # [GF-S], [FS]
    mean_ln_alpha = np.log(alpha_hom - 0.476 / medium.fs)  # [GF-S] (/F_S, not /Z)
    sigma_ln_t = np.minimum(1.0 / (-2.5 + 1.25 * ln_y), SIGMA_LN_MAX)  # [FS]; clamp [GF-S]
    sigma_ln_alpha = np.minimum(1.0 / (-0.82 + 0.79 * ln_y), SIGMA_LN_MAX)  # [FS]; clamp [GF-S]
    rho = 0.784 - 0.023 * ln_y  # [FS]
    return LogProfileParameters(mean_ln_t, mean_ln_alpha, sigma_ln_t, sigma_ln_alpha, rho)


def sample_longitudinal(
    energy_gev: npt.ArrayLike, medium: SamplingMedium, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """Draw (T, α) of individual showers, one draw per energy.

    Parameters
    ----------
    energy_gev
        Shower energies in GeV, any shape (see :func:`longitudinal_fluctuations` for the range).
    medium
        Effective medium.
    rng
        Seeded generator; two standard normals are drawn per shower, as one
        ``(2, *energy.shape)`` block.

    Returns
    -------
    T : numpy.ndarray
        Depth of the maximum in X0, ≥ 1, shape of ``energy_gev``.
    alpha : numpy.ndarray
        Γ shape parameter, ≥ 1.1, shape of ``energy_gev``.

    Notes
    -----
    [GF-S]: ln T = ⟨ln T⟩ + σ_T(√((1+ρ)/2) z₁ + √((1−ρ)/2) z₂),
    ln α = ⟨ln α⟩ + σ_α(√((1+ρ)/2) z₁ − √((1−ρ)/2) z₂), so corr(ln T, ln α) = ρ; then the
    clamps T ≥ 1, α ≥ 1.1. ([FS] instead redraws until α > 1.)
    """
    par = longitudinal_fluctuations(energy_gev, medium)
    z1, z2 = rng.standard_normal((2, *par.rho.shape))
    common = np.sqrt((1.0 + par.rho) / 2.0) * z1
    differential = np.sqrt((1.0 - par.rho) / 2.0) * z2
    ln_t = par.mean_ln_t + par.sigma_ln_t * (common + differential)
    ln_alpha = par.mean_ln_alpha + par.sigma_ln_alpha * (common - differential)
    return np.maximum(np.exp(ln_t), T_MIN), np.maximum(np.exp(ln_alpha), ALPHA_MIN)


def _gamma_shape(T: npt.ArrayLike, alpha: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """(α, β = (α−1)/T) as arrays, checked T > 0 and α > 1."""
    T = np.asarray(T, dtype=np.float64)
    alpha = np.asarray(alpha, dtype=np.float64)
    if not np.all(np.isfinite(T) & (T > 0)):
        msg = "Γ profile needs finite T > 0 (depth of maximum in X0)"
        raise ConfigError(msg)
    if not np.all(np.isfinite(alpha) & (alpha > 1)):
        msg = "Γ profile needs finite alpha > 1 (so that the maximum T = (α−1)/β exists)"
        raise ConfigError(msg)
    return alpha, (alpha - 1.0) / T


def gamma_profile(t: npt.ArrayLike, T: npt.ArrayLike, alpha: npt.ArrayLike) -> FloatArray:
    """Longitudinal energy profile f(t) = (βt)^(α−1) β e^(−βt)/Γ(α), with β = (α−1)/T.

    Parameters
    ----------
    t
        Depth in X0; values ≤ 0 give 0.
    T
        Depth of the maximum in X0, > 0.
    alpha
        Shape parameter, > 1.

    Returns
    -------
    numpy.ndarray
        dE/(E dt) in 1/X0, the broadcast shape of ``t``, ``T``, ``alpha``.

    Notes
    -----
    [FS] eq. for dE/dt; the energy in a slice [t1, t2] is E·(gamma_cdf(t2) − gamma_cdf(t1)).
    """
    alpha_arr, beta = _gamma_shape(T, alpha)
    t = np.asarray(t, dtype=np.float64)
    bt = beta * np.maximum(t, 0.0)
    inside = bt > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        log_f = (alpha_arr - 1.0) * np.log(np.where(inside, bt, 1.0)) - bt - lgamma(alpha_arr)
    return np.where(inside, beta * np.exp(log_f), 0.0)


def gamma_cdf(t: npt.ArrayLike, T: npt.ArrayLike, alpha: npt.ArrayLike) -> FloatArray:
    """Fraction of the shower energy deposited before depth t: P(α, βt), β = (α−1)/T.

    ``t``, ``T`` and ``alpha`` are those of :func:`gamma_profile`.

    Returns
    -------
    numpy.ndarray
        Values in [0, 1], the broadcast shape of ``t``, ``T``, ``alpha``.

    Notes
    -----
    [GF-S] ``ApplySampling``/``GFlashShowerModel``: ΔE = E·[Γ_inc(βt₂; α) − Γ_inc(βt₁; α)].
    """
    alpha_arr, beta = _gamma_shape(T, alpha)
    t = np.asarray(t, dtype=np.float64)
    return gammainc_lower(alpha_arr, beta * np.maximum(t, 0.0))
