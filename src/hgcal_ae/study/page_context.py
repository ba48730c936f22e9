"""What the docs' generated blocks are rendered from: a run's summary, read field by field.

:class:`Doc` wraps a value of a summary file and where it sits; reading a field checks it, so
a missing field or one of the wrong type is a :class:`~hgcal_ae.errors.DataError` naming the
file, the field (``rows[3].label``) and the block.  :class:`BlockContext` carries the summary,
where it is and which command writes it, and the page's links; a renderer takes one and
returns :class:`Rendered` (the block's Markdown and the run's figures it shows).  The
renderers are :mod:`hgcal_ae.study.page_studies`, :mod:`hgcal_ae.study.page_runs` and
:mod:`hgcal_ae.study.page_code`; the pages' update is :mod:`hgcal_ae.study.pages`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from hgcal_ae.errors import DataError

__all__ = ["BlockContext", "Doc", "Figure", "Rendered", "code_header", "yes_no"]


class Doc:
    """A value of a summary file and where it sits; reading a field checks it.

    Every failure is a :class:`~hgcal_ae.errors.DataError` naming the file, the field (as
    ``rows[3].label``) and the docs block that needs it.
    """

    __slots__ = ("block", "file", "value", "where")

    def __init__(self, value: Any, file: str, block: str, where: str = "") -> None:
        self.value, self.file, self.block, self.where = value, file, block, where

    def fail(self, what: str) -> DataError:
        field_name = self.where or "(top level)"
        msg = f"{self.file}: field {field_name!r} {what} (needed by the docs block {self.block!r})"
        return DataError(msg)

    def _child(self, key: str | int) -> Doc:
        where = f"{self.where}[{key}]" if isinstance(key, int) else f"{self.where}.{key}"
        return Doc(None, self.file, self.block, where.lstrip("."))

    def __getitem__(self, key: str | int) -> Doc:
        child = self._child(key)
        if isinstance(key, int):
            if not isinstance(self.value, list):
                raise self.fail(f"is {_kind(self.value)}, expected a list")
            if not -len(self.value) <= key < len(self.value):
                raise child.fail("is missing")
        elif not isinstance(self.value, dict):
            raise self.fail(f"is {_kind(self.value)}, expected an object")
        elif key not in self.value:
            raise child.fail("is missing")
        container: Any = self.value
        child.value = container[key]
        return child

    def has(self, key: str) -> bool:
        return isinstance(self.value, dict) and key in self.value

    def items(self) -> list[Doc]:
        """The elements of a list."""
        if not isinstance(self.value, list):
            raise self.fail(f"is {_kind(self.value)}, expected a list")
        return [self[i] for i in range(len(self.value))]

    def fields(self) -> list[str]:
        if not isinstance(self.value, dict):
            raise self.fail(f"is {_kind(self.value)}, expected an object")
        return list(self.value)

    def num(self) -> float | None:
        """A number, or None for null/NaN (printed as "–")."""
        v = self.value
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise self.fail(f"is {v!r}, expected a number")
        return None if not math.isfinite(v) else float(v)

    def number(self) -> float:
        value = self.num()
        if value is None:
            raise self.fail("is null, expected a number")
        return value

    def integer(self) -> int:
        value = self.number()
        if not value.is_integer():
            raise self.fail(f"is {value!r}, expected an integer")
        return int(value)

    def text(self) -> str:
        if not isinstance(self.value, str):
            raise self.fail(f"is {self.value!r}, expected a string")
        return self.value

    def flag(self) -> bool:
        if not isinstance(self.value, bool):
            raise self.fail(f"is {self.value!r}, expected true or false")
        return self.value

    def pick(self, columns: Sequence[tuple[str, ...]]) -> dict[str, Any]:
        """The scalar fields a table's ``columns`` show, each checked."""
        row: dict[str, Any] = {}
        for key, *_ in columns:
            value = self[key].value
            row[key] = value if isinstance(value, str) else self[key].num()
        return row


def _kind(value: Any) -> str:
    return "null" if value is None else f"a {type(value).__name__}"


@dataclass(frozen=True)
class Figure:
    """A figure of a run, copied to ``docs/images/<name>``."""

    source: Path
    name: str


@dataclass
class Rendered:
    text: str
    figures: list[Figure] = field(default_factory=list)


@dataclass
class BlockContext:
    """What a block is rendered from, and where its page is.

    ``doc`` is the summary (``None`` for a block rendered from the code), ``summary_path``
    the file, ``shown`` its path as the docs show it, ``command`` the command that writes
    it; ``images`` and ``pages`` are the page's links to ``docs/images/`` and ``docs/``.
    """

    doc: Doc | None
    summary_path: Path | None = None
    shown: str = ""
    command: str = ""
    images: str = "images"
    pages: str = ""
    figures: list[Figure] = field(default_factory=list)

    @property
    def s(self) -> Doc:
        assert self.doc is not None
        return self.doc

    def header(self, counts: str) -> str:
        """The block's first line: which file, which command, what it holds, which version."""
        version = self.s["hgcal_ae_version"].text() if self.s.has("hgcal_ae_version") else None
        details = "; ".join(p for p in (counts, version and f"hgcal_ae {version}") if p)
        return (f"_Generated by `hgcal-ae docs` from `{self.shown}`, written by "
                f"`{self.command}` ({details})._\n\n")  # fmt: skip

    def link(self, page: str, text: str) -> str:
        """A Markdown link from the block's page to the docs page ``page``."""
        return f"[{text}]({self.pages}{page})"

    def figure(self, recorded: Doc, recorded_summary: Doc, name: str, caption: str) -> str:
        """Markdown of a run's figure, copied to ``docs/images/name`` with the block.

        The run's ``outputs`` hold absolute paths; the figure is looked up at the same place
        relative to the summary file, so a moved output folder still works.
        """
        assert self.summary_path is not None
        try:
            relative = PurePath(recorded.text()).relative_to(
                PurePath(recorded_summary.text()).parent
            )
        except ValueError:
            raise recorded.fail("is outside the run's folder") from None
        source = self.summary_path.parent / relative
        if not source.is_file():
            raise recorded.fail(f"names {str(source)!r}, which does not exist")
        self.figures.append(Figure(source, name))
        return f"![{caption}]({self.images}/{name})"


def code_header(module: str) -> str:
    """The first line of a block rendered from the package's code."""
    return f"_Generated by `hgcal-ae docs` from `{module}`._\n\n"


def yes_no(flag: bool) -> str:
    return "yes" if flag else "no"
