"""The package's HDF5 file formats: one description and one schema checker for all of them.

A file format is described once, as a :class:`FileSchema`: its ``schema`` attribute, the
highest version this code reads, and its datasets (:class:`DatasetSpec`: path, dtype,
fixed trailing shape, and the *length group* whose length is its first dimension).  CSR
offsets are datasets with ``offsets_into=<group>``: ``n + 1`` entries (``n`` the length of
their own group) rising from 0 to the length of ``<group>``.  The same description drives

* the reader's check, :func:`check_file` (via :func:`open_checked`): attributes, version,
  every dataset's presence, dtype, dimensions and length, and the ends of the offsets —
  without reading the data — raising :class:`~hgcal_ae.errors.SchemaError` that names the
  file, the field and what was expected; it returns the length of every group;
* the writer, :mod:`hgcal_ae.datasets.hdf5_writer` (``hdf5_output`` + ``create_datasets`` +
  ``append``): resizable, chunked, gzip-compressed datasets appended batch by batch, written
  atomically, safe on a full disk.

Public API::

    DatasetSpec(name, dtype, length, shape=(), offsets_into=None, chunk=4096)
    FileSchema(name, version, what, datasets)
    check_file(h5file, schema, path) -> dict[str, int]          # group -> length
    open_checked(path, schema) -> context manager of (h5py.File, lengths)
    read_metadata_attr(h5file, schema, path) -> dict

Example: the trigger-cell file (``datasets/trigger_cells.py``) is described and written as::

    TRIGGER_CELLS = FileSchema(
        name="hgcal-ae/trigger-cells", version=1, what="trigger-cell file",
        datasets=(
            DatasetSpec("modules/event", np.int64, "modules"),
            DatasetSpec("modules/layer", np.int16, "modules"),
            DatasetSpec("modules/module", np.int16, "modules"),
            DatasetSpec("modules/tc", np.float32, "modules", shape=(N_TRIGGER_CELLS,)),
            *(DatasetSpec(f"events/{n}", dtype, "events") for n, dtype in per_event.items()),
            DatasetSpec("events/module_offsets", np.int64, "events", offsets_into="modules"),
        ),
    )   # per_event: event_id int64, pdg int32, the float64 truth and cell_energy_gev_total

    with hdf5_output(path, TRIGGER_CELLS, metadata) as h5:
        ds = create_datasets(h5, TRIGGER_CELLS)        # keep them open while appending
        for rows in batches:
            append(ds["modules/tc"], rows.tc)  # ... and the other module and event columns
            append(ds["events/module_offsets"], rows.event_offsets()[1:] + n_rows_so_far)
        write_metadata(h5, metadata | {"n_events": ..., "n_rows": ...})

    with open_checked(path, TRIGGER_CELLS) as (h5, lengths):   # lengths["events"], ["modules"]
        ...

``what`` ("trigger-cell file") starts every message; a group's length is that of its first
dataset in the list that is not an offsets dataset (``modules/event`` above).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import h5py
import numpy as np
import numpy.typing as npt

import hgcal_ae
from hgcal_ae.errors import ConfigError, DataError, SchemaError

__all__ = [
    "DatasetSpec",
    "FileSchema",
    "check_file",
    "open_checked",
    "read_metadata_attr",
]


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset of a file format.

    Parameters
    ----------
    name
        Path in the file, e.g. ``"events/event_id"``.
    dtype
        Dtype written; a reader accepts any dtype that casts to it safely.
    length
        Length group of the first dimension (e.g. ``"events"``, ``"hits"``, ``"modules"``).
    shape
        Fixed trailing dimensions (``(48,)`` for 48 trigger cells per row); ``()`` for 1-D.
    offsets_into
        For CSR offsets: the group they index.  The dataset then has ``n + 1`` entries (``n``
        the length of ``length``), rising from 0 to the length of ``offsets_into``.
    chunk
        Rows per chunk when written.
    """

    name: str
    dtype: npt.DTypeLike
    length: str
    shape: tuple[int, ...] = ()
    offsets_into: str | None = None
    chunk: int = 4096

    @property
    def numpy_dtype(self) -> np.dtype[Any]:
        """:attr:`dtype` as a :class:`numpy.dtype`."""
        return np.dtype(self.dtype)

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return 1 + len(self.shape)


@dataclass(frozen=True)
class FileSchema:
    """A file format: ``schema`` attribute, highest version read, datasets, and its name in messages."""

    name: str
    version: int
    what: str
    datasets: Sequence[DatasetSpec] = field(default_factory=tuple)

    def expected(self) -> str:
        """``"expected schema <name> v<version>"``, the tail of messages about a missing part."""
        return f"expected schema {self.name} v{self.version}"

    def reference(self, group: str) -> DatasetSpec:
        """The dataset whose length defines ``group``: its first non-offsets dataset."""
        for spec in self.datasets:
            if spec.length == group and spec.offsets_into is None:
                return spec
        msg = f"schema {self.name!r} has no dataset of length group {group!r}"
        raise ConfigError(msg)

    def groups(self) -> list[str]:
        """The length groups, in order of first appearance."""
        return list(dict.fromkeys(spec.length for spec in self.datasets))


def describe(schema: FileSchema, path: str | os.PathLike[str]) -> str:
    """``<what> '<path>'``: how every message names the file."""
    return f"{schema.what} {str(path)!r}"


def _oneline(exc: BaseException) -> str:
    """HDF5's messages span lines; the CLI prints one."""
    return " ".join(str(exc).split())


# -- checking ----------------------------------------------------------------------------
def _attr(h5file: h5py.File, name: str, schema: FileSchema, where: str) -> Any:
    if name not in h5file.attrs:
        msg = f"{where} has no attribute {name!r} ({schema.expected()})"
        raise SchemaError(msg)
    value = h5file.attrs[name]
    return value.decode() if isinstance(value, bytes) else value


def _check_header(h5file: h5py.File, schema: FileSchema, where: str) -> None:
    name = _attr(h5file, "schema", schema, where)
    if name != schema.name:
        msg = f"{where} has schema {name!r}, expected {schema.name!r}"
        raise SchemaError(msg)
    version = _attr(h5file, "schema_version", schema, where)
    if (
        isinstance(version, bool | np.bool_)
        or not isinstance(version, int | np.integer)
        or version < 1
    ):
        msg = f"{where} has schema version {version!r}, expected an integer 1..{schema.version}"
        raise SchemaError(msg)
    if version > schema.version:
        msg = f"{where} has schema version {int(version)}, newer than this hgcal-ae ({hgcal_ae.__version__}) reads (up to {schema.version}); upgrade hgcal-ae"
        raise SchemaError(msg)
    _attr(h5file, "metadata", schema, where)


def _dataset(h5file: h5py.File, spec: DatasetSpec, schema: FileSchema, where: str) -> h5py.Dataset:
    item = h5file.get(spec.name)
    if not isinstance(item, h5py.Dataset):
        msg = f"{where} has no dataset {spec.name!r} ({schema.expected()})"
        raise SchemaError(msg)
    if item.ndim != spec.ndim or item.shape[1:] != spec.shape:
        wanted = "1-D" if spec.ndim == 1 else f"of shape (n, {', '.join(map(str, spec.shape))})"
        msg = f"{where}: dataset {spec.name!r} must be {wanted}, got shape {item.shape}"
        raise SchemaError(msg)
    if not np.can_cast(item.dtype, spec.numpy_dtype, casting="safe"):
        msg = f"{where}: dataset {spec.name!r} has dtype {item.dtype}, expected {spec.numpy_dtype}"
        raise SchemaError(msg)
    return item


def check_file(
    h5file: h5py.File, schema: FileSchema, path: str | os.PathLike[str]
) -> dict[str, int]:
    """Check an open HDF5 file against ``schema``; return the length of every group.

    Only attributes, shapes and the first and last entry of each offsets dataset are read,
    never the data.

    Parameters
    ----------
    h5file
        The open file.
    schema
        What it must hold.
    path
        The file's name as the user gave it, for messages.

    Raises
    ------
    SchemaError
        On a missing or wrong ``schema`` attribute, a ``schema_version`` that is not an
        integer or is newer than ``schema.version``, no ``metadata`` attribute, a missing
        group or dataset, a dataset of the wrong dimensions or dtype, lengths that disagree
        within a group, or offsets that do not run from 0 to the length they index.  The
        message names the file, the field and what was expected.
    """
    where = describe(schema, path)
    _check_header(h5file, schema, where)
    for group in dict.fromkeys(spec.name.rpartition("/")[0] for spec in schema.datasets):
        if group and not isinstance(h5file.get(group), h5py.Group):
            msg = f"{where} has no group {group + '/'!r} ({schema.expected()})"
            raise SchemaError(msg)
    items = {spec.name: _dataset(h5file, spec, schema, where) for spec in schema.datasets}
    lengths = {g: int(items[schema.reference(g).name].shape[0]) for g in schema.groups()}
    for spec in schema.datasets:
        got, expected = int(items[spec.name].shape[0]), lengths[spec.length]
        what = f"length of {schema.reference(spec.length).name}"
        if spec.offsets_into is not None:
            expected, what = expected + 1, f"{what} + 1"
        if got != expected:
            msg = f"{where}: field {spec.name!r} has length {got}, expected {expected} ({what})"
            raise SchemaError(msg)
    for spec in schema.datasets:
        if spec.offsets_into is None:
            continue
        offsets, end = items[spec.name], lengths[spec.offsets_into]
        first, last = int(offsets[0]), int(offsets[-1])
        if first != 0 or last != end:
            msg = f"{where}: dataset {spec.name!r} must run from 0 to the length of {spec.offsets_into}/ ({end}), got {first}..{last}"
            raise SchemaError(msg)
    return lengths


@contextmanager
def open_checked(
    path: str | os.PathLike[str], schema: FileSchema
) -> Iterator[tuple[h5py.File, dict[str, int]]]:
    """Open ``path`` for reading, check it (:func:`check_file`), yield ``(file, lengths)``.

    HDF5 read errors inside the block (a truncated or corrupt file) become :class:`DataError`.

    Raises
    ------
    DataError
        If the file does not exist, is not HDF5, or cannot be read (truncated, corrupt).
    SchemaError
        See :func:`check_file`.
    """
    where = describe(schema, path)
    try:
        h5file = h5py.File(path, "r")
    except FileNotFoundError as exc:
        msg = f"{where} does not exist"
        raise DataError(msg) from exc
    except OSError as exc:
        msg = f"{where} is not a readable HDF5 file ({_oneline(exc)}); it may be truncated or of another format — write it again"
        raise DataError(msg) from exc
    with h5file:
        try:
            yield h5file, check_file(h5file, schema, path)
        except (OSError, KeyError, RuntimeError) as exc:
            msg = f"{where} is not a readable HDF5 file ({_oneline(exc)}); it may be truncated or corrupt — write it again"
            raise DataError(msg) from exc


def read_metadata_attr(
    h5file: h5py.File, schema: FileSchema, path: str | os.PathLike[str]
) -> dict[str, Any]:
    """The ``metadata`` attribute as a dict.

    Raises
    ------
    SchemaError
        If it is missing, not JSON or not a JSON object.
    """
    where = describe(schema, path)
    text = _attr(h5file, "metadata", schema, where)
    try:
        value = json.loads(text)
    except (TypeError, ValueError) as exc:
        msg = f"{where}: attribute 'metadata' is not a JSON object ({exc})"
        raise SchemaError(msg) from exc
    if not isinstance(value, dict):
        msg = f"{where}: attribute 'metadata' must be a JSON object, got {type(value).__name__}"
        raise SchemaError(msg)
    return value
