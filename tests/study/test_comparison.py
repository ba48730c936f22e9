"""The comparison of AE variants over seeds (hgcal_ae.study.comparison): parsing, the code of
each e-link setting, the spread over seeds, the goals."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from hgcal_ae.errors import ConfigError
from hgcal_ae.study.comparison import (
    DEFAULT_LATENTS,
    aggregate_seeds,
    check_variants,
    comparison_goals,
    comparison_markdown,
    elink_latents,
    high_occupancy_emd,
    parse_latents,
    seed_spread,
)


def test_parse_latents_and_bad_codes() -> None:
    assert parse_latents("16x3, 16X5") == ((16, 3), (16, 5))
    for bad in ("16y3", "0x3", "16x", "16x3,16x3"):
        with pytest.raises(ConfigError, match="--latents"):
            parse_latents(bad)


def test_check_variants_names_the_bad_one() -> None:
    assert check_variants(["telescope", "cond"], "pu200") == ("telescope", "cond")
    with pytest.raises(ConfigError, match="'nope'"):
        check_variants(["telescope", "nope"], "pu200")
    with pytest.raises(ConfigError, match="each once"):
        check_variants(["emd", "emd"], "pu200")
    with pytest.raises(ConfigError, match="'cond_emd' is conditional and needs occupancy pu200"):
        check_variants(["telescope", "cond_emd"], "signal")


def test_each_elink_setting_gets_the_largest_code_that_fits() -> None:
    # 50, 82, 114 and 146 latent bits at 2-5 e-links (econt.md §1)
    assert elink_latents(DEFAULT_LATENTS, (2, 3, 4, 5)) == {
        2: (16, 3), 3: (16, 5), 4: (16, 5), 5: (16, 9),
    }  # fmt: skip
    assert elink_latents(((24, 3), (8, 9)), (2, 3)) == {3: (24, 3)}  # 72 bits each: more values


def test_seed_spread_is_the_sample_std() -> None:
    s = seed_spread([1.0, 2.0, 3.0, None, float("nan")])
    assert (s["mean"], s["std"], s["min"], s["max"], s["n"]) == (2.0, 1.0, 1.0, 3.0, 3)
    assert seed_spread([0.5])["std"] == 0.0
    assert seed_spread([None])["mean"] is None


def _occ(means: list[float | None], n: list[int]) -> dict[str, Any]:
    return {"occupancy_edges": [0, 2, 5, 10, 15], "n_modules": n, "emd_mean_cm": means}


def test_high_occupancy_emd_weights_the_bins_by_modules() -> None:
    row = {"emd_by_occupancy": _occ([1.0, 1.0, 1.0, 2.0, 4.0], [5, 5, 5, 30, 10])}
    mean, n = high_occupancy_emd(row)
    assert n == 40 and mean == pytest.approx((30 * 2.0 + 10 * 4.0) / 40)
    with pytest.raises(ConfigError, match="no occupancy bin starts at 7"):
        high_occupancy_emd(row, lowest=7)


def _ae_row(variant: str, seed: int, emd: float, high: float) -> dict[str, Any]:
    return {
        "variant": variant, "seed": seed, "n_elinks": 2, "latent_dim": 16, "latent_bits": 3,
        "setting": "2 e-links", "emd_mean_cm": emd, "emd_median_cm": emd, "bits": 62.0,
        "energy_ratio_mean": 1.0, "resolution_ratio_mean": 1.0, "position_shift_rms_cm": 0.1,
        "emd_by_occupancy": _occ([emd, emd, emd, high, high], [1, 1, 1, 10, 10]),
        "per_energy": {"energy_gev": [20.0, 50.0], "rel_sigma_reference": [0.06, 0.04],
                       "rel_sigma_decoded": [0.07, 0.05 + seed / 100], "resolution_ratio": [1.1, 1.2],
                       "position_rms_reference_cm": [1.0, 1.0],
                       "position_rms_decoded_cm": [1.5, 1.5]},
    }  # fmt: skip


def test_aggregate_and_goals() -> None:
    rows = [
        _ae_row("telescope", s, e, h) for s, e, h in ((0, 1.0, 0.9), (1, 1.2, 1.1), (2, 1.1, 1.0))
    ]
    rows += [_ae_row("emd", s, e, h) for s, e, h in ((0, 0.7, 0.6), (1, 0.8, 0.7), (2, 0.75, 0.65))]
    agg = aggregate_seeds(rows)
    assert [r["variant"] for r in agg] == ["telescope", "emd"]
    tel, emd = agg
    assert tel["seeds"] == [0, 1, 2]
    assert tel["emd_mean_cm"] == pytest.approx(1.1)
    assert tel["emd_mean_cm_seeds"]["std"] == pytest.approx(0.1)
    assert emd["emd_high_occupancy_cm"] == pytest.approx(0.65)
    assert tel["per_energy"]["rel_sigma_decoded"][1] == pytest.approx(0.06)
    assert tel["per_energy"]["rel_sigma_decoded_std"][1] == pytest.approx(0.01)
    bc = {"algorithm": "best_choice", "table": "emu", "n_elinks": 2, "label": "Best Choice (4 TCs)",
          "bits": 64.0, "emd_mean_cm": 0.3, "resolution_ratio_mean": 1.0,
          "emd_by_occupancy": _occ([0.1, 0.2, 0.3, 0.64, 0.66], [1, 1, 1, 10, 10])}  # fmt: skip
    goals = comparison_goals(agg, [bc])
    (gain,) = goals["emd_loss_gain"]["rows"]
    assert gain["gain"] == pytest.approx(1 - 0.75 / 1.1) and gain["met"]
    high = goals["high_occupancy"]["result"]
    assert high["best_variant"] == "emd" and high["emd_best_choice_cm"] == pytest.approx(0.65)
    assert high["met"]  # 0.65 <= 0.65
    bc["emd_by_occupancy"] = _occ([0.1, 0.2, 0.3, 0.5, 0.5], [1, 1, 1, 10, 10])
    assert not comparison_goals(agg, [bc])["high_occupancy"]["met"]
    table = comparison_markdown(agg, [bc])
    assert "| 2 | AE, telescope + exact EMD 16×3 (3 seeds) | 62.0 | 0.750 ± 0.050 |" in table
    assert "| 2 | Best Choice (4 TCs) | 64.0 | 0.300 | 0.500 |" in table


def test_emd_by_eta_bins_the_modules(smoke_runs: Any) -> None:
    from hgcal_ae.datasets.trigger_cells import read_trigger_cells
    from hgcal_ae.detector.setups import detector_setup
    from hgcal_ae.study.evaluate import ETA_EDGES, evaluate_output, reference_output

    rows = read_trigger_cells(smoke_runs.study / "trigger_cells.h5")[0].select_rows(np.arange(600))
    tc = np.asarray(rows.tc, dtype=np.float64)
    rows = rows.with_tc(tc)
    eta = np.random.default_rng(3).uniform(1.4, 3.1, rows.n_rows)
    output = reference_output(tc, 2 / 45)
    row = evaluate_output(output, rows, detector_setup("ld8"), abs_eta=eta)
    by_eta = row["emd_by_eta"]
    assert by_eta["eta_edges"] == list(ETA_EDGES)
    inner = np.clip(eta, ETA_EDGES[0], math.nextafter(ETA_EDGES[-1], 0))  # outer bins open
    both = (tc.sum(axis=1) > 0) & (output.reconstructed.sum(axis=1) > 0)  # an EMD is defined
    expected, _ = np.histogram(inner[both], bins=ETA_EDGES)
    assert by_eta["n_modules"] == expected.tolist()
    assert "emd_by_eta" not in evaluate_output(output, rows, detector_setup("ld8"))


def test_the_cluster_holds_the_shower_and_follows_its_axis(smoke_runs: Any) -> None:
    from dataclasses import replace

    from hgcal_ae.datasets.trigger_cells import read_trigger_cells
    from hgcal_ae.detector.setups import detector_setup
    from hgcal_ae.study.evaluate import cluster_mask

    rows = read_trigger_cells(smoke_runs.study / "trigger_cells.h5")[0]
    setup = detector_setup("ld8")
    tc = np.asarray(rows.tc, dtype=np.float64)
    inside = cluster_mask(rows, setup)
    assert inside.shape == tc.shape
    # two Molière radii (5.76 cm) about the true axis hold ~95 % of a signal shower's charge
    assert 0.9 < tc[inside].sum() / tc.sum() < 0.99
    assert tc[cluster_mask(rows, setup, radius_cm=2.88)].sum() < tc[inside].sum()
    # the axis tilts with the incidence angle: ignoring it loses charge
    flat = replace(rows, angle_x_rad=np.zeros_like(rows.angle_x_rad))
    assert tc[cluster_mask(flat, setup)].sum() < tc[inside].sum()
    far = replace(rows, true_x_cm=rows.true_x_cm + 100.0)  # off the wafers
    assert not cluster_mask(far, setup).any()


def test_the_schedule_block_holds_each_run(tmp_path: Any) -> None:
    import json

    from hgcal_ae.study.pages import RunSource, plan_pages

    runs = [{"run": "telescope 15 ep lr 3e-3", "shape_emd_cm": 1.2345, "study_emd_cm": 1.1111,
             "seconds_per_epoch": 2.5},
            {"run": "+ exact EMD 9 ep lr 1e-3", "shape_emd_cm": 0.9012, "study_emd_cm": 0.8771,
             "seconds_per_epoch": 3.25}]  # fmt: skip
    summary = tmp_path / "emd_schedule.json"
    summary.write_text(json.dumps({"probe": "emd_schedule", "hgcal_ae_version": "0", "latent": [16, 3],
                                   "n_train_modules": 100, "n_test_modules": 50, "runs": runs}))  # fmt: skip
    page = tmp_path / "docs" / "study.md"
    page.parent.mkdir()
    page.write_text(
        "<!-- begin generated: study-emd-schedule -->\n<!-- end generated: study-emd-schedule -->\n"
    )
    source = RunSource(
        summary, "benchmarks/emd_schedule.json", "python benchmarks/probe_emd_schedule.py"
    )
    plan_pages([page], {"emd_schedule": source}, tmp_path / "docs" / "images", tmp_path).write()
    text = page.read_text()
    assert "| + exact EMD 9 ep lr 1e-3 | 0.901 | 0.877 | 3.25 |" in text
    assert "16×3-bit AE, 100 training and 50 test modules" in text
    del runs[0]["study_emd_cm"]
    summary.write_text(json.dumps({"probe": "emd_schedule", "latent": [16, 3], "n_train_modules": 1,
                                   "n_test_modules": 1, "runs": runs}))  # fmt: skip
    with pytest.raises(Exception, match=r"runs\[0\]\.study_emd_cm"):
        plan_pages([page], {"emd_schedule": source}, tmp_path / "docs" / "images", tmp_path)
