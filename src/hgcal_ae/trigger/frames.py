"""ECON-T output frames as bits: the exact bit string each algorithm sends, per module.

Public API::

    Field(name, width, values, present=None)    # one field of a frame, item by item
    field(name, width, values, present=None, *, n) -> Field   # checked and broadcast
    Frame(name, bits, length, word_bits)        # .padded_length .strings()
    pack(name, fields, word_bits) -> Frame      # the frame of every module, vectorised
    frame_length(fields) -> (N,) int64          # payload bits, without the padding
    bx_header(bx, width, n) -> (N,) int64         # the BX header field value
    autoencoder_frame(latent, latent_bits, sum_code, n_elinks, *, bx=0) -> Frame
    MUX_ORDER, MUX_INDEX                        # TC id at each MUX (CALQ) index and back

A frame is a sequence of fields, most significant bit first, each item ``width`` bits wide
(EMU:ASICBlocks/Formatter.py writes every field with ``format(x, '0Nb')``); an item is sent
only where its ``present`` flag is set, so variable-length frames (Threshold-Sum) pack
without per-module loops.  The payload length (:func:`frame_length`) is what the algorithms
report as ``bits``; the frame is then padded with zeros to whole words of ``word_bits`` (16
for Threshold-Sum, Best Choice, repeater and autoencoder, 32 for the STCs, as the EMU
Formatter does).  The algorithms build their fields in :mod:`hgcal_ae.trigger.baselines`
(``AlgorithmOutput.frame``), so that their bit counts and their frames come from one layout.

**MUX order.**  The emulator's algorithms see the TCs in the order of the ECON-T MUX output
(its ``CALQ_0..47``): the STC groups are 4 (2×2) or 16 (4×4) consecutive MUX indices, and
TC addresses, maps and the Best-Choice sorting network use MUX indices.  This project's TC
ids (16·rhombus + 4·row + col, :mod:`hgcal_ae.trigger.cells`) are its own; its MUX order is
defined so that the emulator's groups are exactly its STCs: MUX index = 4·STC4 index +
address in the 2×2 group, i.e. ``16·rhombus + 4·(2·(row // 2) + col // 2) + 2·(row % 2) +
col % 2``.  The real ECON-T MUX registers (EMU ``Utils/LDM_TC_Mapping.csv``) are not used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hgcal_ae.detector.trigger_cells import N_TRIGGER_CELLS as N_TC
from hgcal_ae.errors import ConfigError

__all__ = [
    "AE_HEADER_BITS",
    "MUX_INDEX",
    "MUX_ORDER",
    "Field",
    "Frame",
    "autoencoder_frame",
    "bx_header",
    "field",
    "frame_length",
    "pack",
]

AE_HEADER_BITS = 5  #: AE: BX header (EMU format_AutoencoderOutput)
_AE_MAX_LATENT_BITS = 146  #: AE: cap of min(18 + 32·(n − 1), 146) (EMU Formatter)
_AE_SUM_BITS = 9  #: AE: 5E4M module sum

_row, _col = (np.arange(N_TC) % 16) // 4, np.arange(N_TC) % 4
#: MUX (CALQ) index of each TC id (see the module docstring).
MUX_INDEX: NDArray[np.int64] = (
    16 * (np.arange(N_TC) // 16) + 4 * (2 * (_row // 2) + _col // 2) + 2 * (_row % 2) + _col % 2
)
#: TC id at each MUX index 0..47 (the inverse of :data:`MUX_INDEX`).
MUX_ORDER: NDArray[np.int64] = np.argsort(MUX_INDEX)


@dataclass(frozen=True)
class Field:
    """One field of a frame: ``values.shape[1]`` items of ``width`` bits per module.

    Attributes
    ----------
    name
        What the field holds, e.g. ``"header"``, ``"address"``, ``"code"``.
    width
        Bits per item (>= 1).
    values
        ``(N, C)`` non-negative integers, each below ``2**width``.
    present
        ``(N, C)`` bool, which items are sent (all when None); the sent items of a module
        follow each other in column order.
    """

    name: str
    width: int
    values: NDArray[np.int64]
    present: NDArray[np.bool_] | None = None

    def sent(self) -> NDArray[np.bool_]:
        """``(N, C)`` bool: the items sent."""
        if self.present is None:
            return np.ones(self.values.shape, dtype=np.bool_)
        return self.present


def field(
    name: str, width: int, values: ArrayLike, present: ArrayLike | None = None, *, n: int
) -> Field:
    """A :class:`Field` from ``(N,)`` or ``(N, C)`` values (``(N,)`` is one item per module).

    Raises
    ------
    ConfigError
        If a value does not fit ``width`` bits or the shapes disagree with ``n`` modules.
    """
    v = np.asarray(values, dtype=np.int64)
    v = v.reshape(1, 1) if v.ndim == 0 else v[:, None] if v.ndim == 1 else v
    v = np.broadcast_to(v, (n, v.shape[1]))
    if not 1 <= width <= 32:
        msg = f"frame field {name!r}: expected a width of 1..32 bits, got {width}"
        raise ConfigError(msg)
    if v.size and (v.min() < 0 or v.max() >= 2**width):
        msg = (
            f"frame field {name!r}: values must lie in [0, 2**{width}), got [{v.min()}, {v.max()}]"
        )
        raise ConfigError(msg)
    p = None if present is None else np.broadcast_to(np.asarray(present, dtype=np.bool_), v.shape)
    return Field(name, width, v, p)


def frame_length(fields: list[Field]) -> NDArray[np.int64]:
    """Payload bits of each module: the sum of ``width`` over its sent items."""
    if not fields:
        msg = "a frame needs at least one field"
        raise ConfigError(msg)
    total = np.zeros(fields[0].values.shape[0], dtype=np.int64)
    for f in fields:
        total += f.width * f.sent().sum(axis=1)
    return total


@dataclass(frozen=True)
class Frame:
    """The frames of N modules as bits.

    Attributes
    ----------
    name
        Algorithm id of the frame.
    bits
        ``(N, L)`` uint8 of 0/1, most significant bit of the first field first; zeros after
        each module's payload (the padding).
    length
        ``(N,)`` payload bits, without the padding.
    word_bits
        Word the frame is padded to (16 or 32).
    fields
        Names of the fields, in order.
    """

    name: str
    bits: NDArray[np.uint8]
    length: NDArray[np.int64]
    word_bits: int
    fields: tuple[str, ...]

    @property
    def padded_length(self) -> NDArray[np.int64]:
        """``(N,)`` bits once padded with zeros to whole words."""
        padded: NDArray[np.int64] = -(-self.length // self.word_bits) * self.word_bits
        return padded

    def strings(self, *, padded: bool = True) -> list[str]:
        """Each module's frame as a string of ``0``/``1`` (for display and comparisons)."""
        ends = self.padded_length if padded else self.length
        chars = np.where(self.bits > 0, "1", "0")
        return ["".join(row[:end]) for row, end in zip(chars, ends, strict=True)]


def pack(name: str, fields: list[Field], word_bits: int) -> Frame:
    """Pack ``fields`` into the frame of each module, padded to ``word_bits`` (vectorised).

    Returns
    -------
    Frame
        ``bits`` is as wide as the longest padded frame.
    """
    length = frame_length(fields)
    n = length.shape[0]
    width = int((-(-length.max(initial=0) // word_bits)) * word_bits)
    out = np.zeros((n, width), dtype=np.uint8)
    rows = np.arange(n)[:, None]
    offset = np.zeros(n, dtype=np.int64)
    for f in fields:
        sent = f.sent()
        start = offset[:, None] + f.width * (np.cumsum(sent, axis=1) - sent)
        for b in range(f.width):
            bit = ((f.values >> (f.width - 1 - b)) & 1).astype(np.uint8)
            r, c = np.nonzero(sent)
            out[np.broadcast_to(rows, sent.shape)[r, c], start[r, c] + b] = bit[r, c]
        offset += f.width * sent.sum(axis=1)
    return Frame(name, out, length, word_bits, tuple(f.name for f in fields))


def bx_header(bx: ArrayLike, width: int, n: int) -> NDArray[np.int64]:
    """The BX header of ``n`` modules: the 5-bit BX counter, or 4 bits without its second bit.

    EMU Formatter: ``header = format(bx_cnt, '05b')``; Best Choice and the STCs send
    ``header[0] + header[2:]`` ("only a 4 bit header for STC").
    """
    b = np.broadcast_to(np.asarray(bx, dtype=np.int64), (n,)) & 31
    if width == 5:
        return b.copy()
    if width == 4:
        four: NDArray[np.int64] = ((b >> 4) << 3) | (b & 7)
        return four
    msg = f"expected a BX header of 4 or 5 bits, got {width}"
    raise ConfigError(msg)


def autoencoder_frame(
    latent: ArrayLike,
    latent_bits: int,
    sum_code: ArrayLike,
    n_elinks: int,
    *,
    bx: ArrayLike = 0,
) -> Frame:
    """The AE frame: 5-bit BX header, 9-bit 5E4M module sum, latent bits (econt.md §1).

    EMU ``format_AutoencoderOutput``: ``header + modSum + AE_Data``, where ``AE_Data`` is the
    last ``min(18 + 32·(n − 1), 146)`` masked latent bits, zero-filled on the left, and the
    frame is padded to 16 bits (64/96/128/160 bits at 2-5 e-links).  Here the masked bits are
    the ``latent_bits`` of each latent value, value 0 first (the order of the emulator's
    ``KAEB`` mask over its encoder output is not reproduced).

    Parameters
    ----------
    latent
        ``(N, D)`` integer latent codes in ``[0, 2**latent_bits)``.
    latent_bits
        Bits per latent value.
    sum_code
        ``(N,)`` 9-bit 5E4M codes of the module sums.
    n_elinks
        E-link setting, 1..14.
    bx
        BX counter, scalar or ``(N,)``.

    Raises
    ------
    ConfigError
        If the latent code does not fit the frame.
    """
    z = np.asarray(latent, dtype=np.int64)
    n, d = z.shape
    available = min(18 + 32 * (n_elinks - 1), _AE_MAX_LATENT_BITS)
    if d * latent_bits > available:
        msg = f"latent {d} × {latent_bits} bits does not fit {available} latent bits at {n_elinks} e-links"
        raise ConfigError(msg)
    fields = [
        field("header", AE_HEADER_BITS, bx_header(bx, AE_HEADER_BITS, n), n=n),
        field("module_sum", _AE_SUM_BITS, sum_code, n=n),
        field("fill", 1, np.zeros((n, available - d * latent_bits)), n=n),
        field("latent", latent_bits, z, n=n),
    ]
    return pack("autoencoder", fields, 16)
