"""Events HDF5 file: round trips, streaming, slices, atomicity and schema errors."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from dataclasses import fields, replace
from pathlib import Path

import h5py
import numpy as np
import pytest

import hgcal_ae
from hgcal_ae.datasets.event_batch import EventBatch
from hgcal_ae.datasets.events import (
    EventWriter,
    count_events,
    iter_events,
    read_events,
    read_metadata,
    write_events,
)
from hgcal_ae.errors import ConfigError, DataError, SchemaError

METADATA = {"source": "test", "seed": 7, "geometry": {"layers": 28}, "energies_gev": [20.0, 50.0]}


def assert_batches_equal(got: EventBatch, expected: EventBatch) -> None:
    for field in fields(EventBatch):
        a, b = getattr(got, field.name), getattr(expected, field.name)
        assert a.dtype == b.dtype, field.name
        np.testing.assert_array_equal(a, b, err_msg=field.name)


def test_round_trip(
    tmp_path: Path, rng: np.random.Generator, random_batch: Callable[..., EventBatch]
) -> None:
    batch = random_batch(rng, n_events=300)
    path = write_events(tmp_path / "events.h5", batch, METADATA)
    got, metadata = read_events(path)
    assert_batches_equal(got, batch)
    assert metadata == METADATA
    assert read_metadata(path) == METADATA
    assert count_events(path) == 300
    with h5py.File(path, "r") as h5:
        assert h5.attrs["schema"] == "hgcal-ae/events"
        assert h5.attrs["schema_version"] == 1
        assert h5.attrs["hgcal_ae_version"] == hgcal_ae.__version__
        assert h5["hits/energy_mip"].maxshape == (None,)
        assert h5["hits/energy_mip"].compression == "gzip"
        assert h5["events/hit_offsets"].shape == (301,)


def test_streamed_appends_equal_one_write(
    tmp_path: Path, rng: np.random.Generator, random_batch: Callable[..., EventBatch]
) -> None:
    batches = [
        random_batch(rng, n_events=n, first_id=100 * i) for i, n in enumerate([40, 0, 1, 77, 13])
    ]
    with EventWriter(tmp_path / "streamed.h5", METADATA) as writer:
        for batch in batches:
            writer.append(batch)
        assert writer.n_events == 131
    whole = EventBatch.concatenate(batches)
    assert writer.n_hits == whole.n_hits
    write_events(tmp_path / "whole.h5", whole, METADATA)
    streamed, _ = read_events(tmp_path / "streamed.h5")
    assert_batches_equal(streamed, whole)
    assert_batches_equal(read_events(tmp_path / "whole.h5")[0], whole)


def test_read_slice_equals_select(
    tmp_path: Path, rng: np.random.Generator, random_batch: Callable[..., EventBatch]
) -> None:
    batch = random_batch(rng, n_events=120)
    path = write_events(tmp_path / "events.h5", batch, METADATA)
    for start, stop in [(0, 10), (37, 95), (100, None), (5, 5), (-20, None)]:
        got, _ = read_events(path, start, stop)
        assert_batches_equal(got, batch.select(np.arange(120)[start:stop]))


def test_iter_events_concatenate_to_whole(
    tmp_path: Path, rng: np.random.Generator, random_batch: Callable[..., EventBatch]
) -> None:
    batch = random_batch(rng, n_events=250)
    path = write_events(tmp_path / "events.h5", batch, METADATA)
    chunks = list(iter_events(path, chunk_events=64))
    assert [c.n_events for c in chunks] == [64, 64, 64, 58]
    assert_batches_equal(EventBatch.concatenate(chunks), batch)
    with pytest.raises(ConfigError, match="chunk_events"):
        next(iter_events(path, chunk_events=0))


def test_exception_inside_writer_leaves_nothing(
    tmp_path: Path, rng: np.random.Generator, random_batch: Callable[..., EventBatch]
) -> None:
    path = tmp_path / "events.h5"
    with pytest.raises(RuntimeError, match="boom"), EventWriter(path, METADATA) as writer:
        writer.append(random_batch(rng))
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_invalid_batch_is_refused_by_writer(
    tmp_path: Path, rng: np.random.Generator, random_batch: Callable[..., EventBatch]
) -> None:
    batch = random_batch(rng)
    bad = EventBatch(
        **{f.name: getattr(batch, f.name) for f in fields(batch)} | {"layer": batch.layer[:-1]}
    )
    with (
        pytest.raises(SchemaError, match="'layer' has length"),
        EventWriter(tmp_path / "e.h5", METADATA) as writer,
    ):
        writer.append(bad)
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def events_file(
    tmp_path: Path, rng: np.random.Generator, random_batch: Callable[..., EventBatch]
) -> Path:
    return write_events(tmp_path / "x.h5", random_batch(rng, n_events=40), METADATA)


def test_missing_dataset_is_named(events_file: Path) -> None:
    with h5py.File(events_file, "a") as h5:
        del h5["hits/energy_mip"]
    with pytest.raises(
        SchemaError,
        match=r"'.*x\.h5' has no dataset 'hits/energy_mip' \(expected schema hgcal-ae/events v1\)",
    ):
        read_events(events_file)


def test_wrong_schema_attr(events_file: Path) -> None:
    with h5py.File(events_file, "a") as h5:
        h5.attrs["schema"] = "hgcal-ae/trigger-cells"
    with pytest.raises(
        SchemaError, match=r"x\.h5.*has schema 'hgcal-ae/trigger-cells', expected 'hgcal-ae/events'"
    ):
        count_events(events_file)


def test_newer_schema_version(events_file: Path) -> None:
    with h5py.File(events_file, "a") as h5:
        h5.attrs["schema_version"] = 2
    with pytest.raises(SchemaError, match=r"x\.h5.*schema version 2, newer"):
        read_metadata(events_file)


def test_inconsistent_lengths_named(events_file: Path) -> None:
    with h5py.File(events_file, "a") as h5:
        h5["hits/z_cm"].resize((h5["hits/z_cm"].shape[0] - 1,))
    with pytest.raises(SchemaError, match=r"x\.h5.*'hits/z_cm' has length \d+, expected \d+"):
        read_events(events_file)


def test_truncated_file_is_data_error(events_file: Path) -> None:
    raw = events_file.read_bytes()
    events_file.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataError, match=r"x\.h5.*is not a readable HDF5 file"):
        read_events(events_file)


def test_not_hdf5_is_data_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.h5"
    path.write_text("these are not showers\n")
    with pytest.raises(DataError, match=r"notes\.h5.*is not a readable HDF5 file"):
        read_events(path)
    with pytest.raises(DataError, match="does not exist"):
        read_events(tmp_path / "missing.h5")


def test_streaming_memory_is_flat(
    tmp_path: Path, rng: np.random.Generator, random_batch: Callable[..., EventBatch]
) -> None:
    template = random_batch(rng, n_events=1000, mean_hits=2.0)

    def peak_of(n_batches: int, name: str) -> int:
        with EventWriter(tmp_path / name, {"n": n_batches}) as writer:
            tracemalloc.start()
            try:
                for _ in range(n_batches):
                    # a fresh batch each time, so that a writer keeping references would grow
                    writer.append(replace(template, energy_mip=template.energy_mip.copy()))
                return tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()

    small = peak_of(20, "small.h5")
    large = peak_of(200, "large.h5")
    assert large < 3 * small
    assert count_events(tmp_path / "large.h5") == 200_000


@pytest.mark.parametrize("keep", [0.05, 0.5, 0.95])
def test_truncated_large_file_is_data_error_for_every_reader(
    tmp_path: Path, rng: np.random.Generator, random_batch: Callable[..., EventBatch], keep: float
) -> None:
    """A file of many chunks cut short (a copy that stopped): every reader names the file."""
    path = tmp_path / "events.h5"
    writer_batches = [random_batch(rng, n_events=5000, mean_hits=20.0) for _ in range(3)]
    with EventWriter(path, METADATA) as writer:
        for batch in writer_batches:
            writer.append(batch)
    raw = path.read_bytes()
    path.write_bytes(raw[: int(len(raw) * keep)])
    readers = {
        "count_events": lambda: count_events(path),
        "read_metadata": lambda: read_metadata(path),
        "read_events": lambda: read_events(path),
        "iter_events": lambda: list(iter_events(path, chunk_events=4000)),
    }
    for name, read in readers.items():
        with pytest.raises(
            DataError, match=r"events file '.*events\.h5' is not a readable HDF5 file"
        ) as err:
            read()
        assert "\n" not in str(err.value), name
