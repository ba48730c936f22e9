"""Atomic file output: a reader never sees a half-written file.

Everything the package writes goes through :func:`atomic_path`: the caller writes a
temporary file in the destination folder, which is renamed over the destination only when
the block finishes without an exception.  A killed process leaves at most a ``.tmp-*`` file,
never a file with the final name.

The temporary file is created with mode ``0o666`` filtered by the process's umask (and the
folder's default ACL), as ``open()`` would create it, so outputs get the permissions of any
file the user writes (``0644`` under umask ``022``).

A full disk is reported here, in one place: an error raised inside the block (or by the
final rename) that carries ``ENOSPC``/``EDQUOT`` anywhere in its chain of causes, or a
library error that lost the errno (torch's ``RuntimeError``, h5py's) while the folder has
(almost) no free space left, becomes :class:`~hgcal_ae.errors.OutputError` ``"no space left
on device writing '<path>'..."``; the temporary file is removed either way.
"""

from __future__ import annotations

import csv
import errno
import json
import os
import secrets
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hgcal_ae.errors import HgcalAeError, OutputError

__all__ = ["atomic_path", "disk_full", "ensure_dir", "jsonable", "write_csv", "write_json"]

#: errno values that mean "the disk (or the user's quota) is full".
NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
# A failed write fills the disk up to its last block, so a folder with less free space than
# this, right after a library error that lost its errno, is taken to be full.
_FULL_BELOW_BYTES = 1 << 20


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


def disk_full(exc: BaseException, folder: str | os.PathLike[str]) -> bool:
    """Whether ``exc``, raised while writing into ``folder``, means that the disk is full.

    True if an :class:`OSError` with errno ``ENOSPC`` or ``EDQUOT`` is ``exc`` or anywhere
    in its ``__cause__``/``__context__`` chain.  Libraries that lose the errno (torch raises
    a bare ``RuntimeError`` when it cannot write, h5py sometimes an ``OSError`` without
    errno) are judged by the folder's free space instead (``os.statvfs``, less than 1 MiB
    available); so call this before removing what was written.
    """
    pending: list[BaseException | None] = [exc]
    seen: set[int] = set()
    while pending:
        error = pending.pop()
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, OSError) and error.errno in NO_SPACE_ERRNOS:
            return True
        pending += [error.__cause__, error.__context__]
    lost_errno = isinstance(exc, RuntimeError) or (isinstance(exc, OSError) and exc.errno is None)
    if not lost_errno:
        return False
    try:
        stats = os.statvfs(folder)
    except OSError:
        return False
    return stats.f_bavail * stats.f_frsize < _FULL_BELOW_BYTES


def _create_temporary(folder: Path, final: Path, suffix: str) -> Path:
    """Create an empty temporary file beside ``final``, as ``open()`` would (umask applies)."""
    for _ in range(100):
        tmp = folder / f".tmp-{final.name}-{secrets.token_hex(4)}{suffix}"
        try:
            fd = os.open(
                tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666
            )
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno in NO_SPACE_ERRNOS:
                msg = f"no space left on device writing {str(final)!r}; free some space or choose another output directory"
                raise OutputError(msg) from exc
            msg = f"cannot create a file in output directory {str(folder)!r} ({exc.strerror or exc}); choose another with --output-dir or OUTPUT_DIR"
            raise OutputError(msg) from exc
        os.close(fd)
        return tmp
    msg = f"cannot find a free temporary name beside {str(final)!r}"
    raise OutputError(msg)


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

    Raises
    ------
    OutputError
        If the folder cannot be written, or the disk is full (see :func:`disk_full`)
        while the block writes or at the rename: ``"no space left on device writing
        '<path>'..."``.  Any other exception of the block propagates unchanged.  Either
        way the temporary file is removed and nothing is left at ``path``.
    """
    final = Path(path)
    folder = ensure_dir(final.parent)
    tmp = _create_temporary(folder, final, final.suffix if suffix is None else suffix)
    try:
        try:
            yield tmp
            os.replace(tmp, final)
        except Exception as exc:
            # Judged before the temporary file is removed: it is what filled the disk.
            if not isinstance(exc, HgcalAeError) and disk_full(exc, folder):
                msg = f"no space left on device writing {str(final)!r}; free some space or choose another output directory"
                raise OutputError(msg) from exc
            raise
    finally:
        tmp.unlink(missing_ok=True)


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
