"""`hgcal-ae merging --preset smoke`: TC grouping and neighbour merging, run as a user runs it."""

from __future__ import annotations

import json
import math
import os

import imageio.v3 as iio
import pytest

from hgcal_ae.cli import main
from hgcal_ae.datasets.splits import split_rows
from hgcal_ae.datasets.trigger_cells import read_trigger_cells
from hgcal_ae.detector.setups import detector_setup
from hgcal_ae.models.module_training import load_module_ae
from hgcal_ae.study.evaluate import evaluate_all
from hgcal_ae.study.presets import study_preset


@pytest.fixture(scope="module")
def merging(smoke_runs):
    """The session's smoke merging study (after the smoke study, in the same folder)."""
    return smoke_runs.out, smoke_runs.merging_stdout


def test_report_holds_figures_tables_and_summary(merging, smoke_runs):
    _, stdout = merging
    report = smoke_runs.merging / "report"
    summary = json.loads((report / "summary.json").read_text())
    assert summary["workflow"] == "merging"
    for name, path in summary["outputs"].items():
        assert os.path.getsize(path) > 0, name
    for png in ("grouping.png", "neighbours.png"):
        image = iio.imread(report / png)
        assert image.ndim == 3 and image.shape[0] > 300 and image.shape[1] > 900
        assert image[..., :3].std() > 10  # not a blank canvas
    table = (report / "table.md").read_text()
    for label in ("tc2x2", "tc3x3", "with_neighbours", "shuffled_border", "split", "contained"):
        assert label in table
    assert f"the report is in {report}" in stdout
    # the study's showers are shared: the neighbour study read the study's trigger-cell file
    assert (smoke_runs.study / "trigger_cells.h5").is_file()


def test_answers_are_numbers_in_the_expected_order(merging, smoke_runs):
    _, stdout = merging
    summary = json.loads((smoke_runs.merging / "report" / "summary.json").read_text())
    res = summary["answers"]["grouping"]["event_resolution_mm"]
    assert 0 < res["cells"] <= res["tc2x2"] <= res["tc3x3"] < 20
    assert summary["answers"]["grouping"]["bits_2x2_over_3x3"] == pytest.approx(108 / 48)
    rows = summary["neighbours"]["rows"]
    assert {r["model"] for r in rows} == {"alone", "with_neighbours", "shuffled_border"}
    assert all(
        math.isfinite(r["emd_mean_cm"]) and r["emd_mean_cm"] > 0 for r in rows if r["n_modules"]
    )
    split = summary["answers"]["split_statistics"]
    assert 0 < split["split_share_event_layers"] < 1
    assert "shower barycentre resolution [mm]: cells" in stdout


def test_second_run_reuses_everything(merging, smoke_runs, run_cli):
    out, _ = merging
    summary = smoke_runs.merging / "report" / "summary.json"
    before = summary.stat().st_mtime_ns
    done = run_cli(out, "merging", "--preset", "smoke")
    assert done.returncode == 0, done.stderr[-2000:]
    assert summary.stat().st_mtime_ns == before


def test_unknown_preset_is_one_line(tmp_path, capsys):
    assert main(["merging", "--preset", "huge", "--output-dir", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["hgcal-ae: error: unknown preset 'huge'; expected one of smoke, default, full"]
    assert not (tmp_path / "o").exists()


def test_the_module_alone_is_the_study_model_on_the_study_test_modules(merging, smoke_runs):
    """Issue 8.6: one split rule and one trained model, so both reports quote one number."""
    study = smoke_runs.study
    neighbours = json.loads((smoke_runs.merging / "neighbours.json").read_text())
    assert neighbours["training"]["alone"]["trained_by"] == "the study"
    assert neighbours["settings"]["fractions"] == list(study_preset("smoke").split)
    alone = next(r for r in neighbours["rows"] if (r["model"], r["showers"]) == ("alone", "all"))
    # the study's own evaluation of that model, on its test modules, at 2 e-links
    preset = study_preset("smoke")
    rows = read_trigger_cells(study / "trigger_cells.h5")[0]
    test = rows.select_rows(split_rows(rows.event, preset.split, seed=preset.seed)[2])
    model = load_module_ae(study / "autoencoders" / "latent16_bits3" / "model.pt")
    row = evaluate_all(
        test, detector_setup(preset.geometry), {(16, 3): model}, elinks=(2,), thresholds=(),
        lsb=preset.tc_lsb_mip, zero_suppress=preset.ae_zero_suppress_mip,
    )[-1]  # fmt: skip
    assert row["label"] == "AE 16×3 bits" and alone["n_modules"] == test.n_rows
    assert alone["emd_mean_cm"] == pytest.approx(row["emd_mean_cm"], rel=1e-12)
