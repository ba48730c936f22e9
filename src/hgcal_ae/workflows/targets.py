"""Targets that exist only when whole: the one rule for "this output is done".

A luigi ``LocalTarget`` exists as soon as a file has its name, so a truncated or corrupt
output (a full disk, a file copied half-way, a writer that was not atomic) makes its task look
complete, and the next run either reports success or crashes reading it.  A
:class:`WholeTarget` exists only when the file is there *and* passes a cheap check chosen by
its suffix (:data:`CHECKS`): it parses, or its format's end marker is present.  A task whose
output is not whole is incomplete, so the next run writes it again.

The checks read no data beyond what is needed to see that the file ends where its format
says: the full HDF5 schema is the readers' job, and ``.pt`` files are not unpickled.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import luigi

__all__ = ["CHECKS", "WholeTarget", "is_whole"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The IEND chunk: zero length, type, and its fixed CRC (PNG spec, section 11.2.5).
PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"
GIF_SIGNATURE = b"GIF8"
GIF_TRAILER = b"\x3b"


def _tail(path: Path, n: int) -> bytes:
    with path.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        fh.seek(max(0, fh.tell() - n))
        return fh.read()


def _head(path: Path, n: int) -> bytes:
    with path.open("rb") as fh:
        return fh.read(n)


def _json_parses(path: Path) -> bool:
    try:
        json.loads(path.read_bytes())
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        return False
    return True


def _hdf5_has_schema(path: Path) -> bool:
    import h5py  # only where an HDF5 output is checked

    try:
        with h5py.File(path, "r") as h5:
            return "schema" in h5.attrs
    except OSError:  # not HDF5, truncated (EOF before the stored end), or locked by a writer
        return False


def _zip_readable(path: Path) -> bool:
    """A zip whose end record and central directory read back (``torch.save``, ``np.savez``)."""
    if not zipfile.is_zipfile(path):
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            return bool(archive.infolist())
    except (zipfile.BadZipFile, OSError, EOFError):
        return False


def _png_whole(path: Path) -> bool:
    return _head(path, 8) == PNG_SIGNATURE and _tail(path, 12) == PNG_IEND


def _gif_whole(path: Path) -> bool:
    return _head(path, 4) == GIF_SIGNATURE and _tail(path, 1) == GIF_TRAILER


def _text_whole(path: Path) -> bool:
    """Non-empty and ends with a newline, as every text writer of the package leaves it."""
    return _tail(path, 1) == b"\n"


CHECKS: dict[str, Callable[[Path], bool]] = {
    ".json": _json_parses,
    ".h5": _hdf5_has_schema,
    ".pt": _zip_readable,
    ".npz": _zip_readable,
    ".png": _png_whole,
    ".gif": _gif_whole,
    ".csv": _text_whole,
    ".md": _text_whole,
    ".txt": _text_whole,
}
"""The content check of each suffix; any other suffix only needs a non-empty file."""


def is_whole(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a folder, or a non-empty file that passes its suffix's check.

    Parameters
    ----------
    path
        A file or folder.  Missing paths and unreadable files are not whole.
    """
    p = Path(path)
    try:
        if p.is_dir():
            return True
        if not p.is_file() or p.stat().st_size == 0:
            return False
        check = CHECKS.get(p.suffix.lower())
        return True if check is None else check(p)
    except OSError:  # vanished or unreadable between the calls: not a usable output
        return False


class WholeTarget(luigi.LocalTarget):
    """A local file (or folder) that exists only when it is whole (see :func:`is_whole`).

    Writing is luigi's own, atomic: ``open('w')`` and ``temporary_path()`` rename a finished
    temporary file onto the path.
    """

    # law's target collections (the AE grid's law workflow) ask these of their members.
    optional = False

    def exists(self) -> bool:
        return is_whole(self.path)

    def complete(self, **kwargs: object) -> bool:
        """law's name for :meth:`exists` (a target collection asks its members this)."""
        return self.exists()

    def uri(self, **kwargs: object) -> str:
        """law's name for the target's location (``law run ... --print-output``)."""
        return str(self.path)
