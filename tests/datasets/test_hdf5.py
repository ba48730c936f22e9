"""The one HDF5 schema checker, on files written like the trigger-cell file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest

from hgcal_ae.datasets.hdf5 import (
    DatasetSpec,
    FileSchema,
    check_file,
    open_checked,
    read_metadata_attr,
)
from hgcal_ae.datasets.hdf5_writer import append, create_datasets, hdf5_output, write_metadata
from hgcal_ae.errors import DataError, SchemaError

ROWS = FileSchema(
    name="hgcal-ae/test-rows",
    version=1,
    what="test file",
    datasets=(
        DatasetSpec("modules/event", np.int64, "modules"),
        DatasetSpec("modules/layer", np.int16, "modules"),
        DatasetSpec("modules/tc", np.float32, "modules", shape=(48,), chunk=512),
        DatasetSpec("events/event_id", np.int64, "events"),
        DatasetSpec("events/true_energy_gev", np.float64, "events"),
        DatasetSpec("events/module_offsets", np.int64, "events", offsets_into="modules"),
    ),
)


def _write(path: Path, rng: np.random.Generator, n_batches: int = 3) -> tuple[int, int]:
    """Stream ``n_batches`` batches of events and module rows; return (n_events, n_rows)."""
    n_events = n_rows = 0
    with hdf5_output(path, ROWS, {"seed": 1}) as h5:
        ds = create_datasets(h5, ROWS)
        for _ in range(n_batches):
            per_event = rng.integers(0, 6, 40)
            rows = int(per_event.sum())
            append(ds["modules/event"], np.repeat(np.arange(40), per_event) + n_events)
            append(ds["modules/layer"], rng.integers(1, 29, rows))
            append(ds["modules/tc"], rng.exponential(2, (rows, 48)))
            append(ds["events/event_id"], np.arange(n_events, n_events + 40))
            append(ds["events/true_energy_gev"], rng.uniform(10, 300, 40))
            append(ds["events/module_offsets"], n_rows + np.cumsum(per_event))
            n_events, n_rows = n_events + 40, n_rows + rows
        write_metadata(h5, {"seed": 1, "n_events": n_events})
    return n_events, n_rows


@pytest.fixture
def rows_file(tmp_path: Path, rng: np.random.Generator) -> tuple[Path, int, int]:
    path = tmp_path / "rows.h5"
    return (path, *_write(path, rng))


def test_written_file_checks_and_reads_back(rows_file: tuple[Path, int, int]) -> None:
    path, n_events, n_rows = rows_file
    with open_checked(path, ROWS) as (h5, lengths):
        assert lengths == {"modules": n_rows, "events": n_events}
        assert read_metadata_attr(h5, ROWS, path) == {"seed": 1, "n_events": n_events}
        assert h5.attrs["schema"] == ROWS.name and h5.attrs["schema_version"] == 1
        offsets = h5["events/module_offsets"][:]
        assert offsets[0] == 0 and offsets[-1] == n_rows and np.all(np.diff(offsets) >= 0)
        np.testing.assert_array_equal(
            np.repeat(np.arange(n_events), np.diff(offsets)), h5["modules/event"][:]
        )
        tc = h5["modules/tc"]
        assert tc.shape == (n_rows, 48) and tc.dtype == np.float32
        assert tc.compression == "gzip" and tc.maxshape == (None, 48) and tc.chunks == (512, 48)


def _lengths(path: Path) -> dict[str, int]:
    with open_checked(path, ROWS) as (_, lengths):
        return lengths


def _edit(path: Path, change: Callable[[h5py.File], None]) -> None:
    with h5py.File(path, "a") as h5:
        change(h5)


def _resize(name: str, by: int) -> Callable[[h5py.File], None]:
    return lambda h5: h5[name].resize(h5[name].shape[0] + by, axis=0)


def _replace(
    name: str, values: Callable[[h5py.Dataset], np.ndarray]
) -> Callable[[h5py.File], None]:
    def change(h5: h5py.File) -> None:
        data = values(h5[name])
        del h5[name]
        h5[name] = data

    return change


def _set_attr(name: str, value: object) -> Callable[[h5py.File], None]:
    return lambda h5: h5.attrs.__setitem__(name, value)


def _del(name: str) -> Callable[[h5py.File], None]:
    return lambda h5: h5.__delitem__(name)


def _shrink_modules(h5: h5py.File) -> None:
    """One module row fewer in every module column: the offsets now end past them."""
    for name in ("modules/event", "modules/layer", "modules/tc"):
        _resize(name, -1)(h5)


BROKEN = {
    "no-schema-attr": (
        lambda h5: h5.attrs.__delitem__("schema"),
        r"has no attribute 'schema' \(expected schema hgcal-ae/test-rows v1\)",
    ),
    "other-schema": (
        _set_attr("schema", "hgcal-ae/events"),
        r"has schema 'hgcal-ae/events', expected 'hgcal-ae/test-rows'",
    ),
    "newer-version": (
        _set_attr("schema_version", 3),
        r"has schema version 3, newer than this hgcal-ae .* reads \(up to 1\); upgrade hgcal-ae",
    ),
    "version-not-int": (
        _set_attr("schema_version", "one"),
        r"has schema version 'one', expected an integer 1\.\.1",
    ),
    "no-metadata": (lambda h5: h5.attrs.__delitem__("metadata"), r"has no attribute 'metadata'"),
    "no-group": (
        _del("events"),
        r"has no group 'events/' \(expected schema hgcal-ae/test-rows v1\)",
    ),
    "no-dataset": (_del("modules/layer"), r"has no dataset 'modules/layer' \(expected schema"),
    "wrong-dtype": (
        _replace("modules/layer", lambda d: d[:].astype(np.float64)),
        r"dataset 'modules/layer' has dtype float64, expected int16",
    ),
    "wrong-width": (
        _replace("modules/tc", lambda d: d[:, :47]),
        r"dataset 'modules/tc' must be of shape \(n, 48\), got shape \(\d+, 47\)",
    ),
    "not-1d": (
        _replace("events/event_id", lambda d: d[:][:, None]),
        r"dataset 'events/event_id' must be 1-D, got shape \(120, 1\)",
    ),
    "short-column": (
        _resize("modules/tc", -1),
        r"field 'modules/tc' has length \d+, expected \d+ \(length of modules/event\)",
    ),
    "short-event-column": (
        _resize("events/true_energy_gev", -1),
        r"field 'events/true_energy_gev' has length 119, expected 120 \(length of events/event_id\)",
    ),
    "offsets-length": (
        _resize("events/module_offsets", -1),
        r"field 'events/module_offsets' has length 120, expected 121 \(length of events/event_id \+ 1\)",
    ),
    "offsets-end": (
        _shrink_modules,
        r"dataset 'events/module_offsets' must run from 0 to the length of modules/ \(\d+\), got 0\.\.\d+",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_schema_errors_name_file_field_and_expectation(
    rows_file: tuple[Path, int, int], case: str
) -> None:
    path = rows_file[0]
    change, message = BROKEN[case]
    _edit(path, change)
    with pytest.raises(SchemaError, match=rf"^test file '.*rows\.h5'.*{message}"):
        _lengths(path)
    with h5py.File(path, "r") as h5, pytest.raises(SchemaError, match=message):
        check_file(h5, ROWS, path)


def test_older_dtype_that_casts_safely_is_accepted(rows_file: tuple[Path, int, int]) -> None:
    path, n_events, n_rows = rows_file
    _edit(path, _replace("modules/layer", lambda d: d[:].astype(np.int8)))
    assert _lengths(path) == {"modules": n_rows, "events": n_events}


def _read_all(path: Path) -> None:
    with open_checked(path, ROWS) as (h5, _):
        for spec in ROWS.datasets:
            h5[spec.name][:]


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9])
def test_truncated_file_is_a_data_error(rows_file: tuple[Path, int, int], keep: float) -> None:
    path = rows_file[0]
    raw = path.read_bytes()
    path.write_bytes(raw[: int(len(raw) * keep)])
    with pytest.raises(
        DataError, match=r"test file '.*rows\.h5' is not a readable HDF5 file"
    ) as err:
        _read_all(path)
    assert "\n" not in str(err.value)


def test_missing_and_foreign_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"test file '.*nothing\.h5' does not exist"):
        _lengths(tmp_path / "nothing.h5")
    (tmp_path / "notes.h5").write_text("not HDF5\n")
    with pytest.raises(DataError, match=r"notes\.h5' is not a readable HDF5 file"):
        _lengths(tmp_path / "notes.h5")
