"""The merging study's report: its tables and the answers in numbers.

Public API::

    merging_markdown(grouping, neighbours) -> str      # both tables, Markdown
    answers(grouping, neighbours) -> dict              # what 3 x 3 costs, what borders buy

``grouping`` is :meth:`hgcal_ae.study.grouping_result.GroupingResult.to_json`, ``neighbours`` the
``summary`` of :func:`hgcal_ae.study.neighbours.neighbour_study`.
"""

from __future__ import annotations

from typing import Any

from hgcal_ae.study.tables import markdown_table

__all__ = ["GROUPING_COLUMNS", "NEIGHBOUR_COLUMNS", "answers", "merging_markdown"]

GROUPING_COLUMNS = tuple(
    {
        "granularity": "granularity",
        "units_per_module": "units/module",
        "event_resolution_mm": "event barycentre σ [mm]",
        "shower_max_resolution_mm": "shower-max σ [mm]",
        "event_shift_mm": "shift from cells [mm]",
        "shower_max_width_ratio": "width ÷ cells",
        "hottest_fraction": "hottest unit / module E",
        "occupancy_per_module": "units ≥ 0.5 MIP",
        "bits_per_module": "bits/BX (7 bits each)",
        "elinks_per_module": "e-links",
    }.items()
)
NEIGHBOUR_COLUMNS = tuple(
    {
        "model": "model",
        "showers": "showers",
        "n_modules": "modules",
        "emd_mean_cm": "mean EMD [cm]",
        "centroid_shift_mean_cm": "centroid shift [cm]",
        "layer_barycentre_shift_mean_mm": "layer barycentre shift [mm]",
        "event_barycentre_shift_mean_mm": "event barycentre shift [mm]",
    }.items()
)


def merging_markdown(grouping: dict[str, Any], neighbours: dict[str, Any]) -> str:
    """Both tables of the merging study as one Markdown page."""
    return (
        "# Merging study\n\n## Trigger-cell grouping (hd8, same showers)\n\n"
        + markdown_table(grouping["summary"], GROUPING_COLUMNS)
        + "\n## Module alone vs module plus neighbours' border TCs\n\n"
        + markdown_table(neighbours["rows"], NEIGHBOUR_COLUMNS)
    )


def answers(grouping: dict[str, Any], neighbours: dict[str, Any]) -> dict[str, Any]:
    """The two questions in numbers: what 3 x 3 grouping costs, what the border TCs buy."""
    by_name = {r["granularity"]: r for r in grouping["summary"]}
    cells, two, three = by_name["cells"], by_name["tc2x2"], by_name["tc3x3"]
    comparison = neighbours.get("comparison", {})
    return {
        "grouping": {
            "event_resolution_mm": {k: r["event_resolution_mm"] for k, r in by_name.items()},
            "resolution_3x3_over_2x2": _ratio(
                three["event_resolution_mm"], two["event_resolution_mm"]
            ),
            "resolution_2x2_over_cells": _ratio(
                two["event_resolution_mm"], cells["event_resolution_mm"]
            ),
            "bits_2x2_over_3x3": _ratio(two["bits_per_module"], three["bits_per_module"]),
        },
        "neighbours": comparison,
        "split_statistics": neighbours.get("split_statistics", {}).get("all"),
    }


def _ratio(a: Any, b: Any) -> float | None:
    if a is None or b is None or not b:
        return None
    return float(a) / float(b)
