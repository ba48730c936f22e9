"""The ECON-T non-ML compression algorithms (the AE's bit budget: ``trigger.autoencoder_budget``).

(About 400 lines: the four algorithms share their input checks, output type, ranking and
vocabulary; one module per algorithm would import them from each other.)

Public API::

    threshold_sum(tc, n_elinks, threshold, *, lsb=1.0, **common) -> AlgorithmOutput
    best_choice(tc, n_elinks, *, table="emu", ties="hardware", lsb=1.0, **common)
    super_trigger_cells(tc, n_elinks, size=4, *, spread="max", select="largest",
                        ties="hardware", lsb=1.0, **common)
    repeater(tc, n_elinks, *, lsb=1.0, **common) -> AlgorithmOutput
    AlgorithmOutput.frame(bx=0) -> Frame         # the bits sent (hgcal_ae.trigger.frames)
    ALGORITHMS, run_algorithm(name, tc, n_elinks, **options)
    threshold_sum_bits, best_choice_n_tc, best_choice_bits, super_trigger_cell_sums
    best_choice_keep(tc, n_tc, *, ties="hardware", lsb=1.0), hgcroc_input_decoding, TIES

``common`` is ``dropped_lsbs=0`` and ``input_decoding=False``, see below.

Every algorithm takes ``tc``, an ``(N, 48)`` array of non-negative TC charges (one row per
module, TC id = 16·rhombus + 4·row + col, econt.md §2), and the number of output e-links
``n_elinks`` (1..14; one e-link carries 32 bits per bunch crossing, econt.md §1).
``reconstructed`` is in the units of ``tc``.

**Counts.**  ``lsb`` is one count of the 7-bit 4E3M TC codes, i.e. the ECON-T's calibrated
charge (CALQ) after its ``dropped_lsbs`` (DropLSB: 1 LD, 3 HD; econt.md §1) are dropped, so
one CALQ count is ``lsb / 2**dropped_lsbs``.  Charges are floored to whole counts
(:func:`~hgcal_ae.trigger.formats.to_counts`, exact on whole counts given in MIP) before the
float encodings of :mod:`hgcal_ae.trigger.formats`.  As in the emulator (EMU
ASICBlocks/Algorithms.py), Best Choice, Threshold-Sum codes and the repeater encode CALQ
with the LSBs dropped; the STC 9-bit sums and the Threshold-Sum module sum are sums of whole
CALQ counts, before any LSB is dropped.  ``dropped_lsbs=0`` (the default) makes ``lsb`` the
CALQ count itself.

**Ties** (``ties="hardware"``, the default, reproduces the emulator): Best Choice ranks the
whole counts after dropping LSBs with the emulator's sorting network (Batcher's merge
exchange over the MUX order, EMU ASICBlocks/bestchoice.py ``sorter``), so the network
decides which of equal charges at the cut is kept; an STC's sum goes to the highest
in-group MUX index among its equal largest whole counts (EMU supertriggercell.py).
``ties="lowest_id"`` keeps the earlier rule: unfloored charges ranked, equal ones to the
lower TC id.  TC addresses, maps and in-group addresses in the frames are MUX indices
(:data:`~hgcal_ae.trigger.frames.MUX_ORDER`).

**Frames.**  Each output carries its frame layout: ``output.frame(bx)`` gives the exact
bits per module (:class:`~hgcal_ae.trigger.frames.Frame`: header, module sum, addresses or
map, codes, then the zero padding to 16/32-bit words), and ``bits`` is that frame's length
without the padding, from the same layout (econt.md §6, EMU:ASICBlocks/Formatter.py).

**Input decoding** (``input_decoding=True``): the emulator decodes the HGCROC's 4E3M input
codes to the centre of their bins before calibration (EMU MuxFixCalib.py ``FloatToFix``:
``decode(..., droppedBits=k, edge=False)``), which turns a zero input into 2**(k-1) CALQ
counts (1 LD, 4 HD) and raises every STC sum; off by default (the TC charges are taken as
CALQ), see :func:`hgcroc_input_decoding`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hgcal_ae.detector.trigger_cells import N_TRIGGER_CELLS as N_TC
from hgcal_ae.errors import ConfigError
from hgcal_ae.trigger.formats import SUM_5E3M, SUM_5E4M, TC_4E3M, to_counts
from hgcal_ae.trigger.frames import (
    MUX_INDEX,
    MUX_ORDER,
    Field,
    Frame,
    bx_header,
    frame_length,
    pack,
)
from hgcal_ae.trigger.frames import field as frame_field

__all__ = [
    "ALGORITHMS",
    "ALGORITHM_IDS",
    "ALGORITHM_LABELS",
    "BEST_CHOICE_TABLES",
    "ELINK_BITS",
    "MAX_ELINKS",
    "TIES",
    "AlgorithmOutput",
    "best_choice",
    "best_choice_bits",
    "best_choice_keep",
    "best_choice_n_tc",
    "check_elinks",
    "elinks_setting",
    "hgcroc_input_decoding",
    "repeater",
    "run_algorithm",
    "super_trigger_cell_sums",
    "super_trigger_cells",
    "threshold_sum",
    "threshold_sum_bits",
]

ELINK_BITS = 32  #: bits per bunch crossing of one 1.28 Gb/s e-link (econt.md §1)
MAX_ELINKS = 14  #: largest e-link setting accepted
ADDRESS_BITS = 6  #: TC address (EMU Formatter; TPGFEDataformat.hh, physics.md §4)
MAP_BITS = 48  #: TC bit map, used from 8 TCs on (econt.md §6)
TS_HEADER_BITS = 5 + 3 + 8  #: TS: BX + type + 5E3M module sum (econt.md §6, EMU Formatter)
TS_COUNT_BITS = 3  #: TS: count of TCs when fewer than 8 pass
BC_HEADER_BITS = 4 + 8  #: BC: header + 5E3M module sum (econt.md §6)
STC_HEADER_BITS = 4  #: STC: "only a 4 bit header for STC" (EMU Formatter formatSTC_4_9)
REPEATER_HEADER_BITS = 5  #: repeater: BX header (EMU formatRepeaterOutput)
BC_MAX_COUNT = 262_143  #: BC: counts saturate at 2**18 - 1 before sorting (EMU BestChoice)
TIES = ("hardware", "lowest_id")  #: tie rules, see the module docstring

#: Best-Choice TCs per e-link setting.  "emu": EMU:Utils/linkAllocation.py ``tcPerLink``
#: indexed by n_elinks = 0..13 (14 e-links reuse the last entry, 48).  "cmssw": PF cfi
#: ``bestchoice_ndata_decentralized`` for n_elinks = 1..12 (index n_elinks − 1).
BEST_CHOICE_TABLES: dict[str, tuple[int, ...]] = {
    "emu": (0, 1, 4, 6, 9, 14, 18, 23, 28, 32, 37, 41, 46, 48),
    "cmssw": (1, 3, 6, 9, 14, 18, 23, 27, 32, 37, 41, 46),
}

#: STC TC membership (n_stc, members) and address bits, by STC size.  STC4: the 2×2 groups
#: of each 4×4 rhombus, STC index 4·rhombus + 2·(row // 2) + col // 2, member address
#: 2·(row % 2) + col % 2; STC16: one STC per rhombus, address 4·row + col (econt.md §6).
_R, _A, _C, _B, _D = np.meshgrid(*(np.arange(n) for n in (3, 2, 2, 2, 2)), indexing="ij")
_STC_MEMBERS: dict[int, NDArray[np.int64]] = {
    4: (16 * _R + 8 * _A + 4 * _B + 2 * _C + _D).reshape(12, 4),
    16: np.arange(N_TC).reshape(3, 16),
}
_STC_ADDRESS_BITS = {4: 2, 16: 4}
#: STCs sent, indexed by n_elinks (last entry for more), EMU Formatter Format_SuperTriggerCell.
_STC_SENT = {4: (0, 2, 5, 8, 11, 12), 16: (0, 2, 3)}


@dataclass(frozen=True)
class AlgorithmOutput:
    """What one ECON-T algorithm sends for each module.

    Attributes
    ----------
    name
        Algorithm id, one of :data:`ALGORITHM_IDS` (``"stc_2x2"``, not the function name).
    reconstructed
        ``(N, 48)`` float64: the TC charges the trigger sees after decoding, units of ``tc``.
    bits
        ``(N,)`` int64: bits per bunch crossing the module's output needs (for Threshold-Sum
        the length before truncation).
    fits
        ``(N,)`` bool: ``bits <= 32 · n_elinks``.
    n_elinks
        The e-link setting.
    setting
        Readable description of the options, e.g. ``"2 e-links, table=emu"``.
    label
        What the study's tables and plots call it, e.g. ``"Best Choice (4 TCs)"``.
    """

    name: str
    reconstructed: NDArray[np.float64]
    bits: NDArray[np.int64]
    fits: NDArray[np.bool_]
    n_elinks: int
    setting: str
    label: str
    frame_builder: Callable[[ArrayLike], Frame] | None = dataclass_field(
        default=None, repr=False, compare=False
    )

    @property
    def capacity_bits(self) -> int:
        """Bits per bunch crossing the e-links carry, ``32 · n_elinks``."""
        return ELINK_BITS * self.n_elinks

    def frame(self, bx: ArrayLike = 0) -> Frame:
        """The bits each module sends at bunch crossing ``bx`` (scalar or ``(N,)``, 0..31).

        Raises
        ------
        ConfigError
            If the output has no frame layout (one built outside this module).
        """
        if self.frame_builder is None:
            msg = f"output {self.name!r} ({self.setting}) carries no frame layout"
            raise ConfigError(msg)
        return self.frame_builder(bx)


def _check_tc(tc: ArrayLike) -> NDArray[np.float64]:
    q = np.asarray(tc, dtype=np.float64)
    if q.ndim != 2 or q.shape[1] != N_TC:
        msg = (
            f"expected tc of shape (N, {N_TC}) (one row of trigger cells per module), got {q.shape}"
        )
        raise ConfigError(msg)
    if not np.isfinite(q).all() or (q < 0).any():
        msg = "expected finite, non-negative TC charges; got NaN, inf or negative values"
        raise ConfigError(msg)
    return q


def check_elinks(n_elinks: int) -> int:
    """``n_elinks`` as an int in 1..14; ConfigError otherwise."""
    is_int = isinstance(n_elinks, int | np.integer) and not isinstance(n_elinks, bool)
    if not is_int or not 1 <= n_elinks <= MAX_ELINKS:
        msg = f"expected n_elinks to be an integer in 1..{MAX_ELINKS}, got {n_elinks!r}"
        raise ConfigError(msg)
    return int(n_elinks)


def _choice(label: str, value: Any, allowed: tuple[Any, ...]) -> None:
    if value not in allowed:
        msg = f"expected {label} to be one of {', '.join(map(repr, allowed))}, got {value!r}"
        raise ConfigError(msg)


def _prepare(
    tc: ArrayLike, lsb: float, dropped_lsbs: int, input_decoding: bool
) -> tuple[NDArray[np.float64], float]:
    """Checked charges (input-decoded if asked) and the value of one CALQ count."""
    q = _check_tc(tc)
    ok = isinstance(dropped_lsbs, int | np.integer) and not isinstance(dropped_lsbs, bool)
    if not ok or not 0 <= dropped_lsbs <= 4:
        msg = f"expected dropped_lsbs to be an integer in 0..4 (EMU DropLSB), got {dropped_lsbs!r}"
        raise ConfigError(msg)
    if input_decoding:
        q = hgcroc_input_decoding(q, lsb)
    return q, lsb / 2 ** int(dropped_lsbs)


def hgcroc_input_decoding(tc: ArrayLike, lsb: float) -> NDArray[np.float64]:
    """The charges the emulator calibrates: HGCROC 4E3M codes decoded to their bin centres.

    The HGCROC sends each TC as 4E3M of its ADC sum with ``k`` LSBs dropped; the ECON-T
    decodes it with ``decode(code, droppedBits=k, edge=False)`` (EMU MuxFixCalib.py
    ``FloatToFix``), i.e. :func:`~hgcal_ae.trigger.formats.quantise` with ``centre=True``.  A
    zero charge becomes half an ``lsb``: 1 CALQ count on LD (``k = 1``), 4 on HD (``k = 3``).

    Parameters
    ----------
    tc
        ``(N, 48)`` TC charges.
    lsb
        One 4E3M count (``2**k`` CALQ counts) in the units of ``tc``.
    """
    decoded: NDArray[np.float64] = TC_4E3M.quantise(_check_tc(tc), lsb=lsb, centre=True)
    return decoded


def _rank_descending(x: NDArray[np.float64]) -> NDArray[np.int64]:
    """Rank of each entry in its row, 0 = largest; equal values ranked by lower index."""
    order = np.argsort(-x, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.broadcast_to(np.arange(x.shape[1]), x.shape), axis=1)
    return ranks


def elinks_setting(n_elinks: int) -> str:
    """``"1 e-link"``, ``"2 e-links"``: how every setting string starts."""
    return f"{n_elinks} e-link{'' if n_elinks == 1 else 's'}"


def _output(
    name: str,
    recon: NDArray[np.float64],
    layout: Callable[[ArrayLike], list[Field]],
    word_bits: int,
    n: int,
    options: str,
    label: str,
) -> AlgorithmOutput:
    """The output, its bits the length of its frame ``layout`` (one layout for both)."""
    b = frame_length(layout(0))

    def build(bx: ArrayLike) -> Frame:
        return pack(name, layout(bx), word_bits)

    setting = elinks_setting(n) + (f", {options}" if options else "")
    return AlgorithmOutput(name, recon, b, b <= ELINK_BITS * n, n, setting, label, build)


def _mux_items(values: NDArray[Any]) -> NDArray[Any]:
    """``(N, 48)`` per TC id to MUX order."""
    return values[:, MUX_ORDER]


def _address_or_map(
    keep_mux: NDArray[np.bool_], use_address: ArrayLike, use_map: ArrayLike, n: int
) -> list[Field]:
    """6-bit MUX addresses of the kept TCs where ``use_address``, the 48-bit map (MUX index 0
    first) where ``use_map`` (scalars or ``(N,)``)."""

    def column(flag: ArrayLike) -> NDArray[np.bool_]:
        return np.broadcast_to(np.asarray(flag, dtype=np.bool_).reshape(-1, 1), (n, 1))

    address = np.broadcast_to(np.arange(N_TC), (n, N_TC))
    return [
        frame_field("address", ADDRESS_BITS, address, keep_mux & column(use_address), n=n),
        frame_field("map", 1, keep_mux, np.broadcast_to(column(use_map), (n, N_TC)), n=n),
    ]


def threshold_sum_bits(n_passing: ArrayLike) -> NDArray[np.int64]:
    """Threshold-Sum output length for ``n_passing`` TCs (econt.md §6).

    16 header bits (5 BX + 3 type + 8-bit 5E3M sum), then a 3-bit count and a 6-bit address
    per TC if 1 to 7 pass, else a 48-bit map, then 7 bits (4E3M) per TC.  With no TC passing
    the frame is the 16 header bits alone (type ``000``, no count: EMU Formatter
    ``formatThresholdOutput``).
    """
    k = np.asarray(n_passing, dtype=np.int64)
    address = np.where(k == 0, 0, np.where(k < 8, TS_COUNT_BITS + ADDRESS_BITS * k, MAP_BITS))
    return TS_HEADER_BITS + address + TC_4E3M.bits * k


def threshold_sum(
    tc: ArrayLike,
    n_elinks: int,
    threshold: float,
    *,
    lsb: float = 1.0,
    dropped_lsbs: int = 0,
    input_decoding: bool = False,
) -> AlgorithmOutput:
    """Threshold-Sum: send every TC with charge >= ``threshold`` (EMU Algorithms.ThresholdSum).

    Parameters
    ----------
    tc
        ``(N, 48)`` non-negative TC charges.
    n_elinks
        Output e-links, 1..14.
    threshold
        Per-TC threshold in the units of ``tc`` (CMSSW: 2 MIP_T, 1.35 for V9; econt.md §6).
    lsb
        Value of one count of the 4E3M encoding in the units of ``tc``.
    dropped_lsbs, input_decoding
        See the module docstring.

    Returns
    -------
    AlgorithmOutput
        ``bits`` is the variable length the passing TCs ask for (:func:`threshold_sum_bits`).
        The frame (EMU ``formatThresholdOutput``, padded to 16 bits): 5-bit BX, 3-bit type
        (``000`` none, ``010`` 1-7, ``100`` 8 or more TCs), 8-bit 5E3M sum of all CALQ
        counts, then a 3-bit count and 6-bit MUX addresses (1-7 TCs) or the 48-bit map,
        then the 4E3M codes in MUX order.
        When it exceeds ``32 · n_elinks`` the buffer overflows: only the largest passing TCs
        whose output fits are kept (``fits`` False marks those modules).  ``reconstructed``
        holds the kept TCs, 4E3M-quantised, and 0 elsewhere.
    """
    n = check_elinks(n_elinks)
    q, count = _prepare(tc, lsb, dropped_lsbs, input_decoding)
    if not np.isfinite(threshold) or threshold < 0:
        msg = f"expected a finite threshold >= 0, got {threshold!r}"
        raise ConfigError(msg)
    passing = q >= threshold
    n_pass = passing.sum(axis=1)
    # the length is increasing in the TC count, so the largest count that fits is a lookup
    lengths = threshold_sum_bits(np.arange(N_TC + 1))
    n_fit = int(np.searchsorted(lengths, ELINK_BITS * n, side="right")) - 1
    keep = passing & (_rank_descending(q) < np.minimum(n_pass, n_fit)[:, None])
    recon = np.where(keep, TC_4E3M.quantise(q, lsb=lsb), 0.0)
    m = q.shape[0]

    def layout(bx: ArrayLike) -> list[Field]:
        passing_mux = _mux_items(passing)
        k = n_pass
        few = (k > 0) & (k < 8)
        return [
            frame_field("header", 5, bx_header(bx, 5, m), n=m),
            frame_field("type", 3, np.where(k == 0, 0b000, np.where(k < 8, 0b010, 0b100)), n=m),
            frame_field("module_sum", 8, SUM_5E3M.encode(to_counts(q, count).sum(axis=1)), n=m),
            frame_field("count", TS_COUNT_BITS, np.minimum(k, 7), few[:, None], n=m),
            *_address_or_map(passing_mux, few, k >= 8, m),
            frame_field("code", 7, _mux_items(TC_4E3M.encode(to_counts(q, lsb))), passing_mux, n=m),
        ]

    return _output(
        "threshold_sum", recon, layout, 16, n, f"threshold={threshold:g}",
        f"Threshold-Sum {threshold:g}",
    )  # fmt: skip


def best_choice_n_tc(n_elinks: int, table: str = "emu") -> int:
    """Number of TCs Best Choice sends at ``n_elinks`` (:data:`BEST_CHOICE_TABLES`)."""
    n = check_elinks(n_elinks)
    _choice("table", table, tuple(BEST_CHOICE_TABLES))
    if table == "emu":
        return BEST_CHOICE_TABLES["emu"][min(n, 13)]
    if n > len(BEST_CHOICE_TABLES["cmssw"]):
        msg = f"the CMSSW Best-Choice table covers 1..12 e-links, got n_elinks={n}; use table='emu'"
        raise ConfigError(msg)
    return BEST_CHOICE_TABLES["cmssw"][n - 1]


def best_choice_bits(n_tc: int) -> int:
    """Best-Choice output length: 4 + 8 + n·(6 + 7), or 4 + 8 + 48 + 7n from 8 TCs (econt.md §6)."""
    address = ADDRESS_BITS * n_tc if n_tc < 8 else MAP_BITS
    return BC_HEADER_BITS + address + TC_4E3M.bits * n_tc


def _merge_exchange_passes(n: int) -> list[tuple[NDArray[np.int64], NDArray[np.int64]]]:
    """The comparator passes of Batcher's merge-exchange sort of ``n`` keys.

    Knuth, TAOCP vol. 3, 5.2.2 Algorithm M; the Best-Choice network of the emulator (EMU
    ASICBlocks/bestchoice.py ``sorter``, applied to the 48 TCs in MUX order).  The comparators
    of one pass touch disjoint keys, so a pass runs on all modules at once.
    """
    t = max(int(np.ceil(np.log2(n))), 1)
    passes = []
    p = 2 ** (t - 1)
    while p >= 1:
        q, r, d = 2 ** (t - 1), 0, p
        while q >= p:
            first = np.array([i for i in range(n - d) if i & p == r], dtype=np.int64)
            if first.size:
                passes.append((first, first + d))
            d, q, r = q - p, q // 2, p
        p //= 2
    return passes


_BC_PASSES = _merge_exchange_passes(N_TC)


def _sorting_network(keys: NDArray[Any]) -> NDArray[np.int64]:
    """Indices of ``keys`` (N, 48) in the order the Best-Choice network leaves them.

    Descending: a comparator exchanges its pair only when the first key is strictly smaller
    (EMU ``if ar[i] < ar[i+d]``), so which of equal keys comes first depends on the network
    and on the other keys, not on a fixed priority.
    """
    v = np.ascontiguousarray(keys.T)  # (48, N): each key's row is contiguous
    adr = np.repeat(np.arange(keys.shape[1], dtype=np.int8)[:, None], keys.shape[0], axis=1)
    for i, j in _BC_PASSES:
        vi, vj, ai, aj = v[i], v[j], adr[i], adr[j]
        swap = vi < vj
        v[i], v[j] = np.where(swap, vj, vi), np.where(swap, vi, vj)
        adr[i], adr[j] = np.where(swap, aj, ai), np.where(swap, ai, aj)
    order: NDArray[np.int64] = adr.T.astype(np.int64)
    return order


def best_choice_keep(
    tc: ArrayLike, n_tc: int, *, ties: str = "hardware", lsb: float = 1.0
) -> NDArray[np.bool_]:
    """``(N, 48)`` bool: the ``n_tc`` TCs Best Choice keeps (ties: module docstring).

    ``"hardware"``: whole counts of ``lsb`` (saturated at 2**18 - 1), sorted in MUX order by
    the emulator's network; ``"lowest_id"``: the unfloored charges, equal ones to the lower id.
    """
    q = _check_tc(tc)
    _choice("ties", ties, TIES)
    if ties == "lowest_id":
        keep: NDArray[np.bool_] = _rank_descending(q) < n_tc
        return keep
    counts = np.minimum(to_counts(q, lsb), BC_MAX_COUNT)
    order = _sorting_network(_mux_items(counts).astype(np.int32))[:, :n_tc]  # < 2**18
    kept = np.zeros(q.shape, dtype=np.bool_)
    np.put_along_axis(kept, MUX_ORDER[order], True, axis=1)
    return kept


def best_choice(
    tc: ArrayLike,
    n_elinks: int,
    *,
    table: str = "emu",
    ties: str = "hardware",
    lsb: float = 1.0,
    dropped_lsbs: int = 0,
    input_decoding: bool = False,
) -> AlgorithmOutput:
    """Best Choice: send the N largest TCs, N from the e-link table (econt.md §6).

    Parameters
    ----------
    tc, n_elinks, lsb
        As in :func:`threshold_sum`.
    table
        ``"emu"`` (4/6/9/14 TCs at 2/3/4/5 e-links) or ``"cmssw"`` (3 at 2 e-links); see
        :data:`BEST_CHOICE_TABLES`.
    ties
        ``"hardware"`` (the emulator's sorting network) or ``"lowest_id"``
        (:func:`best_choice_keep`).
    dropped_lsbs, input_decoding
        See the module docstring.

    Returns
    -------
    AlgorithmOutput
        The N largest TCs, 4E3M-quantised; fixed length :func:`best_choice_bits` (64 bits
        for 4 TCs at 2 e-links).  The frame (EMU ``formatBestChoiceOutput``, padded to 16
        bits): 4-bit header, 8-bit 5E3M sum of all 48 counts, the kept TCs' 6-bit MUX
        addresses in increasing order (fewer than 8 TCs, no count field) or the 48-bit map,
        then their 4E3M codes in MUX order.
    """
    n = check_elinks(n_elinks)
    q, _ = _prepare(tc, lsb, dropped_lsbs, input_decoding)
    n_tc = best_choice_n_tc(n, table)
    keep = best_choice_keep(q, n_tc, ties=ties, lsb=lsb)
    recon = np.where(keep, TC_4E3M.quantise(q, lsb=lsb), 0.0)
    label = f"Best Choice ({n_tc} TCs)"
    m = q.shape[0]

    def layout(bx: ArrayLike) -> list[Field]:
        counts = np.minimum(to_counts(q, lsb), BC_MAX_COUNT)
        keep_mux = _mux_items(keep)
        return [
            frame_field("header", 4, bx_header(bx, 4, m), n=m),
            frame_field("module_sum", 8, SUM_5E3M.encode(counts.sum(axis=1)), n=m),
            *_address_or_map(keep_mux, n_tc < 8, n_tc >= 8, m),
            frame_field("code", 7, _mux_items(TC_4E3M.encode(counts)), keep_mux, n=m),
        ]

    options = f"table={table}" + ("" if ties == "hardware" else f", ties={ties}")
    return _output("best_choice", recon, layout, 16, n, options, label)


def super_trigger_cell_sums(
    tc: ArrayLike, size: int = 4, *, ties: str = "hardware", count: float = 1.0
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Sum the TCs of each super trigger cell (EMU:ASICBlocks/supertriggercell.py).

    Parameters
    ----------
    tc
        ``(N, 48)`` non-negative TC charges.
    size
        4 (2×2 groups, 12 STCs) or 16 (4×4 rhombi, 3 STCs).
    ties
        ``"hardware"``: the largest whole count of ``count``, the highest in-group MUX index
        among equal ones (EMU ``stc_idx = n - 1 - argmax(flip(...))``); ``"lowest_id"``: the
        largest unfloored charge, the lower TC id among equal ones.
    count
        One CALQ count in the units of ``tc`` (for ``ties="hardware"``).

    Returns
    -------
    sums, max_tc
        ``(N, n_stc)`` unquantised sums and the TC id (0..47) of each STC's largest TC.
    """
    q = _check_tc(tc)
    _choice("size", size, (4, 16))
    _choice("ties", ties, TIES)
    members = _STC_MEMBERS[size]
    if ties == "lowest_id":
        grouped = q[:, members]
        return grouped.sum(axis=2), members[np.arange(len(members)), grouped.argmax(axis=2)]
    mux_members = MUX_ORDER.reshape(-1, size)  # the same groups, in MUX order
    counts = to_counts(q, count)[:, mux_members]
    index = size - 1 - np.flip(counts, axis=2).argmax(axis=2)
    return q[:, members].sum(axis=2), mux_members[np.arange(len(members)), index]


def super_trigger_cells(
    tc: ArrayLike,
    n_elinks: int,
    size: int = 4,
    *,
    spread: str = "max",
    select: str = "largest",
    ties: str = "hardware",
    lsb: float = 1.0,
    dropped_lsbs: int = 0,
    input_decoding: bool = False,
) -> AlgorithmOutput:
    """Super Trigger Cells STC4_9 / STC16_9 (EMU Formatter ``Format_SuperTriggerCell``).

    Parameters
    ----------
    tc, n_elinks, lsb, dropped_lsbs, input_decoding
        As in :func:`threshold_sum`; the 9-bit 5E4M sums are sums of whole CALQ counts,
        ``lsb / 2**dropped_lsbs`` each (EMU: summed before any LSB is dropped).
    size
        4: STC4_9, 12 STCs of 2 address + 9 sum bits, 2/5/8/11/12 sent at 1/2/3/4/>=5 e-links.
        16: STC16_9, 3 STCs of 4 + 9 bits, 2 sent at 1 e-links, 3 from 2 e-links.
    spread
        ``"max"``: the whole quantised sum on the STC's largest TC (OW ``make_supercells``);
        ``"uniform"``: shared equally between its TCs.
    select
        Which STCs are sent when not all fit: ``"largest"`` sums, or ``"first"`` by STC
        index as the EMU Formatter does.  The format has no STC index field, so
        ``"largest"`` is an idealisation counted with the same bits.
    ties
        Which TC of an STC gets its sum, see :func:`super_trigger_cell_sums`.

    Returns
    -------
    AlgorithmOutput
        Length 4 + n_sent·(address + 9) bits (59/92/125/136 for STC4 at 2/3/4/5 e-links).
        Beyond 5 (STC4) or 2 (STC16) e-links the EMU sends nothing; here all STCs are sent.
        The frame (EMU ``formatSTC_4_9`` / ``formatSTC_16_9``, padded to 32 bits): 4-bit
        header, the sent STCs' in-group MUX addresses of their largest TC (2 or 4 bits), then
        their 5E4M sums, both in STC order; with ``select="largest"`` it does not say which
        STCs were sent.
    """
    n = check_elinks(n_elinks)
    q, count = _prepare(tc, lsb, dropped_lsbs, input_decoding)
    _choice("spread", spread, ("max", "uniform"))
    _choice("select", select, ("largest", "first"))
    sums, max_tc = super_trigger_cell_sums(q, size, ties=ties, count=count)
    n_stc = sums.shape[1]
    n_sent = _STC_SENT[size][min(n, len(_STC_SENT[size]) - 1)]
    if select == "largest":
        sent = _rank_descending(sums) < n_sent
    else:
        sent = np.broadcast_to(np.arange(n_stc) < n_sent, sums.shape)
    codes = SUM_5E4M.encode(to_counts(q, count)[:, _STC_MEMBERS[size]].sum(axis=2))
    qsum = np.where(sent, SUM_5E4M.decode(codes) * count, 0.0)
    if spread == "max":
        recon = np.zeros((sums.shape[0], N_TC))
        np.put_along_axis(recon, max_tc, qsum, axis=1)
    else:
        stc_of_tc = np.empty(N_TC, dtype=np.int64)
        stc_of_tc[_STC_MEMBERS[size]] = np.arange(n_stc)[:, None]
        recon = qsum[:, stc_of_tc] / size
    m = q.shape[0]

    def layout(bx: ArrayLike) -> list[Field]:
        address = MUX_INDEX[max_tc] % size  # in-group MUX index of the largest TC
        return [
            frame_field("header", STC_HEADER_BITS, bx_header(bx, STC_HEADER_BITS, m), n=m),
            frame_field("address", _STC_ADDRESS_BITS[size], address, sent, n=m),
            frame_field("sum", SUM_5E4M.bits, codes, sent, n=m),
        ]

    options = f"STC{size}_9"
    options += "" if spread == "max" else f", spread={spread}"
    options += "" if select == "largest" else f", select={select}"
    options += "" if ties == "hardware" else f", ties={ties}"
    name = STC_IDS[size]
    return _output(name, recon, layout, 32, n, options, ALGORITHM_LABELS[name])


def repeater(
    tc: ArrayLike,
    n_elinks: int,
    *,
    lsb: float = 1.0,
    dropped_lsbs: int = 0,
    input_decoding: bool = False,
) -> AlgorithmOutput:
    """Repeater: all 48 TCs as 7-bit 4E3M plus a 5-bit header, 341 bits (EMU Repeater).

    ``reconstructed`` is every TC quantised, whatever ``n_elinks``; ``fits`` is True only
    from 11 e-links (352 bits) on.  The frame (EMU ``formatRepeaterOutput``): 5-bit BX, the
    48 codes in MUX order, padded to 16 bits (352).
    """
    n = check_elinks(n_elinks)
    q, _ = _prepare(tc, lsb, dropped_lsbs, input_decoding)
    recon = TC_4E3M.quantise(q, lsb=lsb)
    m = q.shape[0]

    def layout(bx: ArrayLike) -> list[Field]:
        return [
            frame_field("header", REPEATER_HEADER_BITS, bx_header(bx, 5, m), n=m),
            frame_field("code", 7, _mux_items(TC_4E3M.encode(to_counts(q, lsb))), n=m),
        ]

    return _output("repeater", recon, layout, 16, n, "", ALGORITHM_LABELS["repeater"])


#: Output ids of the algorithms (``AlgorithmOutput.name``) and what tables and plots call them:
#: one vocabulary for the code, the outputs and the docs.  An STC of 4 TCs is a 2×2 group of
#: TCs (EMU STC4_9), one of 16 TCs a 4×4 rhombus (STC16_9).
ALGORITHM_LABELS: dict[str, str] = {
    "threshold_sum": "Threshold-Sum",
    "best_choice": "Best Choice",
    "stc_2x2": "STC 2×2",
    "stc_4x4": "STC 4×4",
    "repeater": "Repeater (all 48 TCs)",
    "autoencoder": "autoencoder",
}
ALGORITHM_IDS = tuple(ALGORITHM_LABELS)
STC_IDS = {4: "stc_2x2", 16: "stc_4x4"}  #: output id by STC size (TCs per STC)

#: The non-ML algorithms by name.
ALGORITHMS: dict[str, Callable[..., AlgorithmOutput]] = {
    "threshold_sum": threshold_sum,
    "best_choice": best_choice,
    "super_trigger_cells": super_trigger_cells,
    "repeater": repeater,
}


def run_algorithm(name: str, tc: ArrayLike, n_elinks: int, **options: Any) -> AlgorithmOutput:
    """Run the algorithm ``name`` of :data:`ALGORITHMS` with its keyword ``options``.

    Raises
    ------
    ConfigError
        On an unknown name, a missing or unknown option, or a bad ``n_elinks``.
    """
    if name not in ALGORITHMS:
        msg = f"unknown ECON-T algorithm {name!r}; expected one of {', '.join(ALGORITHMS)}"
        raise ConfigError(msg)
    func = ALGORITHMS[name]
    try:
        inspect.signature(func).bind(tc, n_elinks, **options)
    except TypeError as exc:
        params = [p for p in inspect.signature(func).parameters if p not in ("tc", "n_elinks")]
        msg = f"bad options {sorted(options)} for {name!r} ({exc}); its options are {params}"
        raise ConfigError(msg) from exc
    return func(tc, n_elinks, **options)
