"""Writing the package's HDF5 files: atomically, batch by batch, and safe on a full disk.

A file of a :class:`~hgcal_ae.datasets.hdf5.FileSchema` is written with
:func:`hdf5_output` (the open file, its attributes set), :func:`create_datasets` (every
dataset empty, resizable, chunked, gzip-compressed) and :func:`append` (one batch along the
first axis); see :mod:`hgcal_ae.datasets.hdf5` for an example.

Writing survives a full disk.  HDF5 must never see a failed write: when closing a dataset
fails (its chunk cache cannot be flushed), HDF5 frees the dataset but keeps its ID, and the
next release of that ID — h5py releases one whenever a ``Dataset`` object is
garbage-collected — closes freed memory: a segmentation fault.  :func:`hdf5_output` therefore
hands HDF5 a file object (h5py's ``fileobj`` driver) that keeps the first failed write's
``OSError`` and sends that write and every later one to memory, so the file always closes
cleanly; :func:`append` stops the writer at the batch that hit the error, and the error is
raised once the file is closed, where :func:`~hgcal_ae.atomic.atomic_path` turns it into
``OutputError("no space left on device writing '<path>'...")`` and removes the temporary
file.  Nothing is left at the final path on any error.

Public API::

    hdf5_output(path, schema, metadata) -> context manager of the open h5py.File
    create_datasets(h5file, schema) -> dict[str, h5py.Dataset]
    append(dataset, values) -> int                              # new length
    write_metadata(h5file, metadata);  metadata_json(metadata) -> str
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import h5py
import numpy as np
import numpy.typing as npt

import hgcal_ae
from hgcal_ae.atomic import atomic_path, jsonable
from hgcal_ae.datasets.hdf5 import FileSchema
from hgcal_ae.errors import ConfigError, OutputError

__all__ = ["append", "create_datasets", "hdf5_output", "metadata_json", "write_metadata"]

#: Compression of every dataset written: gzip level 4 with byte shuffle.
COMPRESSION: dict[str, Any] = {"compression": "gzip", "compression_opts": 4, "shuffle": True}


# -- metadata ----------------------------------------------------------------------------
def metadata_json(metadata: Mapping[str, Any]) -> str:
    """``metadata`` as the JSON text stored in the ``metadata`` attribute.

    Raises
    ------
    ConfigError
        If ``metadata`` is not a dict or cannot be written as JSON.
    """
    if not isinstance(metadata, Mapping):
        msg = f"metadata must be a dict, got {type(metadata).__name__}"
        raise ConfigError(msg)
    try:
        return json.dumps(dict(metadata), sort_keys=True, default=jsonable, allow_nan=True)
    except (TypeError, ValueError) as exc:
        msg = f"metadata cannot be written as JSON: {exc}"
        raise ConfigError(msg) from exc


def write_metadata(h5file: h5py.File, metadata: Mapping[str, Any]) -> None:
    """Store ``metadata`` (a JSON-serialisable dict) in the file's ``metadata`` attribute."""
    h5file.attrs["metadata"] = metadata_json(metadata)


# -- writing -----------------------------------------------------------------------------
class _SpillFile:
    """The temporary file under HDF5 (h5py's ``fileobj`` driver), safe on a full disk.

    Writes go to the file until one fails; that ``OSError`` is kept in :attr:`error` and
    that write and all later ones go to memory, where reads find them, so HDF5 never sees a
    failed write (see the module docstring for why it must not).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._fd = os.open(path, os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
        self._pos = 0
        self._size = os.fstat(self._fd).st_size
        self._memory: list[tuple[int, bytes]] = []
        self.error: OSError | None = None

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self._size}[whence]
        self._pos = base + offset
        return self._pos

    def tell(self) -> int:
        return self._pos

    def _read_at(self, pos: int, size: int) -> bytearray:
        data = bytearray(os.pread(self._fd, size, pos)) if size else bytearray()
        data.extend(bytes(size - len(data)))  # beyond the end: zeros, as HDF5 expects
        for start, chunk in self._memory:
            lo, hi = max(pos, start), min(pos + size, start + len(chunk))
            if lo < hi:
                data[lo - pos : hi - pos] = chunk[lo - start : hi - start]
        return data

    def read(self, size: int = -1) -> bytes:
        size = max(self._size - self._pos, 0) if size is None or size < 0 else size
        data = self._read_at(self._pos, size)
        self._pos += size
        return bytes(data)

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        view[:] = self._read_at(self._pos, len(view))
        self._pos += len(view)
        return len(view)

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        done = 0
        if self.error is None:
            try:
                while done < len(view):
                    written = os.pwrite(self._fd, view[done:], self._pos + done)
                    if written == 0:  # a regular file that takes nothing: treat as full
                        raise OSError(28, os.strerror(28))
                    done += written
            except OSError as exc:
                self.error = exc
        if done < len(view):
            self._memory.append((self._pos + done, bytes(view[done:])))
        self._pos += len(view)
        self._size = max(self._size, self._pos)
        return len(view)

    def truncate(self, size: int | None = None) -> int:
        size = self._pos if size is None else size
        if self.error is None:
            try:
                os.ftruncate(self._fd, size)
            except OSError as exc:
                self.error = exc
        self._memory = [(s, c[: size - s]) for s, c in self._memory if s < size]
        self._size = size
        return size

    def flush(self) -> None:
        """HDF5 calls this on flush and close; ``pwrite`` leaves nothing buffered here."""

    def close(self) -> None:
        self._memory = []
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            os.close(fd)


#: Open writers by HDF5 file number, so that :func:`append` can stop at a failed write.
_OPEN: dict[tuple[int, int], _SpillFile] = {}


@contextmanager
def hdf5_output(
    path: str | os.PathLike[str], schema: FileSchema, metadata: Mapping[str, Any]
) -> Iterator[h5py.File]:
    """Write an HDF5 file of ``schema`` atomically; yield it open for writing.

    The file gets the attributes ``schema``, ``schema_version``, ``hgcal_ae_version`` and
    ``metadata`` (JSON of ``metadata``; rewrite it with :func:`write_metadata`).  Datasets
    are made with :func:`create_datasets` and filled with :func:`append`.  The file is
    renamed to ``path`` when the block ends normally; on any exception, or a failed write,
    it is removed and nothing is left at ``path``.

    Raises
    ------
    ConfigError
        If ``metadata`` cannot be written as JSON (before anything is created).
    OutputError
        If the folder cannot be written or the disk is full: ``"no space left on device
        writing '<path>'..."``, also when the block failed because of it.
    """
    text = metadata_json(metadata)
    with atomic_path(path) as tmp:
        sink = _SpillFile(tmp)
        try:
            with h5py.File(sink, "w") as h5file:
                key = h5file.id.fileno
                _OPEN[key] = sink
                try:
                    h5file.attrs["schema"] = schema.name
                    h5file.attrs["schema_version"] = schema.version
                    h5file.attrs["hgcal_ae_version"] = hgcal_ae.__version__
                    h5file.attrs["metadata"] = text
                    yield h5file
                finally:
                    del _OPEN[key]
        except Exception as exc:
            # A block that failed after a write failed (e.g. HDF5 reading back what went to
            # memory, or append() stopping): the write error is the cause to report.
            error = sink.error
            if error is not None and exc is not error and not isinstance(exc, OutputError):
                raise error from exc
            raise
        finally:
            sink.close()
        if sink.error is not None:
            raise sink.error


def create_datasets(h5file: h5py.File, schema: FileSchema) -> dict[str, h5py.Dataset]:
    """Create every dataset of ``schema``, empty, resizable, chunked and compressed.

    Offsets datasets start as ``[0]``.  Keep the returned datasets open while appending:
    closing one flushes its chunk cache, and a partly filled chunk would then be
    compressed, read back and recompressed on every append.
    """
    datasets: dict[str, h5py.Dataset] = {}
    for spec in schema.datasets:
        start = 1 if spec.offsets_into is not None else 0
        datasets[spec.name] = h5file.create_dataset(
            spec.name,
            shape=(start, *spec.shape),
            maxshape=(None, *spec.shape),
            dtype=spec.numpy_dtype,
            chunks=(spec.chunk, *spec.shape),
            fillvalue=0,
            **COMPRESSION,
        )
    return datasets


def append(dataset: h5py.Dataset, values: npt.ArrayLike) -> int:
    """Append ``values`` along the first axis of a dataset made by :func:`create_datasets`.

    Returns
    -------
    int
        The dataset's new length.

    Raises
    ------
    OSError
        The first failed write of the file (e.g. ``ENOSPC``), so that a writer stops at
        the batch that filled the disk; :func:`hdf5_output` reports it as
        :class:`~hgcal_ae.errors.OutputError`.
    """
    array = np.asarray(values)
    n0 = int(dataset.shape[0])
    n1 = n0 + int(array.shape[0]) if array.ndim else n0
    if n1 > n0:
        dataset.resize((n1, *dataset.shape[1:]))
        dataset[n0:n1] = array
    sink = _OPEN.get(dataset.id.fileno)
    if sink is not None and sink.error is not None:
        raise sink.error
    return n1
