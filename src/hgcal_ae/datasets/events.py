"""Shower events (simulated or beam-test) in memory and in HDF5.

In memory an :class:`EventBatch` is a structure of arrays: one entry per event, one entry
per hit, and CSR offsets (``hit_offsets``) saying which hits belong to which event.

On disk, **schema version 1** of ``hgcal-ae/events`` is one HDF5 file laid out as::

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
:mod:`hgcal_ae.datasets.hdf5`, also the home of the disk-full handling: a full disk gives
:class:`~hgcal_ae.errors.OutputError` naming the file, and nothing is left behind).

Public API::

    EventBatch(...), EventBatch.from_counts(n_hits_per_event, ...), EventBatch.concatenate(batches)
    EventWriter(path, metadata) -> context manager with .append(batch)
    write_events(path, batch, metadata) -> Path
    read_events(path, start=0, stop=None) -> (EventBatch, metadata)
    iter_events(path, chunk_events=10000) -> Iterator[EventBatch]
    read_metadata(path) -> dict;  count_events(path) -> int;  check_schema(h5file, path) -> int
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import h5py
import numpy as np
import numpy.typing as npt
from numpy.typing import NDArray

from hgcal_ae.datasets.hdf5 import (
    DatasetSpec,
    FileSchema,
    append,
    check_file,
    create_datasets,
    hdf5_output,
    open_checked,
    read_metadata_attr,
    write_metadata,
)
from hgcal_ae.errors import ConfigError, SchemaError

__all__ = [
    "EVENTS_SCHEMA",
    "EVENT_FIELDS",
    "HIT_FIELDS",
    "SCHEMA",
    "SCHEMA_VERSION",
    "EventBatch",
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

#: Per-event datasets (group ``events/``) and their dtypes; ``hit_offsets`` is kept apart.
EVENT_FIELDS: dict[str, np.dtype[Any]] = {
    "event_id": np.dtype(np.int64),
    "pdg": np.dtype(np.int32),
    "true_energy_gev": np.dtype(np.float64),
    "true_x_cm": np.dtype(np.float64),
    "true_y_cm": np.dtype(np.float64),
    "angle_x_rad": np.dtype(np.float64),
    "angle_y_rad": np.dtype(np.float64),
}
#: Per-hit datasets (group ``hits/``) and their dtypes.
HIT_FIELDS: dict[str, np.dtype[Any]] = {
    "layer": np.dtype(np.int16),
    "cell": np.dtype(np.int64),
    "x_cm": np.dtype(np.float32),
    "y_cm": np.dtype(np.float32),
    "z_cm": np.dtype(np.float32),
    "energy_mip": np.dtype(np.float32),
}
_OFFSETS_DTYPE = np.dtype(np.int64)
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
            "events/hit_offsets", _OFFSETS_DTYPE, "events", offsets_into="hits", chunk=_EVENT_CHUNK
        ),
        DatasetSpec("hits/energy_mip", HIT_FIELDS["energy_mip"], "hits", chunk=_HIT_CHUNK),
        *(
            DatasetSpec(f"hits/{n}", dt, "hits", chunk=_HIT_CHUNK)
            for n, dt in HIT_FIELDS.items()
            if n != "energy_mip"
        ),
    ),
)


@dataclass(frozen=True)
class EventBatch:
    """A batch of showers: per-event arrays, per-hit arrays and CSR hit offsets.

    Fields are coerced to the dtypes of :data:`EVENT_FIELDS` / :data:`HIT_FIELDS` on
    construction; lengths are checked by :meth:`validate` (called by the writer).
    """

    event_id: NDArray[np.int64]
    pdg: NDArray[np.int32]
    true_energy_gev: NDArray[np.float64]
    true_x_cm: NDArray[np.float64]
    true_y_cm: NDArray[np.float64]
    angle_x_rad: NDArray[np.float64]
    angle_y_rad: NDArray[np.float64]
    hit_offsets: NDArray[np.int64]
    layer: NDArray[np.int16]
    cell: NDArray[np.int64]
    x_cm: NDArray[np.float32]
    y_cm: NDArray[np.float32]
    z_cm: NDArray[np.float32]
    energy_mip: NDArray[np.float32]

    def __post_init__(self) -> None:
        for name, dtype in (
            *EVENT_FIELDS.items(),
            ("hit_offsets", _OFFSETS_DTYPE),
            *HIT_FIELDS.items(),
        ):
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=dtype))

    # -- sizes ---------------------------------------------------------------------------
    @property
    def n_events(self) -> int:
        """Number of events."""
        return int(self.event_id.shape[0]) if self.event_id.ndim else 0

    @property
    def n_hits(self) -> int:
        """Number of hits of all events together."""
        return int(self.energy_mip.shape[0]) if self.energy_mip.ndim else 0

    def hits_per_event(self) -> NDArray[np.int64]:
        """Number of hits of each event, shape ``(n_events,)``."""
        return np.diff(self.hit_offsets)

    def event_index_of_hits(self) -> NDArray[np.int64]:
        """Index (0-based, within this batch) of the event of each hit, shape ``(n_hits,)``."""
        return np.repeat(np.arange(self.n_events, dtype=np.int64), self.hits_per_event())

    # -- checks --------------------------------------------------------------------------
    def validate(self, where: str = "event batch") -> Self:
        """Check shapes and offsets; return ``self`` so that calls chain.

        Parameters
        ----------
        where
            What to call the batch in messages (e.g. ``"events file 'x.h5'"``).

        Raises
        ------
        SchemaError
            Naming the field and what was expected vs got: a field that is not 1-D, a
            per-event or per-hit field of the wrong length, offsets of the wrong length,
            not starting at 0, not ending at ``n_hits`` or decreasing.
        """
        for name in (*EVENT_FIELDS, "hit_offsets", *HIT_FIELDS):
            if getattr(self, name).ndim != 1:
                msg = f"{where}: field {name!r} must be 1-D, got shape {getattr(self, name).shape}"
                raise SchemaError(msg)
        n_events, n_hits = self.n_events, self.n_hits
        for name in EVENT_FIELDS:
            _check_length(where, name, getattr(self, name).shape[0], n_events, "n_events")
        for name in HIT_FIELDS:
            _check_length(where, name, getattr(self, name).shape[0], n_hits, "n_hits")
        offsets = self.hit_offsets
        _check_length(where, "hit_offsets", offsets.shape[0], n_events + 1, "n_events + 1")
        if offsets[0] != 0:
            msg = f"{where}: field 'hit_offsets' must start at 0, got {int(offsets[0])}"
            raise SchemaError(msg)
        if offsets[-1] != n_hits:
            msg = f"{where}: field 'hit_offsets' must end at n_hits = {n_hits}, got {int(offsets[-1])}"
            raise SchemaError(msg)
        steps = np.diff(offsets)
        if steps.size and steps.min() < 0:
            bad = int(np.argmax(steps < 0))
            msg = f"{where}: field 'hit_offsets' must be non-decreasing, got {int(offsets[bad])} then {int(offsets[bad + 1])} at event {bad}"
            raise SchemaError(msg)
        return self

    # -- construction --------------------------------------------------------------------
    @classmethod
    def from_counts(
        cls,
        n_hits_per_event: npt.ArrayLike,
        *,
        event_id: npt.ArrayLike,
        true_energy_gev: npt.ArrayLike,
        layer: npt.ArrayLike,
        x_cm: npt.ArrayLike,
        y_cm: npt.ArrayLike,
        z_cm: npt.ArrayLike,
        energy_mip: npt.ArrayLike,
        pdg: npt.ArrayLike | None = None,
        true_x_cm: npt.ArrayLike | None = None,
        true_y_cm: npt.ArrayLike | None = None,
        angle_x_rad: npt.ArrayLike | None = None,
        angle_y_rad: npt.ArrayLike | None = None,
        cell: npt.ArrayLike | None = None,
    ) -> EventBatch:
        """Build a batch from the number of hits of each event instead of offsets.

        Unknown fields may be left out: ``pdg`` becomes 0, true position and angles NaN,
        ``cell`` -1.

        Raises
        ------
        SchemaError
            If a count is negative or the arrays do not fit the counts.
        """
        counts = np.asarray(n_hits_per_event, dtype=np.int64)
        if counts.ndim != 1 or (counts.size and counts.min() < 0):
            msg = f"n_hits_per_event must be a 1-D array of non-negative counts, got shape {counts.shape}"
            raise SchemaError(msg)
        n_events = counts.shape[0]
        n_hits = np.asarray(energy_mip).shape[0] if np.ndim(energy_mip) else 0
        offsets = np.zeros(n_events + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])

        def _or(value: npt.ArrayLike | None, fill: float, size: int) -> npt.ArrayLike:
            return np.full(size, fill) if value is None else value

        batch = cls(
            event_id=event_id,
            pdg=_or(pdg, 0, n_events),
            true_energy_gev=true_energy_gev,
            true_x_cm=_or(true_x_cm, np.nan, n_events),
            true_y_cm=_or(true_y_cm, np.nan, n_events),
            angle_x_rad=_or(angle_x_rad, np.nan, n_events),
            angle_y_rad=_or(angle_y_rad, np.nan, n_events),
            hit_offsets=offsets,
            layer=layer,
            cell=_or(cell, -1, n_hits),
            x_cm=x_cm,
            y_cm=y_cm,
            z_cm=z_cm,
            energy_mip=energy_mip,
        )
        return batch.validate("EventBatch.from_counts")

    @classmethod
    def empty(cls) -> EventBatch:
        """A batch of zero events."""
        return cls.from_counts(
            np.zeros(0, np.int64),
            event_id=[],
            true_energy_gev=[],
            layer=[],
            x_cm=[],
            y_cm=[],
            z_cm=[],
            energy_mip=[],
        )

    @classmethod
    def concatenate(cls, batches: Sequence[EventBatch]) -> EventBatch:
        """Join batches event-wise (hit offsets are shifted); an empty sequence gives an empty batch."""
        if not batches:
            return cls.empty()
        counts = np.concatenate([b.hits_per_event() for b in batches])
        offsets = np.zeros(counts.shape[0] + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        columns = {
            name: np.concatenate([getattr(b, name) for b in batches])
            for name in (*EVENT_FIELDS, *HIT_FIELDS)
        }
        return cls(hit_offsets=offsets, **columns)

    def select(self, events: npt.ArrayLike) -> EventBatch:
        """Return a new batch of the chosen events (and only their hits).

        Parameters
        ----------
        events
            A boolean mask of shape ``(n_events,)`` or integer indices (any order, repeats
            and negative indices allowed).

        Raises
        ------
        ConfigError
            If the mask has the wrong length or an index is out of range.
        """
        choice = np.asarray(events)
        counts = self.hits_per_event()
        if choice.dtype == np.bool_:
            if choice.shape != (self.n_events,):
                msg = f"event mask must have shape ({self.n_events},), got {choice.shape}"
                raise ConfigError(msg)
            hit_choice: NDArray[Any] = np.repeat(choice, counts)
            event_choice: NDArray[Any] = choice
            new_counts = counts[choice]
        else:
            if choice.size == 0:
                choice = choice.astype(np.int64)
            if choice.ndim != 1 or not np.issubdtype(choice.dtype, np.integer):
                msg = f"events must be a boolean mask or 1-D integer indices, got dtype {choice.dtype} and shape {choice.shape}"
                raise ConfigError(msg)
            if choice.size and (choice.min() < -self.n_events or choice.max() >= self.n_events):
                msg = f"event index out of range: expected -{self.n_events} <= index < {self.n_events}, got {int(choice.min())}..{int(choice.max())}"
                raise ConfigError(msg)
            event_choice = np.where(choice < 0, choice + self.n_events, choice).astype(np.int64)
            new_counts = counts[event_choice]
            # Hit j of the k-th chosen event sits at offsets[event] + j: gather, in the chosen order.
            starts = np.cumsum(new_counts) - new_counts
            hit_choice = np.repeat(self.hit_offsets[event_choice] - starts, new_counts) + np.arange(
                int(new_counts.sum()), dtype=np.int64
            )
        offsets = np.zeros(new_counts.shape[0] + 1, dtype=np.int64)
        np.cumsum(new_counts, out=offsets[1:])
        columns = {name: getattr(self, name)[event_choice] for name in EVENT_FIELDS}
        columns |= {name: getattr(self, name)[hit_choice] for name in HIT_FIELDS}
        return type(self)(hit_offsets=offsets, **columns)

    def equals(self, other: EventBatch) -> bool:
        """True if every field has the same dtype and values (NaN equal to NaN)."""
        return all(
            getattr(self, f.name).dtype == getattr(other, f.name).dtype
            and np.array_equal(getattr(self, f.name), getattr(other, f.name), equal_nan=True)
            for f in fields(self)
        )


def _check_length(where: str, name: str, got: int, expected: int, what: str) -> None:
    if got != expected:
        msg = f"{where}: field {name!r} has length {got}, expected {expected} ({what})"
        raise SchemaError(msg)


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
