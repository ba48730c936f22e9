"""Events HDF5 format: round trips, streaming, slices, atomicity and schema errors."""

from __future__ import annotations

import tracemalloc
from dataclasses import fields
from pathlib import Path

import h5py
import numpy as np
import pytest

import hgcal_ae
from hgcal_ae.datasets.events import (
    EVENT_FIELDS,
    HIT_FIELDS,
    EventBatch,
    EventWriter,
    count_events,
    iter_events,
    read_events,
    read_metadata,
    write_events,
)
from hgcal_ae.errors import ConfigError, DataError, SchemaError

METADATA = {"source": "test", "seed": 7, "geometry": {"layers": 28}, "energies_gev": [20.0, 50.0]}


def random_batch(
    rng: np.random.Generator, n_events: int = 50, mean_hits: float = 8.0, first_id: int = 0
) -> EventBatch:
    counts = rng.poisson(mean_hits, n_events)
    counts[: min(2, n_events)] = 0  # events without hits must survive too
    n_hits = int(counts.sum())
    return EventBatch.from_counts(
        counts,
        event_id=np.arange(first_id, first_id + n_events),
        pdg=rng.choice([11, -11, 22, 0], n_events),
        true_energy_gev=rng.uniform(10, 300, n_events),
        true_x_cm=rng.normal(0, 1, n_events),
        true_y_cm=np.where(rng.random(n_events) < 0.2, np.nan, rng.normal(0, 1, n_events)),
        angle_x_rad=rng.normal(0, 0.01, n_events),
        angle_y_rad=rng.normal(0, 0.01, n_events),
        layer=rng.integers(1, 29, n_hits),
        cell=rng.integers(-1, 10_000, n_hits),
        x_cm=rng.normal(0, 3, n_hits),
        y_cm=rng.normal(0, 3, n_hits),
        z_cm=rng.uniform(0, 30, n_hits),
        energy_mip=rng.exponential(5, n_hits),
    )


def assert_batches_equal(got: EventBatch, expected: EventBatch) -> None:
    for field in fields(EventBatch):
        a, b = getattr(got, field.name), getattr(expected, field.name)
        assert a.dtype == b.dtype, field.name
        np.testing.assert_array_equal(a, b, err_msg=field.name)


def test_batch_coerces_dtypes_and_helpers(rng: np.random.Generator) -> None:
    batch = random_batch(rng)
    for name, dtype in {**EVENT_FIELDS, **HIT_FIELDS, "hit_offsets": np.dtype(np.int64)}.items():
        assert getattr(batch, name).dtype == dtype, name
    assert batch.hits_per_event().sum() == batch.n_hits
    index = batch.event_index_of_hits()
    assert index.shape == (batch.n_hits,)
    np.testing.assert_array_equal(
        np.bincount(index, minlength=batch.n_events), batch.hits_per_event()
    )


def test_round_trip(tmp_path: Path, rng: np.random.Generator) -> None:
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


def test_streamed_appends_equal_one_write(tmp_path: Path, rng: np.random.Generator) -> None:
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


def test_read_slice_equals_select(tmp_path: Path, rng: np.random.Generator) -> None:
    batch = random_batch(rng, n_events=120)
    path = write_events(tmp_path / "events.h5", batch, METADATA)
    for start, stop in [(0, 10), (37, 95), (100, None), (5, 5), (-20, None)]:
        got, _ = read_events(path, start, stop)
        assert_batches_equal(got, batch.select(np.arange(120)[start:stop]))


def test_select_mask_and_indices_agree(rng: np.random.Generator) -> None:
    batch = random_batch(rng, n_events=60)
    mask = rng.random(60) < 0.4
    assert_batches_equal(batch.select(mask), batch.select(np.flatnonzero(mask)))
    reordered = batch.select([5, 2, 2, -1])
    np.testing.assert_array_equal(reordered.event_id, batch.event_id[[5, 2, 2, 59]])
    lo, hi = batch.hit_offsets[5], batch.hit_offsets[6]
    np.testing.assert_array_equal(reordered.energy_mip[: hi - lo], batch.energy_mip[lo:hi])
    reordered.validate()
    with pytest.raises(ConfigError, match="out of range"):
        batch.select([60])
    with pytest.raises(ConfigError, match="shape"):
        batch.select(np.ones(3, bool))


def test_iter_events_concatenate_to_whole(tmp_path: Path, rng: np.random.Generator) -> None:
    batch = random_batch(rng, n_events=250)
    path = write_events(tmp_path / "events.h5", batch, METADATA)
    chunks = list(iter_events(path, chunk_events=64))
    assert [c.n_events for c in chunks] == [64, 64, 64, 58]
    assert_batches_equal(EventBatch.concatenate(chunks), batch)
    with pytest.raises(ConfigError, match="chunk_events"):
        next(iter_events(path, chunk_events=0))


def test_exception_inside_writer_leaves_nothing(tmp_path: Path, rng: np.random.Generator) -> None:
    path = tmp_path / "events.h5"
    with pytest.raises(RuntimeError, match="boom"), EventWriter(path, METADATA) as writer:
        writer.append(random_batch(rng))
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_invalid_batch_is_refused_by_writer(tmp_path: Path, rng: np.random.Generator) -> None:
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


def _replace(batch: EventBatch, **changes: object) -> EventBatch:
    return EventBatch(**{f.name: getattr(batch, f.name) for f in fields(batch)} | changes)


def test_validate_names_bad_field(rng: np.random.Generator) -> None:
    batch = random_batch(rng, n_events=20)
    offsets = batch.hit_offsets.copy()
    with pytest.raises(SchemaError, match=r"'hit_offsets' must end at n_hits = \d+, got"):
        _replace(batch, hit_offsets=offsets + np.r_[np.zeros(20, np.int64), 1]).validate()
    with pytest.raises(SchemaError, match="'hit_offsets' must start at 0"):
        _replace(batch, hit_offsets=offsets + 1).validate()
    swapped = offsets.copy()
    swapped[[5, 6]] = swapped[[6, 5]] + np.array([1, 0])
    with pytest.raises(SchemaError, match="'hit_offsets' must be non-decreasing"):
        _replace(batch, hit_offsets=swapped).validate()
    with pytest.raises(SchemaError, match=r"'hit_offsets' has length 20, expected 21"):
        _replace(batch, hit_offsets=offsets[:-1]).validate()
    with pytest.raises(SchemaError, match=r"'pdg' has length 19, expected 20 \(n_events\)"):
        _replace(batch, pdg=batch.pdg[1:]).validate()
    with pytest.raises(SchemaError, match=r"'x_cm' has length"):
        _replace(batch, x_cm=batch.x_cm[1:]).validate()


@pytest.fixture
def events_file(tmp_path: Path, rng: np.random.Generator) -> Path:
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


def test_streaming_memory_is_flat(tmp_path: Path, rng: np.random.Generator) -> None:
    template = random_batch(rng, n_events=1000, mean_hits=2.0)

    def peak_of(n_batches: int, name: str) -> int:
        with EventWriter(tmp_path / name, {"n": n_batches}) as writer:
            tracemalloc.start()
            try:
                for _ in range(n_batches):
                    # a fresh batch each time, so that a writer keeping references would grow
                    writer.append(_replace(template, energy_mip=template.energy_mip.copy()))
                return tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()

    small = peak_of(20, "small.h5")
    large = peak_of(200, "large.h5")
    assert large < 3 * small
    assert count_events(tmp_path / "large.h5") == 200_000


@pytest.mark.parametrize("keep", [0.05, 0.5, 0.95])
def test_truncated_large_file_is_data_error_for_every_reader(
    tmp_path: Path, rng: np.random.Generator, keep: float
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
