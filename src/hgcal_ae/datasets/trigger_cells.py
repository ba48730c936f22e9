"""The trigger-cell file: module rows of many events in HDF5, streamed and read back checked.

Public API::

    TriggerCellWriter(path, metadata)   # context manager: .append(rows), .update_metadata(extra)
    read_trigger_cells(path, start=None, stop=None) -> (ModuleRows, metadata)
    SCHEMA, SCHEMA_VERSION

On disk, **schema version 1** of ``hgcal-ae/trigger-cells`` (chunked, gzip, resizable)::

    /  attrs: schema, schema_version = 1, hgcal_ae_version, metadata = "<JSON>"
    /modules/event   int64   (M,)      global event index; rows sorted by event, layer, module
    /modules/layer   int16   (M,)      CE-E layer 1..28
    /modules/module  int16   (M,)      wafer index within the layer (0 = central)
    /modules/tc      float32 (M, 48)   TC charges [MIP], chunks (4096, 48)
    /events/event_id (int64), pdg (int32), true_energy_gev, true_x_cm, true_y_cm,
            angle_x_rad, angle_y_rad, cell_energy_gev_total (float64)   (n_events,)
    /events/module_offsets  int64  (n_events + 1,)   rows of event i: [offsets[i], offsets[i+1])

The per-event fields are those of :data:`~hgcal_ae.datasets.module_rows.EVENT_TRUTH`.
The format is described once (:data:`TRIGGER_CELLS`) for the package's one HDF5 schema checker
and streaming writer (:mod:`~hgcal_ae.datasets.hdf5`, :mod:`~hgcal_ae.datasets.hdf5_writer`): files are written into a temporary file
renamed on success (nothing is left at ``path`` on any error, a full disk included) and read
with every dataset's shape checked first, the message naming the field.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType
from typing import Any

import h5py
import numpy as np
import numpy.typing as npt

from hgcal_ae.datasets.hdf5 import DatasetSpec, FileSchema, open_checked, read_metadata_attr
from hgcal_ae.datasets.hdf5_writer import append, create_datasets, hdf5_output, write_metadata
from hgcal_ae.datasets.module_rows import EVENT_TRUTH, ModuleRows
from hgcal_ae.detector.trigger_cells import N_TRIGGER_CELLS
from hgcal_ae.errors import ConfigError, DataError, SchemaError

__all__ = ["SCHEMA", "SCHEMA_VERSION", "TRIGGER_CELLS", "TriggerCellWriter", "read_trigger_cells"]

SCHEMA = "hgcal-ae/trigger-cells"
SCHEMA_VERSION = 1
_MODULES = {"event": np.int64, "layer": np.int16, "module": np.int16}
#: The trigger-cell file format (see the module docstring).
TRIGGER_CELLS = FileSchema(
    name=SCHEMA,
    version=SCHEMA_VERSION,
    what="trigger-cell file",
    datasets=(
        *(DatasetSpec(f"modules/{name}", dtype, "modules") for name, dtype in _MODULES.items()),
        DatasetSpec("modules/tc", np.float32, "modules", shape=(N_TRIGGER_CELLS,)),
        *(
            DatasetSpec(f"events/{name}", dtype, "events")
            for name, (dtype, _) in EVENT_TRUTH.items()
        ),
        DatasetSpec("events/module_offsets", np.int64, "events", offsets_into="modules"),
    ),
)


class TriggerCellWriter(AbstractContextManager["TriggerCellWriter"]):
    """Stream :class:`ModuleRows` batches into a schema-v1 trigger-cell file, atomically.

    Each batch's ``event`` indexes its own per-event arrays; the writer shifts it by the
    events already written.  Leaving the ``with`` block normally renames the file to ``path``;
    an exception (or a full disk) leaves nothing there.
    """

    def __init__(self, path: str | os.PathLike[str], metadata: Mapping[str, Any]) -> None:
        self.path = Path(path)
        self._metadata = dict(metadata)
        self._output = hdf5_output(self.path, TRIGGER_CELLS, self._metadata)
        self.n_events = 0
        self.n_rows = 0

    def __enter__(self) -> TriggerCellWriter:
        self._file = self._output.__enter__()
        try:
            self._datasets = create_datasets(self._file, TRIGGER_CELLS)
        except BaseException as exc:
            self._output.__exit__(type(exc), exc, exc.__traceback__)
            raise
        return self

    def append(self, rows: ModuleRows) -> None:
        """Append the rows and events of one batch (rows sorted by event)."""
        if rows.n_tc != N_TRIGGER_CELLS:
            msg = f"trigger-cell file {str(self.path)!r} holds {N_TRIGGER_CELLS} TCs per row, got rows of {rows.n_tc}"
            raise ConfigError(msg)
        offsets = rows.event_offsets()
        d = self._datasets
        for name in EVENT_TRUTH:
            append(d[f"events/{name}"], getattr(rows, name))
        append(d["modules/event"], rows.event + self.n_events)
        for name in ("layer", "module", "tc"):
            append(d[f"modules/{name}"], getattr(rows, name))
        append(d["events/module_offsets"], offsets[1:] + self.n_rows)
        self.n_events += rows.n_events
        self.n_rows += rows.n_rows

    def update_metadata(self, extra: Mapping[str, Any]) -> None:
        """Merge ``extra`` into the metadata written at the end."""
        self._metadata |= dict(extra)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self._metadata |= {"n_events": self.n_events, "n_rows": self.n_rows}
            try:
                write_metadata(self._file, self._metadata)
            except BaseException as error:
                self._output.__exit__(type(error), error, error.__traceback__)
                raise
        self._output.__exit__(exc_type, exc, tb)


def read_trigger_cells(
    path: str | os.PathLike[str], start: int | None = None, stop: int | None = None
) -> tuple[ModuleRows, dict[str, Any]]:
    """Read events ``start:stop`` (slice rules), their module rows, and the metadata dict.

    The rows' ``event`` is rebased to the events read (0 for the first).

    Raises
    ------
    DataError
        If the file is missing, not HDF5, truncated or corrupt, or holds NaN charges.
    SchemaError
        If an attribute or dataset is missing or has the wrong shape (named in the message).
    """
    where = f"trigger-cell file {str(path)!r}"
    with open_checked(path, TRIGGER_CELLS) as (h5, lengths):
        first, last, _ = slice(start, stop).indices(lengths["events"])
        last = max(first, last)
        offsets = _offsets(h5, first, last, where)
        r0, r1 = int(offsets[0]), int(offsets[-1])
        per_event = {name: h5[f"events/{name}"][first:last] for name in EVENT_TRUTH}
        per_row = {name: h5[f"modules/{name}"][r0:r1] for name in (*_MODULES, "tc")}
        metadata = read_metadata_attr(h5, TRIGGER_CELLS, path)
    per_row["event"] = per_row["event"] - first
    try:
        rows = ModuleRows(**per_row, **per_event)
    except (ConfigError, DataError) as exc:
        raise DataError(f"{where}: {exc}") from exc
    return rows, metadata


def _offsets(h5: h5py.File, first: int, last: int, where: str) -> npt.NDArray[np.int64]:
    offsets: npt.NDArray[np.int64] = h5["events/module_offsets"][first : last + 1]  # schema: int64
    if np.any(np.diff(offsets) < 0):
        msg = f"{where}: dataset 'events/module_offsets' must not decrease"
        raise SchemaError(msg)
    return offsets
