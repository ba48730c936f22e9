"""Grindhammer–Peters (GFlash) parameterisation of EM showers in a sampling calorimeter.

Pure, vectorised numpy kernels (hep-ex/0001020). Sources of the constants, as named in
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
    tau_of_depth(t, T_i, alpha_i, alpha_mean) -> tau
    radial_parameters(tau, energy_gev, medium) -> (r_core, r_tail, p_core)
    sample_radius(r_core, r_tail, p_core, rng) -> r
    spots_per_shower(energy_gev, stochastic_term) -> N_spot
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
    "gamma_cdf",
    "gamma_profile",
    "longitudinal_fluctuations",
    "mean_longitudinal",
    "radial_parameters",
    "sample_longitudinal",
    "sample_radius",
    "sample_radius_grouped",
    "spots_per_shower",
    "tau_of_depth",
]

FloatArray = npt.NDArray[np.float64]

# Clamps of the individual-shower draws ([GF-S] GenerateLongitudinalProfile; physics.md §3.1).
SIGMA_LN_MAX = 0.5
T_MIN = 1.0
ALPHA_MIN = 1.1


def _energies(energy_gev: npt.ArrayLike, what: str = "energy_gev") -> FloatArray:
    """Energies as a float array, checked finite and > 0."""
    energy = np.asarray(energy_gev, dtype=np.float64)
    bad = ~(np.isfinite(energy) & (energy > 0))
    if np.any(bad):
        msg = f"{what} must be finite and > 0 GeV, got {energy[bad].ravel()[0]!r}"
        raise ConfigError(msg)
    return energy


def _ln_y(energy_gev: npt.ArrayLike, medium: SamplingMedium) -> FloatArray:
    """ln(E/E_c) with E in GeV and E_c in MeV."""
    return np.log(_energies(energy_gev) * 1e3 / medium.ec_eff_mev)


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
        Values in [0, 1], the broadcast shape of ``t``, ``T``, ``alpha``.

    Notes
    -----
    [GF-S] ``ApplySampling``/``GFlashShowerModel``: ΔE = E·[Γ_inc(βt₂; α) − Γ_inc(βt₁; α)].
    """
    alpha_arr, beta = _gamma_shape(T, alpha)
    t = np.asarray(t, dtype=np.float64)
    return gammainc_lower(alpha_arr, beta * np.maximum(t, 0.0))


def tau_of_depth(
    t: npt.ArrayLike,
    T_i: npt.ArrayLike,
    alpha_i: npt.ArrayLike,
    alpha_mean: npt.ArrayLike,
) -> FloatArray:
    """Radial-profile depth variable τ of an individual shower.

    Parameters
    ----------
    t
        Depth in X0.
    T_i, alpha_i
        The shower's own Γ parameters (T_i in X0, α_i > 1).
    alpha_mean
        ⟨α⟩ = exp⟨ln α⟩ at the shower's energy (> 1).

    Returns
    -------
    numpy.ndarray
        τ (dimensionless), the broadcast shape of the inputs.

    Notes
    -----
    [GF-H/S] code: τ = t·(α_i−1)/(α_i T_i) · ⟨α⟩/(⟨α⟩−1), i.e. depth scaled by the shower's own
    centre of gravity ⟨t⟩_i = α_i T_i/(α_i−1) in units of the mean shower's ⟨t⟩/T.
    """
    t = np.asarray(t, dtype=np.float64)
    T_i = np.asarray(T_i, dtype=np.float64)
    alpha_i = np.asarray(alpha_i, dtype=np.float64)
    alpha_mean = np.asarray(alpha_mean, dtype=np.float64)
    return t * (alpha_i - 1.0) / (alpha_i * T_i) * alpha_mean / (alpha_mean - 1.0)


def radial_parameters(
    tau: npt.ArrayLike, energy_gev: npt.ArrayLike, medium: SamplingMedium
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Core radius, tail radius and core probability of the radial profile at depth τ.

    Parameters
    ----------
    tau
        Depth variable τ (see :func:`tau_of_depth`), any shape.
    energy_gev
        Shower energy in GeV (finite, > 0), broadcast against ``tau``.
    medium
        Effective medium (Z_eff, F_S, ê).

    Returns
    -------
    r_core, r_tail : numpy.ndarray
        R_C and R_T in Molière units (multiply by ``medium.rm_eff_cm`` for cm).
    p_core : numpy.ndarray
        Probability that a spot belongs to the core, clipped to [0, 1].

    Notes
    -----
    f(r) = p·2rR_C²/(r²+R_C²)² + (1−p)·2rR_T²/(r²+R_T²)². Homogeneous terms [GF-H]
    (k₄ slope 0.0412 of [GF-H]; [FS] prints 0.0421), sampling corrections [GF-S] = [FS]:
    R_C − 0.0203(1−ê) + 0.0397e^(−τ)/F_S, R_T − 0.14(1−ê) − 0.495e^(−τ)/F_S,
    p + (1−ê)(0.348 − 0.642e^(−(τ−1)²)/F_S).
    """
    tau = np.asarray(tau, dtype=np.float64)
    ln_e = np.log(_energies(energy_gev))
    z = medium.z_eff
    one_minus_ehat = 1.0 - medium.ehat
    exp_tau = np.exp(-tau)

    z1 = 0.0251 + 0.00319 * ln_e  # [GF-H]
    z2 = 0.1162 - 0.000381 * z  # [GF-H]
    r_core = z1 + z2 * tau

    k1 = 0.659 - 0.00309 * z  # [GF-H]
    k2 = 0.645  # [GF-H]
    k3 = -2.59  # [GF-H]
    k4 = 0.3585 + 0.0412 * ln_e  # [GF-H] (0.0421 in [FS])
    r_tail = k1 * (np.exp(k3 * (tau - k2)) + np.exp(k4 * (tau - k2)))

    p1 = 2.632 - 0.00094 * z  # [GF-H]
    p2 = 0.401 + 0.00187 * z  # [GF-H]
    p3 = 1.313 - 0.0686 * ln_e  # [GF-H]
    arg = (p2 - tau) / p3
    p_core = p1 * np.exp(arg - np.exp(arg))

    # Sampling corrections [GF-S] = [FS].
    r_core = r_core - 0.0203 * one_minus_ehat + 0.0397 * exp_tau / medium.fs
    r_tail = r_tail - 0.14 * one_minus_ehat - 0.495 * exp_tau / medium.fs
    p_core = p_core + one_minus_ehat * (0.348 - 0.642 * np.exp(-((tau - 1.0) ** 2)) / medium.fs)
    return r_core, r_tail, np.clip(p_core, 0.0, 1.0)


def sample_radius(
    r_core: npt.ArrayLike,
    r_tail: npt.ArrayLike,
    p_core: npt.ArrayLike,
    rng: np.random.Generator,
) -> FloatArray:
    """Draw the radial distance of each spot from the shower axis.

    Parameters
    ----------
    r_core, r_tail
        R_C and R_T in Molière units (≥ 0), one per spot or broadcastable.
    p_core
        Core probability in [0, 1], broadcastable.
    rng
        Seeded generator; draws a ``(2, *shape)`` block of uniforms (core choice, radius).

    Returns
    -------
    numpy.ndarray
        r in Molière units, the broadcast shape of the inputs.

    Notes
    -----
    [GF-H/S]: core with probability p, otherwise tail; r = R·√(u/(1−u)), u uniform in [0, 1),
    which inverts the cumulative distribution r²/(r²+R²) of each component (median r = R).
    """
    r_core, r_tail, p_core = np.broadcast_arrays(
        np.asarray(r_core, dtype=np.float64),
        np.asarray(r_tail, dtype=np.float64),
        np.asarray(p_core, dtype=np.float64),
    )
    if not np.all(np.isfinite(r_core) & (r_core >= 0) & np.isfinite(r_tail) & (r_tail >= 0)):
        msg = "sample_radius needs finite radii >= 0 (Molière units)"
        raise ConfigError(msg)
    if not np.all((p_core >= 0) & (p_core <= 1)):
        msg = "sample_radius needs p_core in [0, 1]"
        raise ConfigError(msg)
    choice, u = rng.random((2, *p_core.shape))
    radius = np.where(choice < p_core, r_core, r_tail)
    return radius * np.sqrt(u / (1.0 - u))


def sample_radius_grouped(
    counts: npt.ArrayLike,
    r_core: npt.ArrayLike,
    r_tail: npt.ArrayLike,
    p_core: npt.ArrayLike,
    rng: np.random.Generator,
    dtype: npt.DTypeLike = np.float32,
) -> npt.NDArray[np.floating]:
    """Radii of ``counts[g]`` spots for each group g sharing one radial profile.

    The same distribution as :func:`sample_radius`, drawn group-wise for speed: the number
    of core spots of a group is binomial(counts, p_core), the rest are tail spots, and each
    spot's radius is R·√(u/(1−u)).  Spots come out ordered by group (core ones first
    within a group), one uniform per spot.

    Parameters
    ----------
    counts
        Spots per group, non-negative integers, shape (G,).
    r_core, r_tail, p_core
        R_C, R_T (Molière units, ≥ 0) and p of each group, shape (G,).
    rng
        Seeded generator.
    dtype
        Floating type of the result (float32 halves the memory traffic).

    Returns
    -------
    numpy.ndarray, shape (counts.sum(),), in Molière units.
    """
    counts = np.asarray(counts, dtype=np.int64)
    p_core = np.clip(np.asarray(p_core, dtype=np.float64), 0.0, 1.0)
    n_core = rng.binomial(counts, p_core)
    per_part = np.stack([n_core, counts - n_core], axis=-1).reshape(-1)
    radius = np.stack([np.asarray(r_core), np.asarray(r_tail)], axis=-1).reshape(-1).astype(dtype)
    u = rng.random(
        int(counts.sum()), dtype=np.float32 if np.dtype(dtype) == np.float32 else np.float64
    )
    return np.repeat(radius, per_part) * np.sqrt(u / (1 - u))


def spots_per_shower(energy_gev: npt.ArrayLike, stochastic_term: float) -> FloatArray:
    """Expected number of energy spots of a shower in a sampling calorimeter.

    Parameters
    ----------
    energy_gev
        Shower energies in GeV, finite and > 0, any shape.
    stochastic_term
        Stochastic term c_S of the energy resolution σ/E = c_S/√E, in √GeV (e.g. 0.22), > 0.

    Returns
    -------
    numpy.ndarray
        N_spot = (10.3/c_S)·E^0.959 (not rounded), shape of ``energy_gev``.

    Notes
    -----
    Constants of [FS] (the header comments of [GF-S] agree). The Geant4 *code* instead loads
    the homogeneous ``ParSpotN1`` = 93 and ``ParSpotN2`` = 0.876, computing 93/c_S·E^0.876;
    that is a bug and is not reproduced here.
    """
    energy = _energies(energy_gev)
    if not (np.isfinite(stochastic_term) and stochastic_term > 0):
        msg = f"stochastic_term must be finite and > 0 √GeV, got {stochastic_term!r}"
        raise ConfigError(msg)
    return (10.3 / stochastic_term) * energy**0.959  # [FS]
