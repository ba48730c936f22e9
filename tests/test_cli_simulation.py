"""`hgcal-ae simulate` and `validate-simulation`: outputs, and one line for every bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import h5py
import imageio.v3 as iio
import pytest

from hgcal_ae.cli import main

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
        r"beam energy must be a finite number > 0 GeV, got 0\.0",
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
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and re.search(message, err), err
    assert not out.exists()


def _small_simulation(tmp_path):
    out = tmp_path / "out"
    assert (
        main(["simulate", "--energies", "20,30,40", "--events", "20", "--output-dir", str(out)])
        == 0
    )
    return out, out / "simulation" / "tb2018" / "e+_30GeV_n20_seed0" / "events.h5"


def test_corrupt_events_file_is_one_line(tmp_path, capsys):
    out, events = _small_simulation(tmp_path)
    events.write_bytes(events.read_bytes()[:3000])
    code = main(
        [
            "validate-simulation",
            "--energies",
            "20,30,40",
            "--events",
            "20",
            "--output-dir",
            str(out),
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1
    assert "e+_30GeV_n20_seed0/events.h5" in err[0] and "not a readable HDF5 file" in err[0]
    assert not list((out / "validation").rglob("summary.json"))


def test_events_file_with_wrong_schema_names_the_field(tmp_path, capsys):
    out, events = _small_simulation(tmp_path)
    with h5py.File(events, "a") as f:
        del f["hits/energy_mip"]
    code = main(
        [
            "validate-simulation",
            "--energies",
            "20,30,40",
            "--events",
            "20",
            "--output-dir",
            str(out),
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "hits/energy_mip" in err[0]
