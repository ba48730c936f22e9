"""The ECON-T non-ML compression algorithms (the AE's bit budget: ``trigger.autoencoder_budget``).

(About 400 lines: the four algorithms share their input checks, output type, ranking and
vocabulary; one module per algorithm would import them from each other.)

Public API::

    threshold_sum(tc, n_elinks, threshold, *, lsb=1.0) -> AlgorithmOutput
    best_choice(tc, n_elinks, *, table="emu", lsb=1.0) -> AlgorithmOutput
    super_trigger_cells(tc, n_elinks, size=4, *, spread="max", select="largest", lsb=1.0)
    repeater(tc, n_elinks, *, lsb=1.0) -> AlgorithmOutput
    ALGORITHMS, run_algorithm(name, tc, n_elinks, **options)
    threshold_sum_bits, best_choice_n_tc, best_choice_bits, super_trigger_cell_sums

Every algorithm takes ``tc``, an ``(N, 48)`` array of non-negative TC charges (one row per
module, TC id = 16·rhombus + 4·row + col, econt.md §2), and the number of output e-links
``n_elinks`` (1..14; one e-link carries 32 bits per bunch crossing, econt.md §1).  Charges
are floored to counts of ``lsb`` before the float encodings of
:mod:`hgcal_ae.trigger.formats`; ``reconstructed`` is in the units of ``tc``.  Bit counts
follow econt.md §6 (EMU:ASICBlocks/Formatter.py) without the padding of the frame to whole
32-bit words.  Ties between equal charges are broken by the lower TC (or STC) index.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hgcal_ae.detector.trigger_cells import N_TRIGGER_CELLS as N_TC
from hgcal_ae.errors import ConfigError
from hgcal_ae.trigger.formats import SUM_5E4M, TC_4E3M

__all__ = [
    "ALGORITHMS",
    "ALGORITHM_IDS",
    "ALGORITHM_LABELS",
    "BEST_CHOICE_TABLES",
    "ELINK_BITS",
    "MAX_ELINKS",
    "AlgorithmOutput",
    "best_choice",
    "best_choice_bits",
    "best_choice_n_tc",
    "check_elinks",
    "elinks_setting",
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

    @property
    def capacity_bits(self) -> int:
        """Bits per bunch crossing the e-links carry, ``32 · n_elinks``."""
        return ELINK_BITS * self.n_elinks


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
    name: str, recon: NDArray[np.float64], bits: ArrayLike, n: int, options: str, label: str
) -> AlgorithmOutput:
    b = np.broadcast_to(np.asarray(bits, dtype=np.int64), recon.shape[:1]).copy()
    setting = elinks_setting(n) + (f", {options}" if options else "")
    return AlgorithmOutput(name, recon, b, b <= ELINK_BITS * n, n, setting, label)


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
    tc: ArrayLike, n_elinks: int, threshold: float, *, lsb: float = 1.0
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

    Returns
    -------
    AlgorithmOutput
        ``bits`` is the variable length the passing TCs ask for (:func:`threshold_sum_bits`).
        When it exceeds ``32 · n_elinks`` the buffer overflows: only the largest passing TCs
        whose output fits are kept (``fits`` False marks those modules).  ``reconstructed``
        holds the kept TCs, 4E3M-quantised, and 0 elsewhere.
    """
    q, n = _check_tc(tc), check_elinks(n_elinks)
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
    return _output(
        "threshold_sum", recon, threshold_sum_bits(n_pass), n, f"threshold={threshold:g}",
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


def best_choice(
    tc: ArrayLike, n_elinks: int, *, table: str = "emu", lsb: float = 1.0
) -> AlgorithmOutput:
    """Best Choice: send the N largest TCs, N from the e-link table (econt.md §6).

    Parameters
    ----------
    tc, n_elinks, lsb
        As in :func:`threshold_sum`.
    table
        ``"emu"`` (4/6/9/14 TCs at 2/3/4/5 e-links) or ``"cmssw"`` (3 at 2 e-links); see
        :data:`BEST_CHOICE_TABLES`.

    Returns
    -------
    AlgorithmOutput
        The N largest TCs (ties to the lower index), 4E3M-quantised; fixed length
        :func:`best_choice_bits` (64 bits for 4 TCs at 2 e-links).
    """
    q, n = _check_tc(tc), check_elinks(n_elinks)
    n_tc = best_choice_n_tc(n, table)
    keep = _rank_descending(q) < n_tc
    recon = np.where(keep, TC_4E3M.quantise(q, lsb=lsb), 0.0)
    label = f"Best Choice ({n_tc} TCs)"
    return _output("best_choice", recon, best_choice_bits(n_tc), n, f"table={table}", label)


def super_trigger_cell_sums(
    tc: ArrayLike, size: int = 4
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Sum the TCs of each super trigger cell (EMU:ASICBlocks/supertriggercell.py).

    Parameters
    ----------
    tc
        ``(N, 48)`` non-negative TC charges.
    size
        4 (2×2 groups, 12 STCs) or 16 (4×4 rhombi, 3 STCs).

    Returns
    -------
    sums, max_tc
        ``(N, n_stc)`` unquantised sums and the TC id (0..47) of each STC's largest TC
        (ties to the lower id).
    """
    q = _check_tc(tc)
    _choice("size", size, (4, 16))
    members = _STC_MEMBERS[size]
    grouped = q[:, members]
    return grouped.sum(axis=2), members[np.arange(len(members)), grouped.argmax(axis=2)]


def super_trigger_cells(
    tc: ArrayLike,
    n_elinks: int,
    size: int = 4,
    *,
    spread: str = "max",
    select: str = "largest",
    lsb: float = 1.0,
) -> AlgorithmOutput:
    """Super Trigger Cells STC4_9 / STC16_9 (EMU Formatter ``Format_SuperTriggerCell``).

    Parameters
    ----------
    tc, n_elinks, lsb
        As in :func:`threshold_sum`; ``lsb`` is one count of the 9-bit 5E4M sum.
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

    Returns
    -------
    AlgorithmOutput
        Length 4 + n_sent·(address + 9) bits (59/92/125/136 for STC4 at 2/3/4/5 e-links).
        Beyond 5 (STC4) or 2 (STC16) e-links the EMU sends nothing; here all STCs are sent.
    """
    n = check_elinks(n_elinks)
    _choice("spread", spread, ("max", "uniform"))
    _choice("select", select, ("largest", "first"))
    sums, max_tc = super_trigger_cell_sums(tc, size)
    n_stc = sums.shape[1]
    n_sent = _STC_SENT[size][min(n, len(_STC_SENT[size]) - 1)]
    if select == "largest":
        sent = _rank_descending(sums) < n_sent
    else:
        sent = np.broadcast_to(np.arange(n_stc) < n_sent, sums.shape)
    qsum = np.where(sent, SUM_5E4M.quantise(sums, lsb=lsb), 0.0)
    if spread == "max":
        recon = np.zeros((sums.shape[0], N_TC))
        np.put_along_axis(recon, max_tc, qsum, axis=1)
    else:
        stc_of_tc = np.empty(N_TC, dtype=np.int64)
        stc_of_tc[_STC_MEMBERS[size]] = np.arange(n_stc)[:, None]
        recon = qsum[:, stc_of_tc] / size
    bits = STC_HEADER_BITS + n_sent * (_STC_ADDRESS_BITS[size] + SUM_5E4M.bits)
    options = f"STC{size}_9"
    options += "" if spread == "max" else f", spread={spread}"
    options += "" if select == "largest" else f", select={select}"
    name = STC_IDS[size]
    return _output(name, recon, bits, n, options, ALGORITHM_LABELS[name])


def repeater(tc: ArrayLike, n_elinks: int, *, lsb: float = 1.0) -> AlgorithmOutput:
    """Repeater: all 48 TCs as 7-bit 4E3M plus a 5-bit header, 341 bits (EMU Repeater).

    ``reconstructed`` is every TC quantised, whatever ``n_elinks``; ``fits`` is True only
    from 11 e-links (352 bits) on.
    """
    q, n = _check_tc(tc), check_elinks(n_elinks)
    bits = REPEATER_HEADER_BITS + N_TC * TC_4E3M.bits
    recon = TC_4E3M.quantise(q, lsb=lsb)
    return _output("repeater", recon, bits, n, "", ALGORITHM_LABELS["repeater"])


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
