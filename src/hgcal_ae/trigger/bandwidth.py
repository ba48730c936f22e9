"""Bandwidth model of the ECON-T output: bits per bunch crossing, e-links and data rates.

Public API::

    BandwidthEntry(algorithm, setting, bits)
    entry_from_output(output) -> BandwidthEntry
    autoencoder_entry(latent_dim, bits_per_latent, n_elinks=None) -> BandwidthEntry
    standard_entries(tc, n_elinks=(2, 3, 4, 5), thresholds=(), latent_dim=16) -> list
    elinks_needed(bits), rate_gbps(bits)
    bandwidth_table(settings, n_modules) -> list[dict]
    write_table_csv(rows, path) -> Path

One e-link carries 32 bits per bunch crossing (1.28 Gb/s at 40 MHz, econt.md §1).  Rates
are payload rates, ``bits × 40 MHz``; a module occupies ``elinks × 1.28 Gb/s`` of links.

The number of modules is always the caller's: physics.md §4 gives ≈30 000 silicon modules
for the whole of HGCAL and says that only odd CE-E layers have ECON-T links, but no CE-E
module count; :func:`bandwidth_table` therefore takes ``n_modules`` as a required argument,
to be stated (with its source) by whoever runs the study.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hgcal_ae.atomic import write_csv
from hgcal_ae.errors import ConfigError
from hgcal_ae.trigger.autoencoder_budget import autoencoder_bits, check_autoencoder_fits
from hgcal_ae.trigger.baselines import (
    ELINK_BITS,
    AlgorithmOutput,
    best_choice,
    elinks_setting,
    repeater,
    super_trigger_cells,
    threshold_sum,
)

__all__ = [
    "BX_FREQUENCY_HZ",
    "COLUMNS",
    "ELINK_GBPS",
    "BandwidthEntry",
    "autoencoder_entry",
    "bandwidth_table",
    "elinks_needed",
    "entry_from_output",
    "rate_gbps",
    "standard_entries",
    "write_table_csv",
]

BX_FREQUENCY_HZ = 40e6  #: LHC bunch-crossing frequency (econt.md §1)
ELINK_GBPS = ELINK_BITS * BX_FREQUENCY_HZ / 1e9  #: 1.28 Gb/s per e-link (econt.md §1)
#: 16 latent values of 3/5/7/9 bits at 2/3/4/5 e-links (econt.md §1, OW:README.md).
AE_BITS_PER_ELINKS = {2: 3, 3: 5, 4: 7, 5: 9}

#: Columns of a bandwidth-table row, in order.
COLUMNS = (
    "algorithm",
    "setting",
    "statistic",
    "bits",
    "elinks",
    "rate_gbps_per_module",
    "rate_tbps_total",
)


@dataclass(frozen=True)
class BandwidthEntry:
    """Bits per bunch crossing of one algorithm setting, for one or many modules.

    Attributes
    ----------
    algorithm, setting
        Labels of the row(s), e.g. ``"best_choice"`` and ``"2 e-links, table=emu"``.
    bits
        ``(N,)`` bits per bunch crossing of each module (one value for a fixed format).
    """

    algorithm: str
    setting: str
    bits: NDArray[np.float64]


def elinks_needed(bits: ArrayLike) -> NDArray[np.int64]:
    """E-links needed to carry ``bits`` per bunch crossing, ``ceil(bits / 32)``."""
    return np.ceil(np.asarray(bits, dtype=np.float64) / ELINK_BITS).astype(np.int64)


def rate_gbps(bits: ArrayLike) -> NDArray[np.float64]:
    """Payload data rate in Gb/s of ``bits`` per bunch crossing, ``bits × 40 MHz``."""
    return np.asarray(bits, dtype=np.float64) * BX_FREQUENCY_HZ / 1e9


def entry_from_output(output: AlgorithmOutput) -> BandwidthEntry:
    """The per-module bits of an :class:`~hgcal_ae.trigger.baselines.AlgorithmOutput`."""
    return BandwidthEntry(output.name, output.setting, np.asarray(output.bits, dtype=np.float64))


def autoencoder_entry(
    latent_dim: int, bits_per_latent: int, n_elinks: int | None = None
) -> BandwidthEntry:
    """Output bits of an autoencoder with a ``latent_dim × bits_per_latent`` code.

    With ``n_elinks`` the code is first checked to fit that frame
    (:func:`~hgcal_ae.trigger.autoencoder_budget.check_autoencoder_fits`, raising ConfigError).
    """
    if n_elinks is None:
        bits = autoencoder_bits(latent_dim, bits_per_latent)
        setting = f"latent {latent_dim}×{bits_per_latent} bits"
    else:
        bits = check_autoencoder_fits(latent_dim, bits_per_latent, n_elinks)
        setting = f"{elinks_setting(n_elinks)}, latent {latent_dim}×{bits_per_latent} bits"
    return BandwidthEntry("autoencoder", setting, np.array([bits], dtype=np.float64))


def standard_entries(
    tc: ArrayLike,
    n_elinks: Sequence[int] = (2, 3, 4, 5),
    thresholds: Sequence[float] = (),
    latent_dim: int = 16,
    lsb: float = 1.0,
) -> list[BandwidthEntry]:
    """The usual comparison: BC, STC4, STC16 and AE per e-link setting, TS per threshold, repeater.

    Parameters
    ----------
    tc
        ``(N, 48)`` TC charges (they only matter for Threshold-Sum's variable length).
    n_elinks
        E-link settings of the fixed-length algorithms.  The autoencoder is added at the
        settings of :data:`AE_BITS_PER_ELINKS` (2–5).
    thresholds
        Threshold-Sum thresholds, units of ``tc``; its length does not depend on e-links.
    latent_dim
        Autoencoder latent size.
    lsb
        Passed to the algorithms.
    """
    entries = []
    for n in n_elinks:
        entries.append(entry_from_output(best_choice(tc, n, lsb=lsb)))
        entries.append(entry_from_output(super_trigger_cells(tc, n, 4, lsb=lsb)))
        if n <= 2:  # STC16_9 is defined up to 2 e-links (EMU Formatter)
            entries.append(entry_from_output(super_trigger_cells(tc, n, 16, lsb=lsb)))
        if n in AE_BITS_PER_ELINKS:
            entries.append(autoencoder_entry(latent_dim, AE_BITS_PER_ELINKS[n], n))
    for threshold in thresholds:
        out = threshold_sum(tc, max(n_elinks, default=1), threshold, lsb=lsb)
        entries.append(BandwidthEntry(out.name, f"threshold={threshold:g}", out.bits.astype(float)))
    out = repeater(tc, 11, lsb=lsb)
    entries.append(BandwidthEntry(out.name, "all 48 TCs", out.bits.astype(float)))
    return entries


def _row(
    algorithm: str, setting: str, statistic: str, bits: float, n_modules: int
) -> dict[str, Any]:
    gbps = float(rate_gbps(bits))
    return {
        "algorithm": algorithm,
        "setting": setting,
        "statistic": statistic,
        "bits": float(bits),
        "elinks": int(elinks_needed(bits)),
        "rate_gbps_per_module": gbps,
        "rate_tbps_total": gbps * n_modules / 1e3,
    }


def bandwidth_table(
    settings: Iterable[BandwidthEntry | AlgorithmOutput], n_modules: int
) -> list[dict[str, Any]]:
    """Rows of bits, e-links and data rates for each algorithm setting.

    Parameters
    ----------
    settings
        :class:`BandwidthEntry` or :class:`~hgcal_ae.trigger.baselines.AlgorithmOutput`
        objects.
    n_modules
        Number of modules the total rate is for, stated by the caller (see the module
        docstring: no CE-E module count is assumed here).

    Returns
    -------
    list of dict
        Keys :data:`COLUMNS`.  A setting whose modules all need the same bits gives one row
        (``statistic="fixed"``); a variable-length one (Threshold-Sum) gives a ``"mean"``
        and a ``"p99"`` row (99th percentile, an observed module's value).  ``elinks`` is
        ``ceil(bits / 32)``, ``rate_gbps_per_module`` is ``bits × 40 MHz`` and
        ``rate_tbps_total`` is that times ``n_modules``.

    Raises
    ------
    ConfigError
        If ``n_modules`` is not a positive integer or an entry has no bits.
    """
    if isinstance(n_modules, bool) or not isinstance(n_modules, int | np.integer) or n_modules < 1:
        msg = f"expected n_modules to be a positive integer stated by the caller, got {n_modules!r}"
        raise ConfigError(msg)
    rows = []
    for item in settings:
        entry = entry_from_output(item) if isinstance(item, AlgorithmOutput) else item
        bits = np.asarray(entry.bits, dtype=np.float64).ravel()
        if bits.size == 0:
            msg = f"entry {entry.algorithm!r} ({entry.setting}) has no bits"
            raise ConfigError(msg)
        if np.all(bits == bits[0]):
            rows.append(_row(entry.algorithm, entry.setting, "fixed", bits[0], n_modules))
        else:
            p99 = float(np.percentile(bits, 99, method="higher"))
            rows.append(_row(entry.algorithm, entry.setting, "mean", bits.mean(), n_modules))
            rows.append(_row(entry.algorithm, entry.setting, "p99", p99, n_modules))
    return rows


def write_table_csv(rows: Sequence[dict[str, Any]], path: str | os.PathLike[str]) -> Path:
    """Write bandwidth rows as CSV (header :data:`COLUMNS`), atomically; return ``path``.

    Raises
    ------
    ConfigError
        If ``rows`` is empty or a row lacks one of the columns.
    """
    if not rows:
        msg = "expected at least one bandwidth row, got none"
        raise ConfigError(msg)
    for row in rows:
        missing = [c for c in COLUMNS if c not in row]
        if missing:
            msg = f"bandwidth row {row!r} lacks columns {missing}"
            raise ConfigError(msg)
    return write_csv(path, rows, COLUMNS)
