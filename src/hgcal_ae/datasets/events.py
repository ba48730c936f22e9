"""Shower events in HDF5: the events file, its streaming writer and its readers.

The events themselves are :class:`~hgcal_ae.datasets.event_batch.EventBatch` es.  On disk,
**schema version 1** of ``hgcal-ae/events`` is one HDF5 file laid out as::

    /                      attrs: schema = "hgcal-ae/events", schema_version = 1,
                                  hgcal_ae_version = "x.y.z", metadata = "<JSON object>"
    /events/event_id       int64    (n_events,)
    /events/pdg            int32    (n_events,)   11 e-, -11 e+, 22 gamma, 0 unknown
    /events/true_energy_gev float64 (n_events,)   beam / true energy [GeV]
    /events/true_x_cm      float64  (n_events,)   impact point on the front face [cm], NaN if unknown
    /events/true_y_cm      float64  (n_events,)
    /events/angle_x_rad    float64  (n_events,)   incidence angles (atan of dx/dz, dy/dz), NaN if unknown
    /events/angle_y_rad    float64  (n_events,)
    /events/hit_offsets    int64    (n_events + 1,)  hits of event i are [offsets[i], offsets[i+1])
    /hits/layer            int16    (n_hits,)     1..28 in the CE-E
    /hits/cell             int64    (n_hits,)     module * cells_per_module + cell index, -1 if unknown
    /hits/x_cm, y_cm, z_cm float32  (n_hits,)     hit position [cm]
    /hits/energy_mip       float32  (n_hits,)     deposited energy [MIP]

Every dataset is 1-D, chunked (4096 entries per event chunk, 65536 per hit chunk),
gzip-compressed (level 4, with byte shuffle) and resizable, so that :class:`EventWriter`
streams batches without holding the file in memory.  ``metadata`` is the writer's dict
(geometry, parameters, seed, source files...) as JSON.  The layout is described once, as
:data:`EVENTS_SCHEMA`, which both the reader's check and the writer use (through
:mod:`hgcal_ae.datasets.hdf5` and :mod:`~hgcal_ae.datasets.hdf5_writer`, the home of the
disk-full handling: a full disk gives
:class:`~hgcal_ae.errors.OutputError` naming the file, and nothing is left behind).

Public API::

    EventWriter(path, metadata) -> context manager with .append(batch)
    write_events(path, batch, metadata) -> Path
    read_events(path, start=0, stop=None) -> (EventBatch, metadata)
    iter_events(path, chunk_events=10000) -> Iterator[EventBatch]
    read_metadata(path) -> dict;  count_events(path) -> int;  check_schema(h5file, path) -> int
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import h5py
import numpy as np

from hgcal_ae.datasets.event_batch import EVENT_FIELDS, HIT_FIELDS, OFFSETS_DTYPE, EventBatch
from hgcal_ae.datasets.hdf5 import (
    DatasetSpec,
    FileSchema,
    check_file,
    open_checked,
    read_metadata_attr,
)
from hgcal_ae.datasets.hdf5_writer import append, create_datasets, hdf5_output, write_metadata
from hgcal_ae.errors import ConfigError

__all__ = [
    "EVENTS_SCHEMA",
    "SCHEMA",
    "SCHEMA_VERSION",
    "EventWriter",
    "check_schema",
    "count_events",
    "iter_events",
    "read_events",
    "read_metadata",
    "write_events",
]

SCHEMA = "hgcal-ae/events"
SCHEMA_VERSION = 1
_EVENT_CHUNK = 4096
_HIT_CHUNK = 65536

#: The file layout, for :func:`~hgcal_ae.datasets.hdf5.check_file` and the writer.  The
#: number of hits is that of ``hits/energy_mip`` (as :attr:`EventBatch.n_hits`).
EVENTS_SCHEMA = FileSchema(
    name=SCHEMA,
    version=SCHEMA_VERSION,
    what="events file",
    datasets=(
        *(
            DatasetSpec(f"events/{n}", dt, "events", chunk=_EVENT_CHUNK)
            for n, dt in EVENT_FIELDS.items()
        ),
        DatasetSpec(
            "events/hit_offsets", OFFSETS_DTYPE, "events", offsets_into="hits", chunk=_EVENT_CHUNK
        ),
        DatasetSpec("hits/energy_mip", HIT_FIELDS["energy_mip"], "hits", chunk=_HIT_CHUNK),
        *(
            DatasetSpec(f"hits/{n}", dt, "hits", chunk=_HIT_CHUNK)
            for n, dt in HIT_FIELDS.items()
            if n != "energy_mip"
        ),
    ),
)


# -- writing -----------------------------------------------------------------------------
class EventWriter(AbstractContextManager["EventWriter"]):
    """Stream :class:`EventBatch` es into a schema-v1 events file, atomically.

    Data go to a temporary file beside ``path``; :meth:`close` (or leaving the ``with``
    block normally) renames it to ``path``.  An exception in the block, or :meth:`abort`,
    removes the temporary file and leaves nothing at ``path``.  Appending never reads back
    what was written, so memory stays flat however many batches are streamed.

    Parameters
    ----------
    path
        Destination ``.h5`` file (its folder is created if needed).
    metadata
        JSON-serialisable dict stored in the ``metadata`` attribute.

    Raises
    ------
    ConfigError
        If ``metadata`` cannot be written as JSON.
    OutputError
        If the folder cannot be written, or the disk fills up (from :meth:`append`, the
        end of the ``with`` block or :meth:`close`): ``"no space left on device writing
        '<path>'..."``; nothing is left at ``path``.
    """

    def __init__(self, path: str | os.PathLike[str], metadata: Mapping[str, Any]) -> None:
        self.path = Path(path)
        self._output = hdf5_output(self.path, EVENTS_SCHEMA, metadata)
        self._file = self._output.__enter__()  # checks metadata before creating anything
        self._metadata = dict(metadata)
        self._n_events = 0
        self._n_hits = 0
        try:
            self._datasets = create_datasets(self._file, EVENTS_SCHEMA)
        except BaseException as exc:
            self._output.__exit__(type(exc), exc, exc.__traceback__)
            raise
        self._open = True

    @property
    def n_events(self) -> int:
        """Events written so far."""
        return self._n_events

    @property
    def n_hits(self) -> int:
        """Hits written so far."""
        return self._n_hits

    def append(self, batch: EventBatch) -> None:
        """Append a batch (validated first); hit offsets are shifted by the hits already written."""
        self._require_open()
        batch.validate()
        if batch.n_events == 0:
            return
        datasets = self._datasets
        for name in EVENT_FIELDS:
            append(datasets[f"events/{name}"], getattr(batch, name))
        append(datasets["events/hit_offsets"], batch.hit_offsets[1:] + self._n_hits)
        if batch.n_hits:
            for name in HIT_FIELDS:
                append(datasets[f"hits/{name}"], getattr(batch, name))
        self._n_events += batch.n_events
        self._n_hits += batch.n_hits

    def update_metadata(self, extra: Mapping[str, Any]) -> None:
        """Merge ``extra`` into the stored metadata (e.g. counts known only at the end)."""
        self._require_open()
        merged = {**self._metadata, **extra}
        write_metadata(self._file, merged)
        self._metadata = merged

    def _require_open(self) -> None:
        if not self._open:
            msg = f"events file {str(self.path)!r} is already closed; open a new EventWriter"
            raise ConfigError(msg)

    def close(self) -> Path:
        """Finish the file and rename it to ``path``; return ``path``."""
        if self._open:
            self._open = False
            self._datasets = {}
            self._output.__exit__(None, None, None)
        return self.path

    def abort(self, exc: BaseException | None = None) -> None:
        """Discard everything written; nothing is left at ``path``.

        Raises
        ------
        OutputError
            If the writing failed because the disk is full (reported instead of ``exc``).
        """
        if self._open:
            self._open = False
            self._datasets = {}
            error = exc if exc is not None else RuntimeError("event writing aborted")
            self._output.__exit__(type(error), error, error.__traceback__)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.close()
        else:
            self.abort(exc)


def write_events(
    path: str | os.PathLike[str], batch: EventBatch, metadata: Mapping[str, Any]
) -> Path:
    """Write one batch to a new events file, atomically; return its path."""
    with EventWriter(path, metadata) as writer:
        writer.append(batch)
    return Path(path)


# -- reading -----------------------------------------------------------------------------
def _describe(path: str | os.PathLike[str]) -> str:
    return f"events file {str(path)!r}"


def check_schema(h5file: h5py.File, path: str | os.PathLike[str]) -> int:
    """Check that an open HDF5 file is a schema-v1 events file; return its number of events.

    Only attributes, shapes and the first/last offsets are read, never the data (see
    :func:`~hgcal_ae.datasets.hdf5.check_file` with :data:`EVENTS_SCHEMA`).

    Raises
    ------
    SchemaError
        On a wrong ``schema`` attribute, a newer ``schema_version``, a missing group or
        dataset, or inconsistent lengths; the message names the file and the field.
    """
    return check_file(h5file, EVENTS_SCHEMA, path)["events"]


@contextmanager
def _open_events(path: str | os.PathLike[str]) -> Iterator[tuple[h5py.File, int]]:
    """Open an events file for reading, check its schema, turn HDF5 I/O errors into DataError."""
    with open_checked(path, EVENTS_SCHEMA) as (h5file, lengths):
        yield h5file, lengths["events"]


def _metadata(h5file: h5py.File, path: str | os.PathLike[str]) -> dict[str, Any]:
    return read_metadata_attr(h5file, EVENTS_SCHEMA, path)


def _read_slice(
    h5file: h5py.File, path: str | os.PathLike[str], start: int, stop: int
) -> EventBatch:
    offsets = h5file["events/hit_offsets"][start : stop + 1]
    h0, h1 = int(offsets[0]), int(offsets[-1])
    columns = {name: h5file[f"events/{name}"][start:stop] for name in EVENT_FIELDS}
    columns |= {name: h5file[f"hits/{name}"][h0:h1] for name in HIT_FIELDS}
    batch = EventBatch(hit_offsets=offsets - h0, **columns)
    return batch.validate(f"{_describe(path)} (events {start}..{stop})")


def read_events(
    path: str | os.PathLike[str], start: int = 0, stop: int | None = None
) -> tuple[EventBatch, dict[str, Any]]:
    """Read events ``start:stop`` (Python slice rules) and only their hits.

    Returns
    -------
    batch, metadata
        The events and the file's metadata dict.

    Raises
    ------
    DataError
        If the file is missing, not HDF5 or truncated.
    SchemaError
        If it is not a schema-v1 events file (see :func:`check_schema`).
    """
    with _open_events(path) as (h5file, n_events):
        first, last, _ = slice(start, stop).indices(n_events)
        return _read_slice(h5file, path, first, max(first, last)), _metadata(h5file, path)


def iter_events(path: str | os.PathLike[str], chunk_events: int = 10000) -> Iterator[EventBatch]:
    """Yield the file's events in batches of at most ``chunk_events`` (memory stays flat)."""
    if (
        isinstance(chunk_events, bool)
        or not isinstance(chunk_events, int | np.integer)
        or chunk_events < 1
    ):
        msg = f"chunk_events must be a positive integer, got {chunk_events!r}"
        raise ConfigError(msg)
    with _open_events(path) as (h5file, n_events):
        for start in range(0, n_events, int(chunk_events)):
            yield _read_slice(h5file, path, start, min(start + int(chunk_events), n_events))


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The metadata dict of an events file."""
    with _open_events(path) as (h5file, _):
        return _metadata(h5file, path)


def count_events(path: str | os.PathLike[str]) -> int:
    """Number of events in an events file (reads no data)."""
    with _open_events(path) as (_, n_events):
        return n_events
