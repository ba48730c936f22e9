"""Effective shower parameters of a sampling medium, as the GFlash kernels need them.

Public API::

    SamplingMedium(z_eff, x0_eff_cm, rm_eff_cm, ec_eff_mev, fs, ehat)
    tb2018_medium(cuw: str = "W75Cu25") -> SamplingMedium
    MEDIUM_READINGS = ("Cu75W25", "W75Cu25")
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hgcal_ae.errors import ConfigError

__all__ = ["MEDIUM_READINGS", "SamplingMedium", "tb2018_medium"]


@dataclass(frozen=True)
class SamplingMedium:
    """Effective (mixture) parameters of a sampling calorimeter for the GFlash formulas.

    Attributes
    ----------
    z_eff
        Effective atomic number of the passive material (dimensionless).
    x0_eff_cm
        Effective radiation length in cm.
    rm_eff_cm
        Effective Molière radius in cm (the unit of the radial GFlash profile).
    ec_eff_mev
        Effective critical energy in MeV (y = E/E_c).
    fs
        Sampling frequency F_S = X0_eff/(d_active + d_passive) (dimensionless).
    ehat
        ê = 1/(1 + 0.007 (Z_passive − Z_active)) (dimensionless).

    Notes
    -----
    Mixture rules and definitions: Grindhammer & Peters, hep-ex/0001020, and Geant4
    ``GFlashSamplingShowerParameterisation::ComputeZAX0EFFetc`` (reference/physics.md §3).
    """

    z_eff: float
    x0_eff_cm: float
    rm_eff_cm: float
    ec_eff_mev: float
    fs: float
    ehat: float

    def __post_init__(self) -> None:
        for name in ("z_eff", "x0_eff_cm", "rm_eff_cm", "ec_eff_mev", "fs"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                msg = f"SamplingMedium.{name} must be finite and > 0, got {value!r}"
                raise ConfigError(msg)
        if not (math.isfinite(self.ehat) and 0 < self.ehat <= 1):
            msg = f"SamplingMedium.ehat must lie in (0, 1], got {self.ehat!r}"
            raise ConfigError(msg)


# One standard CE-E cassette of the Oct-2018 beam test, including 12.4 mm of air
# (reference/physics.md §1.4 [derived] from the [G4ex] stack, PDG X0/E_c/R_M), for the two
# readings of the CuW absorber composition.
_TB2018 = {
    "Cu75W25": SamplingMedium(
        z_eff=49.5, x0_eff_cm=1.75, rm_eff_cm=2.88, ec_eff_mev=12.9, fs=1.16, ehat=0.80
    ),
    "W75Cu25": SamplingMedium(
        z_eff=54.7, x0_eff_cm=1.63, rm_eff_cm=2.96, ec_eff_mev=11.7, fs=1.09, ehat=0.78
    ),
}
MEDIUM_READINGS = tuple(_TB2018)


def tb2018_medium(cuw: str = "W75Cu25") -> SamplingMedium:
    """Effective GFlash medium of one standard CE-E cassette of the 2018 beam-test prototype.

    Parameters
    ----------
    cuw
        Reading of the CuW absorber: ``"W75Cu25"`` (default) or ``"Cu75W25"``.

    Returns
    -------
    SamplingMedium
        Values of reference/physics.md §1.4 (X0_eff 1.75/1.63 cm, R_M,eff 2.88/2.96 cm,
        E_c,eff 12.9/11.7 MeV, Z_eff 49.5/54.7, ê 0.80/0.78, F_S 1.16/1.09 for
        Cu75W25/W75Cu25).

    Raises
    ------
    ConfigError
        If ``cuw`` is not one of :data:`MEDIUM_READINGS`.
    """
    try:
        return _TB2018[cuw]
    except (KeyError, TypeError):
        names = ", ".join(repr(c) for c in MEDIUM_READINGS)
        msg = f"unknown CuW reading {cuw!r}; expected one of {names}"
        raise ConfigError(msg) from None
