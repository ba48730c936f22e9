"""Bit-exact floating-point encodings of the ECON-T (and HGCROC) trigger data.

Public API::

    encode_float(values, exponent_bits, mantissa_bits) -> uint32 codes
    decode_float(codes, exponent_bits, mantissa_bits, *, centre=False) -> float64 values
    quantise(values, fmt, *, lsb=1.0, centre=False) -> float64 values
    FloatFormat(name, exponent_bits, mantissa_bits)  # .bits .max_value .encode .decode .quantise
    TC_4E3M, SUM_5E3M, SUM_5E4M, STC_4E3M, FORMATS

The convention (EMU:Utils/encode.py ``encode``/``decode`` with ``dropBits=0``), for a
non-negative integer ``v`` of bit length ``L`` and a format of ``E`` exponent and ``M``
mantissa bits:

* ``L <= M``: exponent ``e = 0`` and mantissa ``m = v`` (the "denormal" range, exact);
* otherwise ``e = L - M`` and ``m`` = the ``M`` bits just below the leading one, i.e.
  ``m = (v >> (e - 1)) & (2**M - 1)``; the ``e - 1`` lowest bits are **truncated**;
* the code is ``(e << M) | m``, ``E + M`` bits;
* values above the largest representable one saturate to the all-ones code.

Decoding gives the *representable value* (the lower edge of the bin, what the hardware
reconstructs): ``m`` if ``e == 0`` else ``(2**M + m) << (e - 1)``.  With ``centre=True`` it
adds half the bin width, ``2**(e - 2)`` for ``e >= 2`` (bins of ``e <= 1`` are one count
wide and exact): this is EMU ``decode(..., droppedBits=0, edge=False)``.  The largest
representable value is ``(2**(M + 1) - 1) << (2**E - 2)``, e.g. 245 760 for 4E3M.

The HGCROC also drops 1 (LD) or 3 (HD) LSBs before encoding (econt.md §1); express that
with ``lsb=2`` or ``lsb=8`` in :func:`quantise`, whose ``centre=True`` is then EMU
``decode(encode(v, dropBits=k), droppedBits=k, edge=False)``: half the bin width is added
to every bin, the one-lsb bins of ``e <= 1`` included (e.g. 5 counts at ``lsb=2`` give 5).

Charges given in a unit other than counts (MIP, with ``lsb=2/45``) are turned into counts
by :func:`to_counts`, an exact floor: ``n`` counts expressed in the unit (``n * lsb`` in
float64) give ``n`` back, where a plain ``floor(values / lsb)`` may give ``n - 1``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hgcal_ae.detector.layers import ADC_PER_MIP
from hgcal_ae.errors import ConfigError

__all__ = [
    "DROPPED_LSBS",
    "FORMATS",
    "STC_4E3M",
    "SUM_5E3M",
    "SUM_5E4M",
    "TC_4E3M",
    "FloatFormat",
    "decode_float",
    "encode_float",
    "max_value",
    "quantise",
    "tc_lsb_mip",
    "to_counts",
]

#: Largest bit length of a representable value: decoded values are exact in float64.
_MAX_VALUE_BITS = 53
#: Widest code this module produces (codes are returned as uint32).
_MAX_CODE_BITS = 32


def _check_widths(exponent_bits: int, mantissa_bits: int) -> None:
    """Raise ConfigError unless the widths give codes of <= 32 bits and values < 2**53."""
    for label, width in (("exponent_bits", exponent_bits), ("mantissa_bits", mantissa_bits)):
        if isinstance(width, bool) or not isinstance(width, int | np.integer) or width < 1:
            msg = f"expected {label} to be an integer >= 1, got {width!r}"
            raise ConfigError(msg)
    if exponent_bits + mantissa_bits > _MAX_CODE_BITS:
        msg = f"expected exponent_bits + mantissa_bits <= {_MAX_CODE_BITS}, got {exponent_bits} + {mantissa_bits}"
        raise ConfigError(msg)
    if mantissa_bits + 1 + 2**exponent_bits - 2 > _MAX_VALUE_BITS:
        msg = (
            f"a {exponent_bits}E{mantissa_bits}M format reaches values beyond 2**{_MAX_VALUE_BITS}, "
            "which float64 cannot hold exactly; use at most 5 exponent bits"
        )
        raise ConfigError(msg)


def max_value(exponent_bits: int, mantissa_bits: int) -> int:
    """Largest representable value, ``(2**(M + 1) - 1) << (2**E - 2)`` (EMU:Utils/encode.py)."""
    _check_widths(exponent_bits, mantissa_bits)
    largest: int = (2 ** (mantissa_bits + 1) - 1) << (2**exponent_bits - 2)
    return largest


def _as_counts_unfloored(values: ArrayLike) -> NDArray[np.float64]:
    """``values`` as float64; reject NaN and negative values."""
    v = np.asarray(values, dtype=np.float64)
    if np.isnan(v).any():
        msg = "expected non-negative counts, got NaN"
        raise ConfigError(msg)
    if (v < 0).any():
        msg = f"expected non-negative counts, got a minimum of {float(v.min())!r}"
        raise ConfigError(msg)
    return v


def _as_counts(values: ArrayLike) -> NDArray[np.float64]:
    """Floor ``values`` to integer counts (float64); reject NaN and negative values."""
    return np.floor(_as_counts_unfloored(values))


#: Relative distance to an integer within which ``values / lsb`` is that integer in
#: :func:`to_counts`: float64 rounding of ``n * lsb`` and of the division stays below a few
#: 1e-16, continuous charges land that close to an integer count with probability ~1e-12.
COUNT_RTOL = 1e-12


def to_counts(values: ArrayLike, lsb: float = 1.0) -> NDArray[np.float64]:
    """Whole counts of ``lsb`` in ``values``: ``floor(values / lsb)``, exact on whole counts.

    Parameters
    ----------
    values
        Non-negative charges, any shape, in the units of ``lsb``.
    lsb
        Value of one count (> 0), e.g. ``2/45`` MIP.

    Returns
    -------
    numpy.ndarray
        float64 integer counts, same shape.  A ratio ``values / lsb`` within
        :data:`COUNT_RTOL` (relative) of an integer is that integer: ``n`` counts expressed in
        the unit, ``n * lsb``, give ``n`` back, where float rounding of the division would
        otherwise floor some of them to ``n - 1`` (e.g. 245 760 HD counts of ``8/45`` MIP).

    Raises
    ------
    ConfigError
        On ``lsb <= 0`` or NaN/negative values.
    """
    if not np.isfinite(lsb) or lsb <= 0:
        msg = f"expected a finite lsb > 0, got {lsb!r}"
        raise ConfigError(msg)
    ratio = _as_counts_unfloored(values) / lsb
    nearest = np.rint(ratio)
    with np.errstate(invalid="ignore"):  # inf - inf
        whole = np.abs(ratio - nearest) <= COUNT_RTOL * np.maximum(nearest, 1.0)
    counts: NDArray[np.float64] = np.where(whole, nearest, np.floor(ratio))
    return counts


def encode_float(values: ArrayLike, exponent_bits: int, mantissa_bits: int) -> NDArray[np.uint32]:
    """Encode non-negative counts as ``E + M``-bit floating-point codes, truncating.

    Parameters
    ----------
    values
        Non-negative linear counts (ADC-like integers), any shape; fractional parts are
        floored away and values above :func:`max_value` saturate to the all-ones code.
    exponent_bits, mantissa_bits
        ``E`` and ``M``, e.g. 4 and 3 for the 7-bit TC format (EMU:Utils/encode.py).

    Returns
    -------
    numpy.ndarray
        Codes ``(e << M) | m`` as uint32, same shape as ``values`` (convention in the
        module docstring).

    Raises
    ------
    ConfigError
        On NaN or negative values, or widths outside ``E, M >= 1``, ``E <= 5``.
    """
    vmax = max_value(exponent_bits, mantissa_bits)
    v = np.minimum(_as_counts(values), float(vmax))
    # frexp's exponent of an integer-valued float is its bit length (0 for 0), exact < 2**53.
    _, length = np.frexp(v)
    e = np.maximum(length.astype(np.int64) - mantissa_bits, 0)
    vi = v.astype(np.int64)
    shifted = np.right_shift(vi, np.maximum(e - 1, 0))
    m = np.where(e == 0, vi, shifted & (2**mantissa_bits - 1))
    return ((e << mantissa_bits) | m).astype(np.uint32)


def decode_float(
    codes: ArrayLike, exponent_bits: int, mantissa_bits: int, *, centre: bool = False
) -> NDArray[np.float64]:
    """Decode ``E + M``-bit floating-point codes to linear counts.

    Parameters
    ----------
    codes
        Integer codes in ``[0, 2**(E + M))``, any shape.
    exponent_bits, mantissa_bits
        ``E`` and ``M`` of the format.
    centre
        False (default): the representable value, i.e. the lower edge of the bin, which is
        what the hardware reconstructs.  True: the bin centre, lower edge plus
        ``2**(e - 2)`` for ``e >= 2`` (EMU:Utils/encode.py ``decode(edge=False)``).

    Returns
    -------
    numpy.ndarray
        float64 counts (exact integers), same shape as ``codes``.

    Raises
    ------
    ConfigError
        On non-integer codes or codes outside the format's range.
    """
    _check_widths(exponent_bits, mantissa_bits)
    c = np.asarray(codes)
    if c.dtype.kind not in "iu" and c.size:
        msg = f"expected integer codes, got dtype {c.dtype}"
        raise ConfigError(msg)
    c = c.astype(np.int64)
    n_codes = 2 ** (exponent_bits + mantissa_bits)
    if c.size and (c.min() < 0 or c.max() >= n_codes):
        msg = f"expected codes in [0, {n_codes - 1}] for {exponent_bits}E{mantissa_bits}M, got [{c.min()}, {c.max()}]"
        raise ConfigError(msg)
    e = c >> mantissa_bits
    m = c & (2**mantissa_bits - 1)
    shift = np.maximum(e - 1, 0)
    value = np.where(e == 0, m, np.left_shift(m + 2**mantissa_bits, shift))
    if centre:
        value = value + np.where(shift > 0, np.left_shift(1, np.maximum(shift - 1, 0)), 0)
    decoded: NDArray[np.float64] = value.astype(np.float64)
    return decoded


@dataclass(frozen=True)
class FloatFormat:
    """A named ``E``-exponent, ``M``-mantissa unsigned floating-point format.

    Attributes
    ----------
    name
        Label, e.g. ``"TC_4E3M"``.
    exponent_bits, mantissa_bits
        ``E`` and ``M``; the code is ``E + M`` bits wide.
    """

    name: str
    exponent_bits: int
    mantissa_bits: int

    def __post_init__(self) -> None:
        _check_widths(self.exponent_bits, self.mantissa_bits)

    @property
    def bits(self) -> int:
        """Width of one code in bits."""
        return self.exponent_bits + self.mantissa_bits

    @property
    def max_value(self) -> int:
        """Largest representable count; larger values saturate to it."""
        return max_value(self.exponent_bits, self.mantissa_bits)

    def encode(self, values: ArrayLike) -> NDArray[np.uint32]:
        """Encode counts, see :func:`encode_float`."""
        return encode_float(values, self.exponent_bits, self.mantissa_bits)

    def decode(self, codes: ArrayLike, *, centre: bool = False) -> NDArray[np.float64]:
        """Decode codes, see :func:`decode_float`."""
        return decode_float(codes, self.exponent_bits, self.mantissa_bits, centre=centre)

    def quantise(
        self, values: ArrayLike, *, lsb: float = 1.0, centre: bool = False
    ) -> NDArray[np.float64]:
        """``decode(encode(values))`` in units of ``lsb``, see :func:`quantise`."""
        return quantise(values, self, lsb=lsb, centre=centre)

    def representable_values(self) -> NDArray[np.float64]:
        """Every representable count, in code order (strictly increasing)."""
        return self.decode(np.arange(2**self.bits))


def quantise(
    values: ArrayLike, fmt: FloatFormat, *, lsb: float = 1.0, centre: bool = False
) -> NDArray[np.float64]:
    """Return what ``fmt`` transmits for ``values``: ``decode(encode(to_counts(values, lsb))) * lsb``.

    Parameters
    ----------
    values
        Non-negative charges, any shape.  With ``lsb=1`` they are ADC-like integer counts
        (CALQ, econt.md §2); with e.g. ``lsb=1/35`` they are MIP_T (1 MIP_T ≈ 35 CALQ
        counts, OW:train.py) quantised on a 1/35 MIP_T step.
    fmt
        The format, e.g. :data:`TC_4E3M`.
    lsb
        Value of one count in the units of ``values`` (> 0); values are floored to counts
        by :func:`to_counts`, exact on whole counts.
    centre
        Decode to the bin centre instead of the representable (lower-edge) value: half the
        bin width, ``2**(e - 2) * lsb``, is added, and ``lsb / 2`` to a one-count bin
        (``e <= 1``) unless ``lsb == 1`` (integer counts, where such a bin holds one value).
        With ``lsb = 2**k`` counts this is EMU ``decode(droppedBits=k, edge=False)``.

    Returns
    -------
    numpy.ndarray
        float64, same shape and units as ``values``.

    Raises
    ------
    ConfigError
        On ``lsb <= 0`` or NaN/negative values.
    """
    codes = fmt.encode(to_counts(values, lsb))
    value = fmt.decode(codes)
    if centre:
        shift = np.maximum((codes.astype(np.int64) >> fmt.mantissa_bits) - 1, 0)
        half = np.where(shift > 0, np.exp2(shift - 1), 0.0 if lsb == 1 else 0.5)
        value = value + half
    scaled: NDArray[np.float64] = value * lsb
    return scaled


#: 7-bit TC charge, 4E+3M (EMU:Utils/encode.py; input and BC/TS/repeater outputs, econt.md §1, §6).
TC_4E3M = FloatFormat("TC_4E3M", 4, 3)
#: 8-bit module sum, 5E+3M, of Threshold-Sum and Best-Choice (EMU Formatter; econt.md §6).
SUM_5E3M = FloatFormat("SUM_5E3M", 5, 3)
#: 9-bit sum, 5E+4M: AE module sum and STC4_9/STC16_9 sums (EMU:ASICBlocks/Autoencoder.py
#: ``encode(SUM,0,5,4)``; Formatter ``Format_SuperTriggerCell``; econt.md §2, §6).
SUM_5E4M = FloatFormat("SUM_5E4M", 5, 4)
#: 7-bit STC sum, 4E+3M (STC4_7/CTC4_7; hgcal-tpg-fe STC4A, physics.md §4).
STC_4E3M = FloatFormat("STC_4E3M", 4, 3)

#: The named formats by name.
FORMATS: dict[str, FloatFormat] = {f.name: f for f in (TC_4E3M, SUM_5E3M, SUM_5E4M, STC_4E3M)}


#: LSBs the HGCROC drops before the ECON-T's 4E3M encoding, by sensor (econt.md §2,
#: physics.md §4): 1 on low-density, 3 on high-density wafers.
DROPPED_LSBS = {"ld8": 1, "hd8": 3}


def tc_lsb_mip(sensor_name: str) -> float:
    """LSB of the ECON-T 4E3M TC input [MIP]: 2^dropped / 45 ADC per MIP (2/45 LD, 8/45 HD)."""
    if sensor_name not in DROPPED_LSBS:
        msg = (
            f"unknown sensor {sensor_name!r}; expected one of {', '.join(map(repr, DROPPED_LSBS))}"
        )
        raise ConfigError(msg)
    lsb: float = 2 ** DROPPED_LSBS[sensor_name] / ADC_PER_MIP
    return lsb
