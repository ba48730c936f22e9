"""Fixed-point quantisation with straight-through gradients (quantisation-aware training).

The ECON-T encoder sends its latent values as unsigned fixed-point numbers with one integer
bit: ``quantized_relu(bits, 1)`` in QKeras, range [0, 2) with ``bits − 1`` fractional bits
("0 to 2 range, 8 bit decimal" at 9 bits; econt.md §3, OW train.py).  Weights are signed
fixed point, ``quantized_bits(6, 1)`` on chip (1 sign bit + 5 fractional bits, range
[−1, 1 − 2⁻⁵]; econt.md §3).  In training the forward pass uses the quantised value and the
backward pass the identity inside the range (the straight-through estimator), so the bits of
a latent value are real during training, not only at export.
"""

from __future__ import annotations

import torch

from hgcal_ae.errors import ConfigError

__all__ = ["quantise_unsigned", "quantise_weights", "unsigned_step"]

MAX_BITS = 16


def _check_bits(bits: int) -> int:
    if isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= MAX_BITS:
        msg = f"bits per value must be an integer in 1..{MAX_BITS}, got {bits!r}"
        raise ConfigError(msg)
    return bits


def unsigned_step(bits: int, integer_bits: int = 1) -> float:
    """Quantisation step of an unsigned value with ``bits`` bits, ``integer_bits`` above the point."""
    return 2.0 ** (integer_bits - _check_bits(bits))


def quantise_unsigned(x: torch.Tensor, bits: int, integer_bits: int = 1) -> torch.Tensor:
    """Clip to [0, 2^integer_bits − step] and round to the step; identity gradient inside.

    With ``bits = 9, integer_bits = 1`` the 512 values 0, 1/256, …, 511/256.
    """
    step = unsigned_step(bits, integer_bits)
    top = 2.0**integer_bits - step
    clipped = x.clamp(0.0, top)
    quantised = torch.round(clipped / step) * step
    return clipped + (quantised - clipped).detach()  # straight-through estimator


def quantise_weights(w: torch.Tensor, bits: int = 6, integer_bits: int = 0) -> torch.Tensor:
    """Signed fixed point: ``bits`` including the sign, range [−2^i, 2^i − step], STE gradient."""
    step = 2.0 ** (integer_bits - (_check_bits(bits) - 1))
    top = 2.0**integer_bits
    clipped = w.clamp(-top, top - step)
    quantised = torch.round(clipped / step) * step
    return clipped + (quantised - clipped).detach()
