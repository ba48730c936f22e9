"""`hgcal-ae simulate` and `validate-simulation`: outputs, and one line for every bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import h5py
import imageio.v3 as iio
import pytest

from hgcal_ae.cli import main
from hgcal_ae.cli.common import read_summary
from hgcal_ae.datasets.events import read_events
from hgcal_ae.errors import DataError

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def validated(tmp_path_factory):
    out = tmp_path_factory.mktemp("val")
    code = main(
        [
            "validate-simulation",
            "--energies",
            "20,50,100",
            "--events",
            "120",
            "--output-dir",
            str(out),
        ]
    )
    assert code == 0
    return out


def test_validation_draws_every_plot_and_fits_with_errors(validated):
    run = validated / "validation" / "tb2018" / "e+_n120_seed0"
    summary = json.loads((run / "summary.json").read_text())
    for name, path in summary["outputs"].items():
        assert Path(path).is_file(), name
        if path.endswith(".png"):
            assert Path(path).read_bytes()[:8] == PNG
            assert iio.imread(path).shape[0] > 200
    res = summary["resolution_fit"]
    assert set(res["values"]) == {"S", "C"} and res["errors"]["S"] > 0
    assert 0.10 < res["values"]["S"] < 0.35  # loose: 120 events per energy
    assert summary["max_abs_linearity_residual"] < 0.03
    assert 0.6 < summary["shower_max_fit"]["values"]["slope"] < 1.4
    assert all(1.0 < p["r90_mean_cm"] < 5.0 for p in summary["points"])
    assert [p["beam_energy_gev"] for p in summary["points"]] == [20.0, 50.0, 100.0]


def test_simulate_reuses_the_validation_inputs(validated, capsys):
    assert (
        main(["simulate", "--energies", "20", "--events", "120", "--output-dir", str(validated)])
        == 0
    )
    line = capsys.readouterr().out.strip()
    assert line.startswith("20 GeV: 120 events") and line.endswith("e+_20GeV_n120_seed0/events.h5")


BAD = {
    "zero-energy": (
        ["--energies", "20,0"],
        r"beam energy must be a finite number > 0 and <= 7000 GeV .*got 0\.0",
    ),
    # 1e9 GeV once asked for a 157 GiB array (MemoryError): now a bound on the beam energy.
    "huge-energy": (
        ["--energies", "1e9"],
        r"beam energy must be a finite number > 0 and <= 7000 GeV .*got 1000000000\.0",
    ),
    "negative-energy": (["--energies", "-5"], r"got -5\.0"),
    "nan-energy": (["--energies", "nan"], r"got nan"),
    "text-energy": (["--energies", "20,abc"], r"--energies takes numbers, got 'abc'"),
    "unknown-particle": (["--particle", "pi-"], r"unknown particle 'pi-'"),
    "unknown-geometry": (["--geometry", "tb2017"], r"unknown geometry 'tb2017'"),
    "zero-events": (["--events", "0"], r"--events must be a positive integer, got 0"),
    "negative-events": (["--events", "-10"], r"got -10"),
    "negative-noise": (["--noise-mip", "-1"], r"--noise-mip must be >= 0"),
}


@pytest.mark.parametrize("command", ["simulate", "validate-simulation"])
@pytest.mark.parametrize("case", list(BAD))
def test_bad_input(tmp_path, capsys, command, case):
    argv, message = BAD[case]
    out = tmp_path / "out"
    assert main([command, *argv, "--output-dir", str(out)]) == 2
    captured = capsys.readouterr()
    err = captured.err
    assert len(err.strip().splitlines()) == 1 and re.search(message, err), err
    assert err.startswith("hgcal-ae: error: ") and captured.out == ""
    assert not out.exists()  # nothing written, not even an empty folder


def test_validation_with_two_energies_leaves_no_folder(tmp_path, capsys):
    """The task's own check (at least 3 energies) runs before any folder is made."""
    out = tmp_path / "out"
    argv = ["validate-simulation", "--energies", "20,50", "--events", "20"]
    assert main([*argv, "--output-dir", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "hgcal-ae: error: validation needs at least 3 different energies, got [20.0, 50.0]"
    ]
    assert not out.exists()


def _error_line(err: str) -> str:
    """The one ``hgcal-ae: error:`` line, which ends stderr (progress lines may precede it)."""
    lines = err.strip().splitlines()
    errors = [line for line in lines if line.startswith("hgcal-ae: error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], err
    assert all(line.startswith("[") for line in lines[:-1]), err  # progress lines only
    return errors[0]


def _small_simulation(tmp_path):
    out = tmp_path / "out"
    assert (
        main(["simulate", "--energies", "20,30,40", "--events", "20", "--output-dir", str(out)])
        == 0
    )
    return out, out / "simulation" / "tb2018" / "e+_30GeV_n20_seed0" / "events.h5"


def _validate_small(out):
    argv = ["validate-simulation", "--energies", "20,30,40", "--events", "20"]
    return main([*argv, "--output-dir", str(out)])


def test_truncated_events_file_is_simulated_again(tmp_path, capsys):
    """A truncated events.h5 once made `simulate` report success; it is simulated again."""
    out, events = _small_simulation(tmp_path)
    _, fresh_events = _small_simulation(tmp_path / "fresh")
    events.write_bytes(events.read_bytes()[: events.stat().st_size // 2])
    capsys.readouterr()
    assert main(["simulate", "--energies", "30", "--events", "20", "--output-dir", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip().startswith("30 GeV: 20 events")
    assert "[1/1] done SimulateShowers(events=20, energy=30.0)" in captured.err  # ran again
    batch, meta = read_events(events)
    expected, expected_meta = read_events(fresh_events)
    assert batch.equals(expected) and meta == expected_meta


def test_truncated_events_file_is_simulated_again_for_validation(tmp_path, capsys):
    out, events = _small_simulation(tmp_path)
    before = read_events(events)[0]
    events.write_bytes(events.read_bytes()[:3000])
    assert _validate_small(out) == 0
    assert "Traceback" not in capsys.readouterr().err
    assert read_events(events)[0].equals(before)
    summary = json.loads(next((out / "validation").rglob("summary.json")).read_text())
    assert summary["inputs"]["30"] == str(events)


def test_corrupt_summary_is_written_again(tmp_path, capsys):
    """A truncated summary.json once gave a traceback; the run writes it again."""
    out, events = _small_simulation(tmp_path)
    summary = events.with_name("summary.json")
    before = json.loads(summary.read_text())
    summary.write_bytes(summary.read_bytes()[: summary.stat().st_size // 2])
    capsys.readouterr()
    assert main(["simulate", "--energies", "30", "--events", "20", "--output-dir", str(out)]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "hgcal-ae: error" not in captured.err
    assert captured.out.strip() == f"30 GeV: 20 events, {before['n_hits']} hits -> {events}"
    after = json.loads(summary.read_text())
    assert after["n_events"] == before["n_events"] and after["n_hits"] == before["n_hits"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"n_events": 20, "n_hi', r"is not valid JSON"),
        (b"\xff\xfe not text", r"is not valid JSON"),
        (b"[1, 2]", r"holds a JSON list, expected an object"),
    ],
)
def test_summary_reader_names_the_file(tmp_path, content, expected):
    path = tmp_path / "summary.json"
    path.write_bytes(content)
    with pytest.raises(DataError, match=expected) as info:
        read_summary(path)
    assert str(path) in str(info.value) and len(str(info.value).splitlines()) == 1
    with pytest.raises(DataError, match="cannot read summary"):
        read_summary(tmp_path / "missing.json")


def test_events_file_with_wrong_schema_names_the_field(tmp_path, capsys):
    """An events file that opens but lacks a dataset: one line naming the field."""
    out, events = _small_simulation(tmp_path)
    with h5py.File(events, "a") as f:
        del f["hits/energy_mip"]
    capsys.readouterr()
    code = _validate_small(out)
    line = _error_line(capsys.readouterr().err)
    assert code == 1 and "hits/energy_mip" in line and "e+_30GeV_n20_seed0/events.h5" in line
    assert not list((out / "validation").rglob("summary.json"))
