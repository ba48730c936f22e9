"""Energy deposits of charged-particle crossings in 300 µm silicon (Landau distribution).

The deposit of one crossing follows Landau's distribution with scale ξ from the Bethe
formula, ξ = K/2 · (Z/A) · ρ·d / β² with K = 0.307 MeV cm²/mol (PDG), Z/A = 0.4985 and
ρ = 2.33 g/cm³ for Si, d = 300 µm, β = 1: ξ = 5.35 keV.  Its most probable value is the
MIP scale itself, 84.9 keV ([TB] processSim.py), so deposits are drawn in MIP units.  The
tail is cut at the largest energy a shower electron at the critical energy can hand to an
atomic electron (half its kinetic energy, Møller kinematics), so the mean is finite.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt
from scipy import stats

__all__ = ["LANDAU_XI_KEV_300UM", "MIP_KEV", "sample_deposits_mip"]

MIP_KEV = 84.9  # MPV of a MIP in 300 µm Si [TB]
LANDAU_XI_KEV_300UM = 0.5 * 0.307075 * 0.4985 * 2.33 * 0.0300 * 1000.0  # [keV], Bethe/PDG

_GRID = 40_000
_QUANTILES = 1 << 16  # probability steps of the sampling table


@lru_cache(maxsize=8)
def _inverse_cdf_table(cut_mip: float) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(cdf, deposit_mip) on a grid, for inverse-transform sampling of the truncated Landau."""
    grid = np.linspace(-4.0, 0.0, 2000)
    mpv_std = grid[
        np.argmax(stats.landau.pdf(grid))
    ]  # most probable value of scipy's standard form
    scale = LANDAU_XI_KEV_300UM / MIP_KEV
    lam_cut = mpv_std + (cut_mip - 1.0) / scale
    lam = np.concatenate(
        [
            np.linspace(-4.0, 20.0, _GRID // 2),
            np.geomspace(20.0, max(lam_cut, 21.0), _GRID // 2)[1:],
        ]
    )
    lam = lam[lam <= lam_cut]
    cdf = stats.landau.cdf(lam)
    cdf = (cdf - cdf[0]) / (cdf[-1] - cdf[0])
    deposit = 1.0 + (lam - mpv_std) * scale
    return cdf, deposit


@lru_cache(maxsize=8)
def _quantile_table(cut_mip: float) -> npt.NDArray[np.float32]:
    """Deposit [MIP] at the probabilities 0, 1/Q, ..., 1 of the truncated Landau."""
    cdf, deposit = _inverse_cdf_table(cut_mip)
    return np.interp(np.linspace(0.0, 1.0, _QUANTILES + 1), cdf, deposit).astype(np.float32)


def sample_deposits_mip(
    n: int, rng: np.random.Generator, cut_mip: float
) -> npt.NDArray[np.float32]:
    """Draw ``n`` deposits [MIP] of single crossings, truncated at ``cut_mip``.

    Parameters
    ----------
    n
        Number of crossings.
    rng
        Seeded generator (one uniform per crossing).
    cut_mip
        Largest deposit [MIP].
    """
    quantiles = _quantile_table(float(cut_mip))
    # inverse-transform sampling on a uniform grid of probabilities: no search, one lookup
    position = rng.random(n, dtype=np.float32) * np.float32(_QUANTILES)
    index = np.minimum(position.astype(np.int32), _QUANTILES - 1)  # float32 can round up to Q
    frac = position - index.astype(np.float32)
    low: npt.NDArray[np.float32] = quantiles[index]
    high: npt.NDArray[np.float32] = quantiles[index + 1]
    return low + frac * (high - low)
