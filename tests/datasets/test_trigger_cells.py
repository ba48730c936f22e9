"""Tests of the trigger-cell file: streaming writes, checked reads, slices, broken files."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from hgcal_ae.datasets.module_rows import ModuleRows
from hgcal_ae.datasets.trigger_cells import SCHEMA, TriggerCellWriter, read_trigger_cells
from hgcal_ae.errors import ConfigError, DataError, SchemaError


def _batch(rng: np.random.Generator, n_events: int, first_id: int) -> ModuleRows:
    """Rows sorted by event; event 1 of every batch has none."""
    counts = rng.integers(1, 30, n_events)
    counts[1] = 0
    event = np.repeat(np.arange(n_events), counts)
    tc = (rng.exponential(2.0, (event.size, 48)) * (rng.random((event.size, 48)) < 0.3)).astype(
        np.float32
    )
    return ModuleRows.build(
        event, rng.integers(1, 29, event.size), rng.integers(0, 7, event.size), tc, n_events,
        event_id=first_id + np.arange(n_events), true_energy_gev=rng.uniform(20, 300, n_events),
    )  # fmt: skip


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[ModuleRows]]:
    rng = np.random.default_rng(11)
    batches = [_batch(rng, 40, 0), _batch(rng, 25, 40), _batch(rng, 3, 65)]
    path = tmp_path_factory.mktemp("tc") / "trigger_cells.h5"
    with TriggerCellWriter(path, {"source": "test"}) as writer:
        for batch in batches:
            writer.append(batch)
    return path, batches


def test_round_trip_of_streamed_batches(written: tuple[Path, list[ModuleRows]]) -> None:
    path, batches = written
    rows, metadata = read_trigger_cells(path)
    assert rows.n_events == 68 and metadata["n_events"] == 68 and metadata["source"] == "test"
    assert metadata["n_rows"] == rows.n_rows == sum(b.n_rows for b in batches)
    np.testing.assert_array_equal(rows.event_id, np.arange(68))
    np.testing.assert_array_equal(rows.tc, np.concatenate([b.tc for b in batches]))
    shifted = np.concatenate([b.event + s for b, s in zip(batches, (0, 40, 65), strict=True)])
    np.testing.assert_array_equal(rows.event, shifted)
    with h5py.File(path) as h5:
        assert h5.attrs["schema"] == SCHEMA and h5["modules/tc"].chunks == (4096, 48)


def test_slices_rebase_the_events(written: tuple[Path, list[ModuleRows]]) -> None:
    path, _ = written
    rows, _ = read_trigger_cells(path)
    part, _ = read_trigger_cells(path, 38, 45)
    assert part.equals(rows.select_events(np.arange(38, 45)))
    assert read_trigger_cells(path, 50, 50)[0].n_rows == 0


def test_rows_of_another_tc_count_are_refused(tmp_path: Path) -> None:
    rows = ModuleRows.build([0], [1], [0], np.ones((1, 12)))
    with (
        pytest.raises(ConfigError, match="holds 48 TCs per row, got rows of 12"),
        TriggerCellWriter(tmp_path / "t.h5", {}) as writer,
    ):
        writer.append(rows)
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_unreadable_files(written: tuple[Path, list[ModuleRows]], tmp_path: Path) -> None:
    path, _ = written
    with pytest.raises(DataError, match="does not exist"):
        read_trigger_cells(tmp_path / "missing.h5")
    (tmp_path / "text.h5").write_text("not hdf5")
    with pytest.raises(DataError, match=r"trigger-cell file .*text\.h5.* is not a readable HDF5"):
        read_trigger_cells(tmp_path / "text.h5")
    content = path.read_bytes()
    (tmp_path / "cut.h5").write_bytes(content[: len(content) // 2])
    with pytest.raises(DataError, match="truncated"):
        read_trigger_cells(tmp_path / "cut.h5")


@pytest.mark.parametrize(
    ("edit", "error", "message"),
    [
        (lambda h5: h5.__delitem__("events/cell_energy_gev_total"), SchemaError, "events/cell_energy_gev_total"),
        (lambda h5: h5.__delitem__("modules/layer"), SchemaError, "modules/layer"),
        (lambda h5: h5.attrs.__delitem__("schema"), SchemaError, "no attribute 'schema'"),
        (lambda h5: h5["modules/tc"].__setitem__((0, 0), np.nan), DataError, "NaN or infinite"),
    ],
)  # fmt: skip
def test_broken_files_name_the_field(written, tmp_path, edit, error, message) -> None:
    path = tmp_path / "edited.h5"
    path.write_bytes(written[0].read_bytes())
    with h5py.File(path, "a") as h5:
        edit(h5)
    with pytest.raises(error, match=message):
        read_trigger_cells(path)
