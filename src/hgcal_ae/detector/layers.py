"""The 28-layer CE-E stack of the October-2018 beam-test prototype.

Public API::

    ce_e_stack(cuw: str = "analysis", z_source: str = "g4") -> LayerStack
    gev_per_mip(weights_mev) -> GeV per MIP           # [MB]: 84.9e-6 + w / 1000
    odd_layers(stack=None) -> bool mask of odd layers  # final-design trigger layers
    MIP_KEV_300UM = 84.9                               # [TB], [MB]

Numbers from physics.md table 1.3.  Where the sources disagree the reading is an option:

* depth ``cuw``: ``"analysis"`` is the cumulative X0 of the positron analysis ([MB]
  ``config.py``, 27.725 X0 at layer 28, the official 27.7 X0); ``"W75Cu25"`` and
  ``"as_coded"`` are the Geant4 stack ([G4ex]) integrated with PDG X0 values [derived] for
  two readings of its CuW absorber: W75Cu25, the composition its density of 14.979 g/cm^3
  implies (26.69 X0 at layer 28), and a Cu mass fraction of 0.75 as the code sets it
  (24.79 X0).  The spread is a systematic, not a hidden constant.
* position ``z_source``: ``"g4"`` is the centre of each Si layer from the front face of the
  5 mm Al case in the [G4ex] stack [derived]; ``"prompt_reco"`` the preliminary [TB]
  ``layer_distances_CERN_Hexaboard_October2018_setup1_promptReco_v2.txt`` (origin arbitrary).
  [G4ex] is the later, more detailed model and the default.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hgcal_ae.errors import ConfigError

__all__ = [
    "ADC_PER_MIP",
    "CUW_READINGS",
    "MIP_KEV_300UM",
    "N_LAYERS",
    "Z_SOURCES",
    "LayerStack",
    "ce_e_stack",
    "gev_per_mip",
    "odd_layers",
]

FloatArray = npt.NDArray[np.float64]

MIP_KEV_300UM = 84.9  # MIP deposit in 300 um Si [keV]: [TB] processSim.py, [MB] MIPtoGeV
ADC_PER_MIP = 45.0  # high gain 0.0222222 MIP per ADC, [TB] calibration file (physics.md §2.2)
N_LAYERS = 28  # CE-E sampling layers, 14 double-sided cassettes [TQ], [G4ex]
CUW_READINGS = ("analysis", "W75Cu25", "as_coded")
Z_SOURCES = ("g4", "prompt_reco")

_FPF = "Fe+Pb+Fe"  # Fe 0.3 / Pb 4.9 / Fe 0.3 mm [G4ex]
_CUW = "CuW/Cu/CuW"  # CuW 1.2 / Cu 6.0 / CuW 1.2 mm [G4ex]
_CUW_CU = "Cu+CuW/Cu/CuW+Cu"  # cassettes 11, 12: extra 1.2 mm Cu each side [G4ex]
# physics.md table 1.3, one row per layer:
# absorber in front [G4ex]; z_G4 [mm] [G4ex, derived]; z_promptReco [mm] [TB];
# sum X0 analysis [MB]; delta X0 [MB]; sum X0 G4 W75Cu25 / as coded [G4ex, derived];
# dE/dx weight [MeV] [MB] (layer 28 includes the 40 mm steel case behind it).
_TABLE = (
    (_FPF, 138.6, 133.2, 0.943, 0.943, 1.01, 1.01, 10.199),
    (_CUW, 147.5, 142.1, 1.923, 0.980, 1.90, 1.78, 9.851),
    (_FPF, 167.7, 165.8, 2.858, 0.935, 2.85, 2.73, 9.851),
    (_CUW, 176.6, 174.7, 3.838, 0.980, 3.75, 3.49, 9.851),
    (_FPF, 196.7, 198.4, 4.773, 0.935, 4.70, 4.44, 9.851),
    (_CUW, 205.6, 207.3, 5.753, 0.980, 5.59, 5.21, 9.851),
    (_FPF, 226.8, 231.0, 6.688, 0.935, 6.54, 6.16, 9.851),
    (_CUW, 235.7, 239.9, 7.668, 0.980, 7.43, 6.93, 9.851),
    (_FPF, 256.8, 263.6, 8.603, 0.935, 8.38, 7.88, 9.851),
    (_CUW, 265.7, 272.5, 9.583, 0.980, 9.28, 8.65, 9.851),
    (_FPF, 286.9, 296.2, 10.518, 0.935, 10.23, 9.60, 9.851),
    (_CUW, 295.8, 305.1, 11.498, 0.980, 11.12, 10.36, 9.851),
    (_FPF, 314.9, 328.8, 12.433, 0.935, 12.07, 11.31, 9.851),
    (_CUW, 323.8, 337.7, 13.413, 0.980, 12.96, 12.08, 9.851),
    (_FPF, 343.0, 361.4, 14.348, 0.935, 13.91, 13.03, 9.851),
    (_CUW, 351.9, 370.3, 15.328, 0.980, 14.81, 13.80, 9.851),
    (_FPF, 371.0, 394.0, 16.263, 0.935, 15.76, 14.75, 9.851),
    (_CUW, 379.9, 402.9, 17.243, 0.980, 16.65, 15.52, 9.851),
    (_FPF, 399.1, 426.6, 18.178, 0.935, 17.60, 16.47, 9.851),
    (_CUW, 408.0, 435.5, 19.157, 0.979, 18.50, 17.23, 9.851),
    (_FPF, 428.9, 460.5, 20.092, 0.935, 19.45, 18.18, 11.360),
    (_CUW_CU, 440.2, 471.8, 21.240, 1.148, 20.51, 19.12, 11.360),
    (_FPF, 464.0, 499.8, 22.174, 0.934, 21.46, 20.07, 11.360),
    (_CUW_CU, 475.3, 512.7, 23.322, 1.148, 22.52, 21.00, 11.360),
    (_FPF, 496.7, 539.4, 24.256, 0.934, 23.47, 21.95, 10.995),
    ("CuW 1.75/Cu 6/CuW 1.81", 506.7, 549.5, 25.505, 1.249, 24.59, 22.89, 10.995),
    (_FPF, 528.7, 576.2, 26.440, 0.935, 25.54, 23.84, 11.153),
    ("CuW 1.81/Cu 6/CuW 1.91", 538.9, 586.4, 27.725, 1.285, 26.69, 24.79, 36.139),
)
_COLUMNS = np.array([row[1:] for row in _TABLE], dtype=np.float64)
_Z_COLUMN = {"g4": 0, "prompt_reco": 1}
_X0_COLUMN = {"analysis": 2, "W75Cu25": 4, "as_coded": 5}


@dataclass(frozen=True, eq=False)
class LayerStack:
    """Per-layer geometry of the CE-E stack; every array has shape (28,).

    Attributes
    ----------
    layer : numpy.ndarray of int64
        Layer number, 1..28.
    z_mm : numpy.ndarray of float64
        Longitudinal position of the Si layer [mm] (reading ``z_source``).
    x0_cumulative : numpy.ndarray of float64
        Depth at the layer in radiation lengths [X0] (reading ``cuw``).
    x0_step : numpy.ndarray of float64
        Radiation lengths of the absorber in front of the layer [X0]: the [MB] column for
        ``"analysis"``, the differences of ``x0_cumulative`` for the Geant4 readings.
    dedx_weight_mev : numpy.ndarray of float64
        dE/dx absorber weight [MeV per MIP] of the positron analysis [MB].
    absorber : numpy.ndarray of str
        The absorber in front of the layer, as text.
    cuw, z_source : str
        The readings chosen (see the module docstring).
    """

    layer: npt.NDArray[np.int64]
    z_mm: FloatArray
    x0_cumulative: FloatArray
    x0_step: FloatArray
    dedx_weight_mev: FloatArray
    absorber: npt.NDArray[np.str_]
    cuw: str
    z_source: str

    def __post_init__(self) -> None:
        for value in vars(self).values():
            if isinstance(value, np.ndarray):
                value.flags.writeable = False

    @property
    def n_layers(self) -> int:
        """Number of layers (28)."""
        return int(self.layer.size)


def _choose(value: str, choices: dict[str, int], what: str) -> int:
    if value not in choices:
        names = ", ".join(repr(c) for c in choices)
        msg = f"unknown {what} {value!r}; expected one of {names}"
        raise ConfigError(msg)
    return choices[value]


def ce_e_stack(cuw: str = "analysis", z_source: str = "g4") -> LayerStack:
    """The 28 CE-E layers of the October-2018 prototype (physics.md table 1.3).

    Parameters
    ----------
    cuw
        Depth reading: ``"analysis"`` ([MB], default), ``"W75Cu25"`` or ``"as_coded"``
        ([G4ex] with the two CuW compositions).
    z_source
        Layer positions: ``"g4"`` ([G4ex], default) or ``"prompt_reco"`` ([TB]).

    Raises
    ------
    ConfigError
        If ``cuw`` or ``z_source`` is not one of the choices above.
    """
    x0_column = _choose(cuw, _X0_COLUMN, "CuW reading 'cuw'")
    z_column = _choose(z_source, _Z_COLUMN, "layer-position source 'z_source'")
    x0_cumulative = _COLUMNS[:, x0_column].copy()
    # the [MB] step column for the analysis reading; differences for the Geant4 ones
    x0_step = _COLUMNS[:, 3].copy() if cuw == "analysis" else np.diff(x0_cumulative, prepend=0.0)
    return LayerStack(
        layer=np.arange(1, N_LAYERS + 1, dtype=np.int64),
        z_mm=_COLUMNS[:, z_column].copy(),
        x0_cumulative=x0_cumulative,
        x0_step=x0_step,
        dedx_weight_mev=_COLUMNS[:, 6].copy(),
        absorber=np.array([row[0] for row in _TABLE]),
        cuw=cuw,
        z_source=z_source,
    )


def gev_per_mip(weights_mev: npt.ArrayLike) -> FloatArray:
    """Energy per MIP of a layer: the Si deposit plus the absorber's dE/dx weight.

    GeV/MIP = 84.9e-6 + w / 1000, the energy conversion of the positron analysis [MB]; the
    first term is :data:`MIP_KEV_300UM` in GeV.

    Parameters
    ----------
    weights_mev
        dE/dx weights w [MeV], any shape (e.g. ``LayerStack.dedx_weight_mev``).

    Returns
    -------
    numpy.ndarray of float64, the shape of ``weights_mev`` [GeV per MIP].
    """
    return MIP_KEV_300UM * 1e-6 + np.asarray(weights_mev, dtype=np.float64) / 1000.0


def odd_layers(stack: LayerStack | None = None) -> npt.NDArray[np.bool_]:
    """Mask of the odd layers (1, 3, ..., 27), the CE-E layers that send trigger data.

    In the final design only odd CE-E layers have ECON-T links (physics.md section 4,
    ECONT_Emulator ``ModuleLinkSummary.csv``).  Indices: ``np.flatnonzero(odd_layers())``.

    Parameters
    ----------
    stack
        The stack to mask; default :func:`ce_e_stack()`.

    Returns
    -------
    numpy.ndarray of bool, shape (n_layers,)
    """
    layer = (stack if stack is not None else ce_e_stack()).layer
    odd: npt.NDArray[np.bool_] = layer % 2 == 1
    return odd
