"""Grindhammer–Peters (GFlash) radial shower profiles and spot counts in a sampling calorimeter.

Pure, vectorised numpy kernels (hep-ex/0001020); the longitudinal profiles, and the sources
of the constants ([GF-H], [GF-S], [FS]), are :mod:`hgcal_ae.simulation.gflash`.  Units:
energies in GeV, depths t in radiation lengths X0 of the medium, radii in Molière radii.

Public API::

    tau_of_depth(t, T_i, alpha_i, alpha_mean) -> tau
    radial_parameters(tau, energy_gev, medium) -> (r_core, r_tail, p_core)
    sample_radius(r_core, r_tail, p_core, rng) -> r
    sample_radius_grouped(counts, r_core, r_tail, p_core, rng, dtype=np.float32) -> r
    spots_per_shower(energy_gev, stochastic_term) -> N_spot
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hgcal_ae.errors import ConfigError
from hgcal_ae.simulation.gflash import checked_energies
from hgcal_ae.simulation.medium import SamplingMedium

__all__ = [
    "radial_parameters",
    "sample_radius",
    "sample_radius_grouped",
    "spots_per_shower",
    "tau_of_depth",
]

FloatArray = npt.NDArray[np.float64]


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
    tau: FloatArray = t * (alpha_i - 1.0) / (alpha_i * T_i) * alpha_mean / (alpha_mean - 1.0)
    return tau


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
    ln_e = np.log(checked_energies(energy_gev))
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
    sampled: FloatArray = radius * np.sqrt(u / (1.0 - u))
    return sampled


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
    energy = checked_energies(energy_gev)
    if not (np.isfinite(stochastic_term) and stochastic_term > 0):
        msg = f"stochastic_term must be finite and > 0 √GeV, got {stochastic_term!r}"
        raise ConfigError(msg)
    return (10.3 / stochastic_term) * energy**0.959  # [FS]
