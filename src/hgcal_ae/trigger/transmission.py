"""The ECON-T transmission chain of the autoencoder: inputs on the chip, charges off it.

Public API::

    encoder_inputs(tc) -> (images (N, 8, 8) float32, scale (N,))   # what the encoder sees
    to_module_sum(shape, tc, *, lsb, zero_suppress=0.0) -> (N, 48)  # what the trigger sees
    transmit_autoencoder(shape, tc, n_elinks, latent_dim, latent_bits, *, lsb,
                         zero_suppress=0.0) -> AlgorithmOutput

**On the chip** (econt.md §2): a module's 48 TC charges are divided by the module sum rounded
down to a power of two (:func:`~hgcal_ae.trigger.normalisation.normalise_sumlog2`), rounded
to 8-bit inputs (steps of 1/256) and laid out as the 8x8 image; the encoder turns that image
into the latent code, sent with a 9-bit 5E4M module sum in the AE frame.

**Off the chip**: the decoder's image goes back to 48 normalised values, which are rescaled
so that their sum is the transmitted module sum (``preserveModuleSum``, OW train.py /
CMSSW); decoded values below a zero-suppression threshold (0.1 MIP_T in CMSSW) are dropped
first, the largest TC of a module always kept, so no energy leaves the module.

The network itself lives in :mod:`hgcal_ae.models`; these functions are its numpy
surroundings, so that the AE is one ECON-T algorithm beside the baselines.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hgcal_ae.trigger.autoencoder_budget import autoencoder_bits, check_autoencoder_fits
from hgcal_ae.trigger.baselines import ELINK_BITS, AlgorithmOutput, elinks_setting
from hgcal_ae.trigger.formats import SUM_5E4M
from hgcal_ae.trigger.images import to_image_8x8
from hgcal_ae.trigger.normalisation import normalise_sumlog2, quantise_inputs

__all__ = ["encoder_inputs", "to_module_sum", "transmit_autoencoder"]

FloatArray = npt.NDArray[np.float64]


def encoder_inputs(tc: npt.ArrayLike) -> tuple[npt.NDArray[np.float32], FloatArray]:
    """ECON-T encoder inputs of modules: 8x8 images ``(N, 8, 8)`` and the sumlog2 scales ``(N,)``.

    Raises
    ------
    DataError
        If a module holds NaN or infinite charges (none is dropped silently).
    """
    normalised, scale = normalise_sumlog2(np.asarray(tc, dtype=np.float64))
    return to_image_8x8(quantise_inputs(normalised)).astype(np.float32), scale


def to_module_sum(
    shape: FloatArray, tc: FloatArray, *, lsb: float, zero_suppress: float = 0.0
) -> FloatArray:
    """Decoded shapes ``(N, 48)`` to the charges the trigger sees, with the transmitted sum.

    The module sum of ``tc`` is sent as a 9-bit 5E4M code (``lsb`` per count).  Zero suppression
    comes first, then the rescaling to the transmitted sum, so that suppressing the decoder's
    faint haze moves no energy out of the module; the largest TC is always kept.
    """
    module_sum = SUM_5E4M.quantise(tc.sum(axis=1), lsb=lsb)
    total = shape.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = np.where(total[:, None] > 0, shape * (module_sum / total)[:, None], 0.0)
    largest = scaled == scaled.max(axis=1, keepdims=True)  # a module keeps at least one TC
    kept = np.where((scaled >= zero_suppress) | largest, shape, 0.0)
    kept_total = kept.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(kept_total[:, None] > 0, kept * (module_sum / kept_total)[:, None], 0.0)


def transmit_autoencoder(
    shape: FloatArray,
    tc: FloatArray,
    n_elinks: int,
    latent_dim: int,
    latent_bits: int,
    *,
    lsb: float,
    zero_suppress: float = 0.0,
) -> AlgorithmOutput:
    """The AE as one ECON-T algorithm, comparable with :mod:`hgcal_ae.trigger.baselines`.

    Parameters
    ----------
    shape
        The decoder's output per module ``(N, 48)`` (any scale: only the shape counts).
    tc
        The modules' input charges ``(N, 48)``, whose sum the frame carries.
    latent_dim, latent_bits
        The code sent: ``latent_dim`` values of ``latent_bits`` bits.

    Raises
    ------
    ConfigError
        If the latent code does not fit ``n_elinks`` (see ``check_autoencoder_fits``).
    """
    check_autoencoder_fits(latent_dim, latent_bits, n_elinks)
    reconstructed = to_module_sum(shape, tc, lsb=lsb, zero_suppress=zero_suppress)
    bits = np.full(len(reconstructed), autoencoder_bits(latent_dim, latent_bits), dtype=np.int64)
    return AlgorithmOutput(
        name="autoencoder",
        reconstructed=reconstructed,
        bits=bits,
        fits=bits <= ELINK_BITS * n_elinks,
        n_elinks=n_elinks,
        setting=f"{elinks_setting(n_elinks)}, latent {latent_dim}×{latent_bits} bits",
        label=f"AE {latent_dim}×{latent_bits} bits",
    )
