"""`hgcal-ae study --preset smoke`: the whole chain, run as a user runs it, in two worker processes."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from hgcal_ae.cli import main
from hgcal_ae.datasets.splits import split_rows
from hgcal_ae.datasets.trigger_cells import read_trigger_cells
from hgcal_ae.models.module_ae import ModuleAutoencoder
from hgcal_ae.models.module_training import save_module_ae
from hgcal_ae.study.presets import PRESETS, study_preset
from hgcal_ae.study.report import (
    ae_versus_baselines,
    answer_text,
    smallest_latent_dim,
    smallest_latent_dim_by_shape,
)
from hgcal_ae.workflows.study import StudyReport, TrainModuleAE

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def smoke(smoke_runs):
    """The session's smoke study: its report folder and what the CLI printed."""
    return smoke_runs.study_report, smoke_runs.study_stdout


@pytest.fixture
def own_copy(smoke_runs, tmp_path):
    """A copy of the smoke runs' output folder (times kept) for tests that change it."""
    out = tmp_path / "out"
    shutil.copytree(smoke_runs.out, out)
    return out


def test_report_has_every_output(smoke):
    report, stdout = smoke
    summary = json.loads((report / "summary.json").read_text())
    for name, path in summary["outputs"].items():
        assert Path(path).is_file(), name
        if path.endswith(".png"):
            assert Path(path).read_bytes()[:8] == PNG and iio.imread(path).shape[0] > 200
    assert "smallest latent dim by energy: " in stdout and "the report is in" in stdout
    assert "None" not in stdout  # an answer that does not exist says "none passes"
    shape = summary["smallest_latent_dim_by_shape"]
    assert shape["smallest_latent_dim"] in (4, 16)  # the smoke grid's latent dims
    assert f"smallest latent dim by shape: {shape['smallest_latent_dim']}" in stdout
    assert "| algorithm |" in (report / "table.md").read_text()


def test_every_algorithm_at_every_elink_setting(smoke):
    report, _ = smoke
    rows = json.loads((report / "summary.json").read_text())["rows"]
    preset = study_preset("smoke")
    for n in preset.elinks:
        names = {r["algorithm"] for r in rows if r["n_elinks"] == n}
        assert {
            "best_choice",
            "stc_2x2",
            "stc_4x4",
            "threshold_sum",
            "autoencoder",
        } <= names
        for r in rows:
            if r["n_elinks"] == n and r["algorithm"] == "autoencoder":
                assert r["latent_dim"] * r["latent_bits"] <= 18 + 32 * (
                    n - 1
                )  # only codes that fit
    reference = next(r for r in rows if r["algorithm"] == "repeater")
    assert reference["bits"] == 341 and reference["emd_mean_cm"] < 0.1  # 4E3M only
    best_choice = {r["n_elinks"]: r for r in rows if r["algorithm"] == "best_choice"}
    assert (
        best_choice[2]["bits"] == 64
        and best_choice[5]["emd_mean_cm"] < best_choice[2]["emd_mean_cm"]
    )
    assert all(
        r["resolution_ratio_mean"] is not None for r in rows
    )  # enough test events per energy


def test_bandwidth_table(smoke):
    report, _ = smoke
    text = (report / "bandwidth.csv").read_text().splitlines()
    assert text[0].startswith("algorithm,setting,statistic,bits,elinks")
    assert any(line.startswith("autoencoder") for line in text)


def test_answers_from_rows():
    rows = [
        {"algorithm": "autoencoder", "label": "AE a", "latent_dim": 4, "resolution_ratio_max": 1.2, "setting": "a",
         "bits": 26, "n_elinks": 2, "emd_mean_cm": 1.0, "resolution_ratio_mean": 1.1},
        {"algorithm": "autoencoder", "label": "AE b", "latent_dim": 8, "resolution_ratio_max": 1.04, "setting": "b",
         "bits": 54, "n_elinks": 2, "emd_mean_cm": 0.5, "resolution_ratio_mean": 1.02},
        {"algorithm": "autoencoder", "label": "AE c", "latent_dim": 16, "resolution_ratio_max": 1.01, "setting": "c",
         "bits": 62, "n_elinks": 2, "emd_mean_cm": 0.6, "resolution_ratio_mean": 1.01},
        {"algorithm": "best_choice", "label": "Best Choice (4 TCs)", "setting": "d", "bits": 64, "n_elinks": 2,
         "emd_mean_cm": 0.4, "resolution_ratio_mean": 1.2},
    ]  # fmt: skip
    assert smallest_latent_dim(rows, 0.05)["smallest_latent_dim"] == 8
    assert smallest_latent_dim(rows, 0.001)["smallest_latent_dim"] is None
    assert answer_text(smallest_latent_dim(rows, 0.001)).startswith(
        "none passes (event energy resolution"
    )
    assert answer_text(smallest_latent_dim(rows, 0.05)).startswith("8 (event energy resolution")
    # best AE EMD 0.5 (latent 8); latent 16 at 0.6 is 20 % worse, latent 4 at 1.0 is 100 % worse
    assert smallest_latent_dim_by_shape(rows, 0.10)["smallest_latent_dim"] == 8
    assert smallest_latent_dim_by_shape(rows, 1.00)["smallest_latent_dim"] == 4
    assert smallest_latent_dim_by_shape(rows[3:])["smallest_latent_dim"] is None
    (comparison,) = ae_versus_baselines(rows, elinks=(2,))
    assert (
        comparison["autoencoder"] == "AE b"
        and comparison["baseline"] == "Best Choice (4 TCs)"
        and not comparison["ae_better_emd"]
        and comparison["ae_better_resolution"]
    )


def test_presets_only_keep_codes_that_fit():
    for preset in PRESETS.values():
        assert all(d * b <= 146 for d, b in preset.ae_grid())


def test_unknown_preset_is_one_line(tmp_path, capsys):
    assert main(["study", "--preset", "huge", "--output-dir", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["hgcal-ae: error: unknown preset 'huge'; expected one of smoke, default, full"]
    assert not (tmp_path / "o").exists()


def test_pileup_occupancy_runs_into_its_own_folder(smoke, tmp_path):
    report, _ = smoke
    out = tmp_path / "o"
    assert (
        main(["study", "--preset", "smoke", "--occupancy", "pileup", "--output-dir", str(out)]) == 0
    )
    pileup = StudyReport(preset="smoke", occupancy="pileup", output_dir=str(out))
    summary = json.loads(Path(pileup.output()["summary.json"].path).read_text())
    assert summary["occupancy"] == "pileup"
    signal = json.loads((report / "summary.json").read_text())
    assert signal["occupancy"] == "signal"
    # nearly every module of every odd layer has hits with pile-up (7 wafers x 14 layers per
    # event; a module without any hit above threshold, e.g. Poisson(3) = 0, has no row)
    every = 7 * 14 * summary["n_test_events"]
    assert 0.9 * every < summary["n_test_modules"] <= every
    assert summary["n_test_modules"] > signal["n_test_modules"]


def test_unknown_occupancy_is_one_line(tmp_path, capsys):
    assert main(["study", "--occupancy", "busy", "--output-dir", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "hgcal-ae: error: unknown occupancy 'busy'; expected one of signal, noise, pileup, pu200"
    ]
    assert not (tmp_path / "o").exists()


def test_unknown_loss_is_one_line(tmp_path, capsys):
    assert main(["study", "--loss", "mse", "--output-dir", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["hgcal-ae: error: unknown loss 'mse'; expected one of telescope, telescope+emd"]
    assert not (tmp_path / "o").exists()


def test_emd_is_also_averaged_per_input_occupancy():
    from hgcal_ae.study.evaluate import _emd_by_occupancy

    emd = np.array([1.0, 3.0, 2.0, -1.0, 4.0, 0.5])
    occupancy = np.array([0, 1, 3, 3, 20, 9])  # bins [0,2), [2,5), [5,10), [10,15), [15, inf)
    got = _emd_by_occupancy(emd, occupancy)["emd_by_occupancy"]
    assert got["n_modules"] == [2, 1, 1, 0, 1]  # the -1 sentinel (empty module) is left out
    assert got["emd_mean_cm"] == [2.0, 2.0, 0.5, None, 4.0]


def test_occupancy_profile_is_drawn(smoke):
    report, _ = smoke
    image = iio.imread(report / "emd_vs_occupancy.png")
    assert image.shape[0] > 300 and image[..., :3].std() > 10
    summary = json.loads((report / "summary.json").read_text())
    profile = next(r for r in summary["rows"] if r["algorithm"] == "best_choice")[
        "emd_by_occupancy"
    ]
    assert sum(profile["n_modules"]) <= summary["n_test_modules"]
    header = (report / "table.csv").read_text().splitlines()[0].split(",")
    assert (
        "emd_mean_cm" in header and "emd_by_occupancy" not in header and "per_energy" not in header
    )


# -- reruns into a copy of the smoke study's folder --------------------------------------------


def test_a_missing_evaluation_rebuilds_the_report_in_one_run(own_copy, run_cli):
    """Issue 8.2: a rerun after an intermediate went missing gives a report that agrees with
    the evaluation, and trains nothing again (the models are complete for this configuration)."""
    report = StudyReport(preset="smoke", output_dir=str(own_copy)).study_dir / "report"
    study = report.parent
    before = json.loads((report / "summary.json").read_text())
    (study / "evaluation.json").unlink()
    done = run_cli(own_copy, "study", "--preset", "smoke", "--workers", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    evaluation = json.loads((study / "evaluation.json").read_text())
    summary = json.loads((report / "summary.json").read_text())
    assert summary["rows"] == evaluation["rows"] == before["rows"]
    assert "done StudyReport" in done.stderr and "TrainModuleAE" not in done.stderr


def test_a_changed_preset_writes_beside_the_old_results(monkeypatch, tmp_path):
    """Issue 10.1: the output paths carry every setting of the preset (law's rule), so a model
    of other settings is never taken for this configuration's, and nothing is overwritten."""
    task = TrainModuleAE(preset="smoke", output_dir=str(tmp_path), latent_dim=16, latent_bits=3)
    smoke = study_preset("smoke")
    assert task.config_id == StudyReport(preset="smoke", output_dir="x").config_id
    assert TrainModuleAE(preset="default", output_dir=str(tmp_path), latent_dim=16,
                         latent_bits=3).config_id != task.config_id  # fmt: skip
    before, old_id = task.output().path, task.config_id
    config = smoke.training_config(16, 3)
    save_module_ae(before, ModuleAutoencoder(config.ae_config()), config, [])
    assert TrainModuleAE(preset="smoke", output_dir=str(tmp_path), latent_dim=16,
                         latent_bits=3).output().exists()  # fmt: skip
    monkeypatch.setitem(PRESETS, "smoke", replace(smoke, epochs=smoke.epochs + 1))
    changed = TrainModuleAE(preset="smoke", output_dir=str(tmp_path), latent_dim=16, latent_bits=3)
    assert changed.config_id != old_id  # (luigi hands back the same instance: ids are live)
    assert changed.output().path != before and not changed.complete()
    assert Path(before).is_file()  # the old configuration's model stays where it was


def test_a_truncated_trigger_cell_file_is_simulated_again(own_copy, run_cli):
    """Issue 8.4: a corrupt intermediate is made again by the next run, not reported as done."""
    report = StudyReport(preset="smoke", output_dir=str(own_copy)).study_dir / "report"
    data = report.parent / "trigger_cells.h5"
    original = read_trigger_cells(data)[0]
    data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])
    done = run_cli(own_copy, "study", "--preset", "smoke", "--workers", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    assert read_trigger_cells(data)[0].equals(original)  # the same showers again
    summary = json.loads((report / "summary.json").read_text())
    assert (
        summary["n_test_modules"]
        == original.select_rows(
            split_rows(original.event, study_preset("smoke").split, seed=0)[2]
        ).n_rows
    )


def test_every_ae_is_decoded_once_and_its_rows_equal_the_per_setting_ones(smoke_runs, monkeypatch):
    """evaluate_all decodes each AE once for all its e-link settings; the rows equal, to the
    bit, those of algorithm_outputs + evaluate_output setting by setting (its own order)."""
    import hgcal_ae.study.evaluate as evaluate
    from hgcal_ae.detector.setups import detector_setup
    from hgcal_ae.models.module_training import load_module_ae
    from hgcal_ae.trigger.formats import DROPPED_LSBS

    p = study_preset("smoke")
    rows, _ = read_trigger_cells(smoke_runs.study / "trigger_cells.h5")
    test = split_rows(rows.event, p.split, seed=p.seed)[2]
    modules = rows.select_rows(test[:400])
    models = {(d, b): load_module_ae(smoke_runs.study / "autoencoders" / f"latent{d}_bits{b}" / "model.pt")
              for d, b in p.ae_grid()}  # fmt: skip
    setup = detector_setup(p.geometry)
    options = {"thresholds": p.thresholds_mip, "lsb": p.tc_lsb_mip,
               "zero_suppress": p.ae_zero_suppress_mip}  # fmt: skip
    calls = []
    decode = evaluate.decode_shapes
    monkeypatch.setattr(
        evaluate, "decode_shapes", lambda *a, **k: calls.append(1) or decode(*a, **k)
    )
    table = evaluate.evaluate_all(modules, setup, models, elinks=p.elinks, **options)
    assert len(calls) == len(models)
    tc = np.asarray(modules.tc, dtype=np.float64)
    expected = [
        evaluate.evaluate_output(evaluate.reference_output(tc, p.tc_lsb_mip), modules, setup)
    ]
    for n in p.elinks:
        drop = DROPPED_LSBS.get(setup.lattice.name, 0)
        for output, extra in evaluate.algorithm_outputs(
            tc, n, models=models, dropped_lsbs=drop, **options
        ):
            expected.append({**evaluate.evaluate_output(output, modules, setup), **extra})
    assert sum(r["algorithm"] == "autoencoder" for r in table) > len(models)  # AEs at 2+ settings
    assert json.dumps(table, sort_keys=True) == json.dumps(expected, sort_keys=True)
