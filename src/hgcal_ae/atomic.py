"""Atomic file output: a reader never sees a half-written file.

Everything the package writes goes through :func:`atomic_path`: the caller writes a
temporary file in the destination folder, which is renamed over the destination only when
the block finishes without an exception.  A killed process leaves at most a ``.tmp-*`` file,
never a file with the final name.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hgcal_ae.errors import OutputError

__all__ = ["atomic_path", "ensure_dir", "jsonable", "write_csv", "write_json"]


def ensure_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` (and parents) and check that it is writable.

    Raises
    ------
    OutputError
        If the folder cannot be created or a file cannot be written inside it.
    """
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-probe-"):
            pass
    except OSError as exc:
        msg = f"output directory {str(folder)!r} is not writable ({exc.strerror or exc}); choose another with --output-dir or OUTPUT_DIR"
        raise OutputError(msg) from exc
    return folder


@contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` on success.

    Parameters
    ----------
    path
        Final destination.  Its folder is created if needed.
    suffix
        Suffix of the temporary file (defaults to ``path``'s own, so that libraries that
        pick a format from the file name, e.g. matplotlib and imageio, still do).
    """
    final = Path(path)
    folder = ensure_dir(final.parent)
    fd, tmp_name = tempfile.mkstemp(
        dir=folder, prefix=f".tmp-{final.name}-", suffix=final.suffix if suffix is None else suffix
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_csv(
    path: str | os.PathLike[str],
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str] | None = None,
) -> Path:
    """Write ``rows`` as CSV, atomically: ``columns`` in order (default: every key, first seen
    first); keys of a row that are not columns are left out."""
    fields = list(dict.fromkeys(columns if columns is not None else (k for r in rows for k in r)))
    with atomic_path(path) as tmp, tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return Path(path)


def write_json(path: str | os.PathLike[str], payload: Any) -> Path:
    """Write ``payload`` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=False, default=jsonable) + "\n")
    return Path(path)


def jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays and paths for :func:`json.dumps`."""
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "tolist"):
        return value.tolist()
    msg = f"cannot write {type(value).__name__} {value!r} to JSON"
    raise TypeError(msg)
