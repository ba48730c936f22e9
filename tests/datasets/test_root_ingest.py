"""Beam-test ROOT ntuples -> events HDF5: values, chunking, sources and errors."""

from __future__ import annotations

from pathlib import Path

import awkward as ak
import numpy as np
import pytest
import uproot

from hgcal_ae.datasets.events import read_events, read_metadata
from hgcal_ae.datasets.root_ingest import ROOT_TREE, ingest_root
from hgcal_ae.errors import DataError, SchemaError


def make_ntuple(
    rng: np.random.Generator,
    n_events: int = 50,
    first_event: int = 1,
    energy_branch: str = "beamEnergy",
    drop: str | None = None,
) -> dict[str, np.ndarray | ak.Array]:
    """Random events shaped like the rechitntupler output, with some hits in layers 29..40."""
    counts = rng.integers(0, 30, n_events)
    counts[3] = 0
    n_hits = int(counts.sum())

    def jagged(values: np.ndarray) -> ak.Array:
        return ak.unflatten(values, counts)

    data: dict[str, np.ndarray | ak.Array] = {
        "event": np.arange(first_event, first_event + n_events, dtype=np.int32),
        energy_branch: rng.choice(np.array([20.0, 50.0, 100.0, 300.0], np.float32), n_events),
        "rechit_layer": jagged(rng.integers(1, 41, n_hits).astype(np.int32)),
        "rechit_x": jagged(rng.normal(0, 3, n_hits).astype(np.float32)),
        "rechit_y": jagged(rng.normal(0, 3, n_hits).astype(np.float32)),
        "rechit_z": jagged(rng.uniform(13, 55, n_hits).astype(np.float32)),
        "rechit_energy": jagged(rng.exponential(10, n_hits).astype(np.float32)),
    }
    if drop is not None:
        del data[drop]
    return data


def write_ntuple(path: Path, data: dict[str, np.ndarray | ak.Array], tree: str = ROOT_TREE) -> Path:
    """Write a real TTree (jagged branches sharing the counter 'NRechits', as the ntupler does)."""
    types = {name: (v.type if isinstance(v, ak.Array) else v.dtype) for name, v in data.items()}
    with uproot.recreate(path) as file:
        file.mktree(tree, types, counter_name=lambda _: "NRechits").extend(data)
    return path


def write_rntuple(path: Path, data: dict[str, np.ndarray | ak.Array]) -> Path:
    """Write the same columns as a real RNTuple (``uproot`` >= 5.4 writes RNTuple)."""
    folder, _, name = ROOT_TREE.rpartition("/")
    with uproot.recreate(path) as file:
        file.mkdir(folder)
        file[folder].mkrntuple(name, data)
    return path


def expected_hits(
    data: dict[str, np.ndarray | ak.Array], max_layer: int = 28
) -> dict[str, np.ndarray]:
    keep = (data["rechit_layer"] >= 1) & (data["rechit_layer"] <= max_layer)
    out = {"counts": ak.to_numpy(ak.num(data["rechit_layer"][keep], axis=1))}
    for branch, field in [
        ("rechit_layer", "layer"),
        ("rechit_x", "x_cm"),
        ("rechit_y", "y_cm"),
        ("rechit_z", "z_cm"),
        ("rechit_energy", "energy_mip"),
    ]:
        out[field] = ak.to_numpy(ak.flatten(data[branch][keep]))
    return out


@pytest.fixture
def ntuple(rng: np.random.Generator) -> dict[str, np.ndarray | ak.Array]:
    return make_ntuple(rng)


def test_ingest_values(tmp_path: Path, ntuple: dict[str, np.ndarray | ak.Array]) -> None:
    source = write_ntuple(tmp_path / "run_0435.root", ntuple)
    summary = ingest_root(source, tmp_path / "events.h5")
    batch, metadata = read_events(tmp_path / "events.h5")
    expected = expected_hits(ntuple)
    assert batch.n_events == 50
    np.testing.assert_array_equal(batch.event_id, ntuple["event"])
    np.testing.assert_array_equal(batch.true_energy_gev, ntuple["beamEnergy"].astype(np.float64))
    np.testing.assert_array_equal(batch.hits_per_event(), expected["counts"])
    for field in ("layer", "x_cm", "y_cm", "z_cm", "energy_mip"):
        np.testing.assert_array_equal(getattr(batch, field), expected[field], err_msg=field)
    assert batch.layer.max() <= 28
    assert (batch.pdg == 0).all() and (batch.cell == -1).all()
    assert np.isnan(batch.true_x_cm).all() and np.isnan(batch.angle_y_rad).all()
    n_all = int(ak.sum(ak.num(ntuple["rechit_layer"])))
    assert summary == {
        "n_events": 50,
        "n_hits": batch.n_hits,
        "n_hits_dropped": n_all - batch.n_hits,
        "output": str(tmp_path / "events.h5"),
        "energy_branch": "beamEnergy",
        "energy_branches": ["beamEnergy"],
        "source_files": [str(source)],
    }
    assert 0 < summary["n_hits_dropped"] < n_all
    assert metadata["tree"] == ROOT_TREE
    assert metadata["energy_branch"] == "beamEnergy"
    assert metadata["n_events"] == 50 and metadata["n_hits"] == batch.n_hits
    assert metadata["source_files"] == [str(source)]


def test_rntuple_is_ingested_like_the_ttree(
    tmp_path: Path, ntuple: dict[str, np.ndarray | ak.Array]
) -> None:
    ingest_root(write_ntuple(tmp_path / "tree.root", ntuple), tmp_path / "tree.h5")
    source = write_rntuple(tmp_path / "rntuple.root", ntuple)
    with uproot.open(source) as file:
        assert isinstance(file[ROOT_TREE], uproot.behaviors.RNTuple.RNTuple)
    ingest_root(source, tmp_path / "rntuple.h5")
    assert read_events(tmp_path / "rntuple.h5")[0].equals(read_events(tmp_path / "tree.h5")[0])


@pytest.mark.parametrize("keep_fraction", [0.003, 0.05, 0.5, 0.9])
def test_truncated_rntuple_is_one_sentence_naming_the_file(
    tmp_path: Path, ntuple: dict[str, np.ndarray | ak.Array], keep_fraction: float
) -> None:
    """An RNTuple keeps its footer at the end: cut anywhere, it used to raise uproot's
    multi-line OSError unchanged (the CLI showed only its first line, cut mid-sentence)."""
    source = write_rntuple(tmp_path / "cut.root", ntuple)
    raw = source.read_bytes()
    source.write_bytes(raw[: int(len(raw) * keep_fraction)])
    with pytest.raises(DataError) as error:
        ingest_root(source, tmp_path / "events.h5")
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"ROOT file {str(source)!r} ")
    assert "truncated" in message
    assert message.endswith(f"expected a TTree or RNTuple {ROOT_TREE!r} readable by uproot")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.root"]


def test_true_beam_energy_branch(tmp_path: Path, rng: np.random.Generator) -> None:
    data = make_ntuple(rng, energy_branch="trueBeamEnergy")
    summary = ingest_root(write_ntuple(tmp_path / "a.root", data), tmp_path / "events.h5")
    assert summary["energy_branch"] == "trueBeamEnergy"
    batch, _ = read_events(tmp_path / "events.h5")
    np.testing.assert_array_equal(batch.true_energy_gev, data["trueBeamEnergy"].astype(np.float64))


def test_directory_is_ingested_in_sorted_order(tmp_path: Path, rng: np.random.Generator) -> None:
    folder = tmp_path / "runs"
    folder.mkdir()
    second = make_ntuple(rng, n_events=20, first_event=1000)
    first = make_ntuple(rng, n_events=30, first_event=1)
    write_ntuple(folder / "run_0002.root", second)  # written first, read second
    write_ntuple(folder / "run_0001.root", first)
    (folder / "notes.txt").write_text("not a ntuple")
    summary = ingest_root(folder, tmp_path / "events.h5")
    batch, metadata = read_events(tmp_path / "events.h5")
    np.testing.assert_array_equal(batch.event_id, np.r_[first["event"], second["event"]])
    assert [Path(p).name for p in metadata["source_files"]] == ["run_0001.root", "run_0002.root"]
    assert summary["n_events"] == 50


def test_small_steps_equal_one_chunk(
    tmp_path: Path, ntuple: dict[str, np.ndarray | ak.Array]
) -> None:
    source = write_ntuple(tmp_path / "a.root", ntuple)
    ingest_root(source, tmp_path / "one.h5", step_size="100 MB")
    ingest_root(source, tmp_path / "steps.h5", step_size=10)
    one, _ = read_events(tmp_path / "one.h5")
    steps, _ = read_events(tmp_path / "steps.h5")
    assert one.equals(steps)


def test_missing_branch(tmp_path: Path, rng: np.random.Generator) -> None:
    source = write_ntuple(tmp_path / "a.root", make_ntuple(rng, drop="rechit_energy"))
    output = tmp_path / "events.h5"
    with pytest.raises(
        SchemaError, match=r"a\.root' has no branch 'rechit_energy' in tree 'rechitntupler/hits'"
    ):
        ingest_root(source, output)
    assert not output.exists()


def test_missing_energy_branches(tmp_path: Path, rng: np.random.Generator) -> None:
    source = write_ntuple(tmp_path / "a.root", make_ntuple(rng, drop="beamEnergy"))
    with pytest.raises(SchemaError, match="neither branch 'beamEnergy' nor 'trueBeamEnergy'"):
        ingest_root(source, tmp_path / "events.h5")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.root"]


def test_missing_tree(tmp_path: Path, ntuple: dict[str, np.ndarray | ak.Array]) -> None:
    source = write_ntuple(tmp_path / "a.root", ntuple, tree="otherntupler/hits")
    with pytest.raises(SchemaError, match=r"a\.root' has no tree 'rechitntupler/hits'"):
        ingest_root(source, tmp_path / "events.h5")
    assert not (tmp_path / "events.h5").exists()


def test_bad_file_in_second_place_leaves_nothing(tmp_path: Path, rng: np.random.Generator) -> None:
    good = write_ntuple(tmp_path / "a.root", make_ntuple(rng))
    bad = write_ntuple(tmp_path / "b.root", make_ntuple(rng, drop="rechit_x"))
    with pytest.raises(SchemaError, match=r"b\.root' has no branch 'rechit_x'"):
        ingest_root([good, bad], tmp_path / "events.h5")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.root", "b.root"]


def test_random_bytes_is_data_error(tmp_path: Path, rng: np.random.Generator) -> None:
    source = tmp_path / "noise.root"
    source.write_bytes(rng.bytes(4000))
    with pytest.raises(DataError, match=r"noise\.root' is not a readable ROOT file"):
        ingest_root(source, tmp_path / "events.h5")
    assert not (tmp_path / "events.h5").exists()


@pytest.mark.parametrize("keep_fraction", [0.01, 0.5], ids=["header-only", "half"])
def test_truncated_file_is_data_error(
    tmp_path: Path, ntuple: dict[str, np.ndarray | ak.Array], keep_fraction: float
) -> None:
    source = write_ntuple(tmp_path / "cut.root", ntuple)
    raw = source.read_bytes()
    source.write_bytes(raw[: int(len(raw) * keep_fraction)])
    with pytest.raises(DataError, match=r"cut\.root'.*truncated") as error:
        ingest_root(source, tmp_path / "events.h5")
    assert "\n" not in str(error.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.root"]


def test_no_sources(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="holds no"):
        ingest_root(tmp_path, tmp_path / "events.h5")
    with pytest.raises(DataError, match="does not exist"):
        ingest_root(tmp_path / "missing.root", tmp_path / "events.h5")
    with pytest.raises(DataError, match="no ROOT files given"):
        ingest_root([], tmp_path / "events.h5")


def test_metadata_only_read(tmp_path: Path, ntuple: dict[str, np.ndarray | ak.Array]) -> None:
    source = write_ntuple(tmp_path / "a.root", ntuple)
    ingest_root(source, tmp_path / "events.h5", max_layer=40)
    metadata = read_metadata(tmp_path / "events.h5")
    assert metadata["max_layer"] == 40
    assert metadata["n_hits_dropped"] == 0


def test_cli_ingest_root_writes_events_and_summary(tmp_path: Path, ntuple, capsys) -> None:
    from hgcal_ae.cli import main

    source = write_ntuple(tmp_path / "run436.root", ntuple)
    out = tmp_path / "out"
    assert main(["ingest-root", str(source), "--output-dir", str(out)]) == 0
    batch, meta = read_events(out / "beamtest" / "run436" / "events.h5")
    assert batch.n_events == 50 and meta["tree"] == ROOT_TREE
    assert "events" in capsys.readouterr().out


@pytest.mark.parametrize("damage", ["missing-branch", "corrupt", "truncated-rntuple"])
def test_cli_ingest_root_bad_file_is_one_line_and_no_output(
    tmp_path: Path, rng, capsys, damage
) -> None:
    from hgcal_ae.cli import main

    source = tmp_path / "bad.root"
    if damage == "corrupt":
        source.write_bytes(rng.bytes(5000))
    elif damage == "truncated-rntuple":
        raw = write_rntuple(source, make_ntuple(rng)).read_bytes()
        source.write_bytes(raw[: len(raw) // 2])
    else:
        write_ntuple(source, make_ntuple(rng, drop="rechit_energy"))
    out = tmp_path / "out"
    assert main(["ingest-root", str(source), "--output-dir", str(out)]) == 1
    # One error line, the last on stderr; the run's progress lines may come before it.
    lines = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in lines if line.startswith("hgcal-ae: error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], lines
    assert all(line.startswith("[") for line in lines[:-1]), lines
    assert "bad.root" in errors[0]
    if damage == "missing-branch":
        assert "rechit_energy" in errors[0]
    if damage == "truncated-rntuple":
        assert errors[0].endswith(f"expected a TTree or RNTuple {ROOT_TREE!r} readable by uproot")
    assert not out.exists()  # a run that failed before writing leaves no folder


def test_cli_ingest_root_missing_source_leaves_no_folder(tmp_path: Path, capsys) -> None:
    from hgcal_ae.cli import main

    out = tmp_path / "out"
    missing = tmp_path / "run9.root"
    assert main(["ingest-root", str(missing), "--output-dir", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"hgcal-ae: error: ROOT source {str(missing)!r} does not exist"]
    assert not out.exists()
