"""Markdown tables of the studies' rows: one renderer for the reports and the docs.

Public API::

    format_value(value, fmt=None) -> str
    markdown_table(rows, columns) -> str      # columns: (key, title[, format]) per column

A value that is missing, ``None`` or not finite prints as "–".  Without a format, floats get
three decimals, except whole numbers of 10 or more (counts), which print as integers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["format_value", "markdown_table"]

MISSING = "–"


def format_value(value: Any, fmt: str | None = None) -> str:
    """``value`` as a table cell (see the module docstring)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return MISSING
    if fmt is not None and isinstance(value, int | float) and not isinstance(value, bool):
        return fmt.format(value)
    if isinstance(value, float) and value.is_integer() and abs(value) >= 10:
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def markdown_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[tuple[str, ...]]) -> str:
    """Rows as a Markdown table; each column is ``(key, title)`` or ``(key, title, format)``."""
    head = "| " + " | ".join(c[1] for c in columns) + " |"
    lines = [head, "|" + "---|" * len(columns)]
    for row in rows:
        cells = [format_value(row.get(c[0]), c[2] if len(c) > 2 else None) for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
