"""Normalisation and input quantisation of a module's 48 TCs before the encoder (econt.md section 2).

Public API::

    normalise_sumlog2(tc) -> (normalised (..., 48), scale (...,))   # the ECON-T default
    normalise_by_sum(tc)  -> (normalised, scale)                    # scale = module sum
    normalise_by_max(tc)  -> (normalised, scale)                    # scale = largest TC
    denormalise(normalised, scale) -> (..., 48)                     # normalised * scale
    quantise_inputs(normalised, bits=8) -> same shape               # steps of 1 / 2^bits

**sumlog2** (Ecoder OW:train.py ``normalize``, "normalizes to MSB of the sum of charges";
CMSSW ``HGCalConcentratorAutoEncoderImpl.cc``, "bit shift normalization like will be
implemented in ECON"): x_i = q_i / 2^floor(log2 sum_j q_j), so sum_i x_i lies in [1, 2) and
every x_i in [0, 2) for non-negative q.  The power of two is taken exactly from the float
exponent (``frexp``), not from a rounded ``log2``.  The other two options are Ecoder's
division by the true sum and ``--rescaleInputToMax``.

**Empty modules.** A module whose scale would be 0 or negative (sum <= 0, or max <= 0 for
:func:`normalise_by_max`) gets ``scale = 0`` and ``normalised = 0`` everywhere, without a
division; :func:`denormalise` then gives 0 back.  (Ecoder drops such rows, CMSSW leaves the
inputs at 0.)

Every function takes numpy arrays or torch tensors (same kind out; torch keeps dtype and
device).  Integer input becomes float64 (numpy) or torch's default float dtype.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, TypeVar

import numpy as np

from hgcal_ae.detector.trigger_cells import N_TRIGGER_CELLS as N_TC
from hgcal_ae.errors import ConfigError, DataError

__all__ = [
    "INPUT_BITS",
    "denormalise",
    "normalise_by_max",
    "normalise_by_sum",
    "normalise_sumlog2",
    "quantise_inputs",
]

INPUT_BITS = 8  # CMSSW nBitsPerInput = 8 (HGCalConcentratorAutoEncoderImpl.cc, econt.md section 2)

ArrayT = TypeVar("ArrayT")  # numpy.ndarray or torch.Tensor


def _backend(x: Any) -> tuple[Any, ModuleType]:
    """``(x as a float array/tensor, numpy or torch)``."""
    if type(x).__module__.split(".")[0] == "torch":
        import torch

        return (x if x.is_floating_point() else x.to(torch.get_default_dtype())), torch
    array = np.asarray(x)
    if not np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float64)
    return array, np


def _check_tc(x: Any, what: str, xp: ModuleType) -> None:
    shape = tuple(x.shape)
    if len(shape) == 0 or shape[-1] != N_TC:
        msg = f"{what} must have shape (..., {N_TC}), got {shape}"
        raise ConfigError(msg)
    bad = ~xp.isfinite(x).all(-1)
    if bad.any():  # a NaN sum would otherwise pass as an empty module, silently
        msg = f"{what}: {int(bad.sum())} of {int(np.prod(tuple(bad.shape)))} modules hold NaN or infinite charges; refusing them rather than treating them as empty"
        raise DataError(msg)


def _divide(tc: Any, scale: Any, xp: ModuleType) -> tuple[Any, Any]:
    """``tc / scale[..., None]`` where scale > 0; 0 (and scale 0) elsewhere, without warnings."""
    positive = scale > 0
    scale = xp.where(positive, scale, xp.zeros_like(scale))
    safe = xp.where(positive, scale, xp.ones_like(scale))
    normalised = xp.where(positive[..., None], tc / safe[..., None], xp.zeros_like(tc))
    return normalised, scale


def normalise_sumlog2(tc: ArrayT) -> tuple[ArrayT, ArrayT]:
    """Divide each module by the power of two at or below its sum (the ECON-T "sumlog2").

    Parameters
    ----------
    tc
        TC charges, shape (..., 48), any unit (MIP, MIP_T, CALQ counts).

    Returns
    -------
    normalised : shape (..., 48)
        q_i / scale; their sum is in [1, 2) for every module with a positive sum.
    scale : shape (...,)
        2^floor(log2(sum q)) in the unit of ``tc``; 0 for modules with sum <= 0.

    Raises
    ------
    ConfigError
        If the last axis is not 48 long.
    DataError
        If a module holds NaN or infinite charges (counted in the message; none is dropped).
    """
    x, xp = _backend(tc)
    _check_tc(x, "trigger cells", xp)
    total = x.sum(-1)
    # total = m 2^e with m in [0.5, 1), so floor(log2 total) = e - 1 exactly
    _, exponent = xp.frexp(total)
    scale = xp.ldexp(xp.ones_like(total), exponent - 1)
    return _divide(x, xp.where(total > 0, scale, xp.zeros_like(scale)), xp)


def normalise_by_sum(tc: ArrayT) -> tuple[ArrayT, ArrayT]:
    """Divide each module by its sum (Ecoder option): normalised sum exactly 1, scale = sum.

    Shapes, units and errors as :func:`normalise_sumlog2`; scale 0 where the sum is <= 0.
    """
    x, xp = _backend(tc)
    _check_tc(x, "trigger cells", xp)
    return _divide(x, x.sum(-1), xp)


def normalise_by_max(tc: ArrayT) -> tuple[ArrayT, ArrayT]:
    """Divide each module by its largest TC (Ecoder ``--rescaleInputToMax``): max becomes 1.

    Shapes, units and errors as :func:`normalise_sumlog2`; scale 0 where the max is <= 0.
    """
    x, xp = _backend(tc)
    _check_tc(x, "trigger cells", xp)
    largest = x.amax(dim=-1) if xp is not np else x.max(axis=-1)
    return _divide(x, largest, xp)


def denormalise(normalised: ArrayT, scale: ArrayT) -> ArrayT:
    """Undo a normalisation: ``normalised * scale[..., None]``.

    Parameters
    ----------
    normalised
        Shape (..., 48), e.g. the decoder output.
    scale
        Shape (...,), the scale returned by the normaliser (0 for empty modules).

    Returns
    -------
    Shape (..., 48), in the unit of ``scale``.

    Raises
    ------
    ConfigError
        If the last axis is not 48 long or ``scale`` does not have the leading shape.
    """
    x, xp = _backend(normalised)
    s, _ = _backend(scale)
    _check_tc(x, "normalised trigger cells", xp)
    if tuple(s.shape) != tuple(x.shape[:-1]):
        msg = f"scale must have shape {tuple(x.shape[:-1])} (the leading shape of the TCs), got {tuple(s.shape)}"
        raise ConfigError(msg)
    charges: ArrayT = x * s[..., None]  # x and s are numpy or torch, as the caller gave
    return charges


def quantise_inputs(normalised: ArrayT, bits: int = INPUT_BITS) -> ArrayT:
    """Round normalised inputs to multiples of 2^-bits, as CMSSW does before the encoder.

    CMSSW (``HGCalConcentratorAutoEncoderImpl.cc``) computes
    ``std::round(x * 2^nBitsPerInput) / 2^nBitsPerInput`` with ``nBitsPerInput = 8``: steps
    of 1/256, halves rounded away from zero (reproduced here; numpy/torch ``round`` would
    round halves to even), no clipping.  sumlog2 inputs lie in [0, 2), so the quantised
    values lie in [0, 2]: the largest is 2 (511.5/256 and above round up to 512/256), i.e.
    ``bits`` fractional bits plus one integer bit.  Not differentiable (zero gradient);
    quantisation-aware training belongs to :mod:`hgcal_ae.models`.

    Parameters
    ----------
    normalised
        Any shape, numpy or torch.
    bits
        Fractional bits, a positive integer (default 8).

    Raises
    ------
    ConfigError
        If ``bits`` is not a positive integer.
    """
    if isinstance(bits, bool) or not isinstance(bits, int | np.integer) or bits < 1:
        msg = f"bits must be a positive integer (CMSSW nBitsPerInput = {INPUT_BITS}), got {bits!r}"
        raise ConfigError(msg)
    x, xp = _backend(normalised)
    steps = float(2 ** int(bits))
    rounded: ArrayT = xp.sign(x) * xp.floor(xp.abs(x) * steps + 0.5) / steps
    return rounded
