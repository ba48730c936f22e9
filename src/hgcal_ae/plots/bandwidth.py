"""Bits per bunch crossing of each ECON-T algorithm setting against the e-link capacity."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hgcal_ae.errors import ConfigError
from hgcal_ae.plots.style import house_style, new_figure, save_figure
from hgcal_ae.trigger.baselines import ELINK_BITS

__all__ = ["bandwidth_plot"]


def bandwidth_plot(
    rows: Sequence[Mapping[str, Any]],
    path: str | os.PathLike[str],
    *,
    elink_bits: int = ELINK_BITS,
    title: str | None = None,
) -> Path:
    """Draw bits per bunch crossing per module as horizontal bars, with e-link capacities.

    Parameters
    ----------
    rows
        Rows of :func:`hgcal_ae.trigger.bandwidth.bandwidth_table` (keys ``algorithm``,
        ``setting``, ``bits`` and optionally ``statistic``), one labelled bar each, in
        order, coloured by algorithm.
    path
        Destination image, written atomically.
    elink_bits
        Bits per bunch crossing of one e-link (32 at 1.28 Gb/s, econt.md §1); dashed lines
        mark 1, 2, ... e-links (numbered on the top axis), at least up to 5 and up to the
        largest bar.
    title
        Figure title; by default "ECON-T output per module".

    Raises
    ------
    ConfigError
        On no rows, a row without ``algorithm``/``setting``/``bits``, negative bits or
        ``elink_bits <= 0``.
    """
    if elink_bits <= 0:
        msg = f"expected elink_bits > 0, got {elink_bits!r}"
        raise ConfigError(msg)
    if not rows:
        msg = "expected at least one bandwidth row to plot, got none"
        raise ConfigError(msg)
    labels, bits, algorithms = [], [], []
    for row in rows:
        try:
            value = float(row["bits"])
            label = f"{row['algorithm']} ({row['setting']})"
            algorithms.append(str(row["algorithm"]))
        except (KeyError, TypeError, ValueError) as exc:
            msg = f"expected rows with algorithm, setting and numeric bits, got {dict(row)!r}"
            raise ConfigError(msg) from exc
        if not value >= 0:
            msg = f"expected bits >= 0, got {value!r} in row {dict(row)!r}"
            raise ConfigError(msg)
        statistic = row.get("statistic", "fixed")
        labels.append(label if statistic in ("fixed", None, "") else f"{label} [{statistic}]")
        bits.append(value)
    n_lines = max(5, math.ceil(max(bits) / elink_bits))
    with house_style():
        fig = new_figure((9.0, 1.8 + 0.3 * len(rows)))
        ax = fig.add_subplot()
        colours: dict[str, str] = {}
        for algorithm in algorithms:
            colours.setdefault(algorithm, f"C{len(colours) % 10}")
        ax.barh(range(len(rows)), bits, color=[colours[a] for a in algorithms])
        capacities = [k * elink_bits for k in range(1, n_lines + 1)]
        for capacity in capacities:
            ax.axvline(capacity, color="0.4", linestyle="--", linewidth=0.8)
        top = ax.secondary_xaxis("top")
        top.set_xticks(capacities, [str(k) for k in range(1, n_lines + 1)])
        top.set_xlabel(f"e-links ({elink_bits} bits each)")
        ax.set_yticks(range(len(rows)), labels)
        ax.set_ylim(len(rows) - 0.4, -0.6)
        ax.set_xlim(0, (n_lines + 0.5) * elink_bits)
        ax.set_xlabel("bits per bunch crossing per module")
        ax.set_title(title or "ECON-T output per module")
    return save_figure(fig, path)
