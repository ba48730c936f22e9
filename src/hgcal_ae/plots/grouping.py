"""Figure of the trigger-cell grouping study: cells against 2 x 2- and 3 x 3-cell TCs."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hgcal_ae.errors import ConfigError
from hgcal_ae.plots.style import house_style, new_figure, save_figure
from hgcal_ae.trigger.baselines import ELINK_BITS

__all__ = ["grouping_plot"]

_SUMMARY_KEYS = ("granularity", "units_per_module", "bits_per_module", "elinks_per_module")
_LAYER_KEYS = ("granularity", "layer", "resolution_mm", "width_ratio")
_MARKERS = ("o", "s", "^", "D", "v", "P")


def _number(value: Any) -> float:
    """A float, nan for None (undefined entries of the study's JSON rows)."""
    return math.nan if value is None else float(value)


def _check(rows: Sequence[Mapping[str, Any]], keys: tuple[str, ...], what: str) -> None:
    if not rows:
        msg = f"expected at least one {what} row to plot, got none"
        raise ConfigError(msg)
    for row in rows:
        missing = [key for key in keys if key not in row]
        if missing:
            msg = f"{what} row {dict(row)!r} lacks {missing}; expected the rows of GroupingResult.{'rows' if what == 'summary' else 'layer_rows'}()"
            raise ConfigError(msg)


def grouping_plot(
    rows: Sequence[Mapping[str, Any]],
    layer_rows: Sequence[Mapping[str, Any]],
    path: str | os.PathLike[str],
    *,
    elink_bits: int = ELINK_BITS,
    title: str | None = None,
) -> Path:
    """Barycentre resolution and width ratio per layer, and bits per module, per granularity.

    Three panels: the layer-barycentre resolution (RMS per axis [mm], log scale) against the
    CE-E layer; the width (RMS radius) relative to cells against the layer; the bits per
    module per bunch crossing to send every unit (log scale), labelled with the e-links.

    Parameters
    ----------
    rows
        Summary rows of :meth:`hgcal_ae.study.grouping_result.GroupingResult.rows` (keys
        ``granularity``, ``units_per_module``, ``bits_per_module``, ``elinks_per_module``).
    layer_rows
        Rows of :meth:`~hgcal_ae.study.grouping_result.GroupingResult.layer_rows` (keys
        ``granularity``, ``layer``, ``resolution_mm``, ``width_ratio``; None or nan entries
        are left out of the lines).
    path
        Destination image, written atomically.
    elink_bits
        Bits per bunch crossing of one e-link (32 at 1.28 Gb/s, econt.md §1), for the label.
    title
        Figure title; by default "TC grouping: cells vs 2x2 vs 3x3 cells (hd8)".

    Raises
    ------
    ConfigError
        On empty rows or rows lacking a key, or ``elink_bits <= 0``.
    """
    if elink_bits <= 0:
        msg = f"expected elink_bits > 0, got {elink_bits!r}"
        raise ConfigError(msg)
    _check(rows, _SUMMARY_KEYS, "summary")
    _check(layer_rows, _LAYER_KEYS, "layer")
    names = [str(row["granularity"]) for row in rows]
    with house_style():
        fig = new_figure((15.0, 4.8))
        ax_res, ax_width, ax_bits = fig.subplots(1, 3)
        for i, name in enumerate(names):
            mine = sorted(
                (r for r in layer_rows if r["granularity"] == name), key=lambda r: r["layer"]
            )
            layer = [int(r["layer"]) for r in mine]
            style = {"color": f"C{i % 10}", "marker": _MARKERS[i % len(_MARKERS)], "label": name}
            ax_res.plot(layer, [_number(r["resolution_mm"]) for r in mine], **style)
            ax_width.plot(layer, [_number(r["width_ratio"]) for r in mine], **style)
        ax_res.set_yscale("log")
        ax_res.set_xlabel("CE-E layer")
        ax_res.set_ylabel("barycentre resolution per axis [mm]")
        ax_res.set_title("layer barycentre vs true axis (RMS)")
        ax_res.legend()
        ax_width.axhline(1.0, color="0.4", linestyle="--", linewidth=0.8)
        ax_width.set_xlabel("CE-E layer")
        ax_width.set_ylabel("RMS radius / RMS radius of cells")
        ax_width.set_title("energy-weighted transverse width")
        ax_width.legend()
        bits = [_number(row["bits_per_module"]) for row in rows]
        bars = ax_bits.bar(names, bits, color=[f"C{i % 10}" for i in range(len(names))])
        labels = [
            f"{int(row['units_per_module'])} units\n{int(row['elinks_per_module'])} e-links"
            for row in rows
        ]
        ax_bits.bar_label(bars, labels, padding=2, fontsize=9)
        ax_bits.set_yscale("log")
        finite = [b for b in bits if b > 0] or [1.0]
        ax_bits.set_ylim(10 ** math.floor(math.log10(min(finite))), max(finite) * 4)
        ax_bits.set_ylabel("bits per module per bunch crossing")
        ax_bits.set_title(f"all units as 7-bit 4E3M ({elink_bits} bits per e-link)")
        ax_bits.set_xlabel("granularity")
        fig.suptitle(title or "TC grouping: cells vs 2x2 vs 3x3 cells (hd8)")
    return save_figure(fig, path)
