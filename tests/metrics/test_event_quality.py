"""Tests of the event-level quality measures: slow reference loops and synthetic decodings."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from hgcal_ae.datasets.module_rows import ModuleRows
from hgcal_ae.detector.layers import gev_per_mip
from hgcal_ae.detector.setups import DetectorSetup, detector_setup
from hgcal_ae.detector.trigger_cells import trigger_cell_map
from hgcal_ae.errors import ConfigError
from hgcal_ae.metrics.event_quality import (
    compare_events,
    event_barycentre,
    event_energy,
    event_longitudinal_profile,
    event_shower_max,
)
from hgcal_ae.metrics.shower_max import profile_t_max

N_TC, N_LAYERS = 48, 28


@pytest.fixture(scope="module")
def setup() -> DetectorSetup:
    return detector_setup("ld8")


def _random_rows(rng: np.random.Generator, m: int, n_events: int) -> ModuleRows:
    """Unsorted rows; the last event gets none."""
    tc = rng.exponential(3.0, size=(m, N_TC)) * (rng.random((m, N_TC)) < 0.3)
    return ModuleRows.build(
        event=rng.integers(0, n_events - 1, size=m),
        layer=rng.integers(1, N_LAYERS + 1, size=m),
        module=rng.integers(0, 7, size=m),
        tc=tc,
        n_events=n_events,
    )


def _loop_reference(rows: ModuleRows, n_events: int, setup: DetectorSetup) -> dict[str, np.ndarray]:
    """Row by row, TC by TC: energy [GeV], GeV-weighted barycentre, profile [GeV]."""
    tcm = trigger_cell_map("ld8")
    gpm = gev_per_mip(setup.stack.dedx_weight_mev)
    e, sx, sy = np.zeros(n_events), np.zeros(n_events), np.zeros(n_events)
    prof = np.zeros((n_events, N_LAYERS))
    for ev, lay, mod, q in zip(rows.event, rows.layer, rows.module, rows.tc, strict=True):
        for k in range(N_TC):
            gev = q[k] * gpm[lay - 1]
            e[ev] += gev
            prof[ev, lay - 1] += gev
            sx[ev] += gev * (setup.tiling.x_cm[mod] + tcm.tc_x_cm[k])
            sy[ev] += gev * (setup.tiling.y_cm[mod] + tcm.tc_y_cm[k])
    with np.errstate(invalid="ignore"):
        return {"energy": e, "x": sx / e, "y": sy / e, "profile": prof}


def _barycentre(
    rows: ModuleRows, n: int, setup: DetectorSetup, **kw: object
) -> tuple[np.ndarray, np.ndarray]:
    tcm = trigger_cell_map("ld8")
    return event_barycentre(
        rows.event, rows.layer, rows.module, rows.tc, n, tcm.tc_x_cm, tcm.tc_y_cm,
        setup.tiling.x_cm, setup.tiling.y_cm, **kw,
    )  # fmt: skip


def test_event_functions_match_loop(rng: np.random.Generator, setup: DetectorSetup) -> None:
    n = 9
    rows = _random_rows(rng, 300, n)
    ref = _loop_reference(rows, n, setup)
    w = setup.stack.dedx_weight_mev
    e = event_energy(rows.event, rows.layer, rows.tc, n, w)
    np.testing.assert_allclose(e, ref["energy"], rtol=1e-12)
    assert e[-1] == 0.0
    x, y = _barycentre(rows, n, setup, weights_mev=w)
    np.testing.assert_allclose(x[:-1], ref["x"][:-1], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(y[:-1], ref["y"][:-1], rtol=1e-10, atol=1e-10)
    assert np.isnan(x[-1]) and np.isnan(y[-1])
    prof = event_longitudinal_profile(rows.event, rows.layer, rows.tc, n, w)
    np.testing.assert_allclose(prof, ref["profile"], rtol=1e-12)
    prof_mip = event_longitudinal_profile(rows.event, rows.layer, rows.tc, n)
    mip = [rows.tc[rows.event == i].sum() for i in range(n)]
    np.testing.assert_allclose(prof_mip.sum(axis=1), mip, rtol=1e-12)
    t = event_shower_max(prof, setup.stack.x0_cumulative)
    np.testing.assert_array_equal(t, profile_t_max(prof, setup.stack.x0_cumulative))
    assert np.isnan(t[-1])


def test_barycentre_mip_weighted_single_tc(setup: DetectorSetup) -> None:
    tcm = trigger_cell_map("ld8")
    tc = np.zeros((2, N_TC))
    tc[0, 5], tc[1, 40] = 2.0, 6.0  # event 0: one TC in module 3 and one in module 0
    rows = ModuleRows.build(
        event=np.array([0, 0]), layer=np.array([1, 28]), module=np.array([3, 0]), tc=tc
    )
    x, y = _barycentre(rows, 1, setup)
    ex = (2.0 * (setup.tiling.x_cm[3] + tcm.tc_x_cm[5]) + 6.0 * tcm.tc_x_cm[40]) / 8.0
    ey = (2.0 * (setup.tiling.y_cm[3] + tcm.tc_y_cm[5]) + 6.0 * tcm.tc_y_cm[40]) / 8.0
    assert x[0] == pytest.approx(ex, rel=1e-12) and y[0] == pytest.approx(ey, rel=1e-12)


def test_shower_max_of_exact_parabola(setup: DetectorSetup) -> None:
    x0 = setup.stack.x0_cumulative
    t0 = 0.5 * (x0[9] + x0[10]) + 0.1
    prof = np.clip(100.0 - (x0 - t0) ** 2, 0.0, None)[None, :]
    assert event_shower_max(prof, x0) == pytest.approx([t0], rel=1e-10)


def _synthetic(
    rng: np.random.Generator, energies: list[float], per_energy: int, **truth: object
) -> tuple[ModuleRows, np.ndarray]:
    """Every event: central module and one neighbour in all 28 layers, a fixed TC pattern
    scaled by E_true x (1 + 0.2/sqrt(E) gauss): S = 20 %, C = 0."""
    true_e = np.repeat(np.asarray(energies), per_energy)
    n = true_e.size
    scale = true_e * (1.0 + 0.2 / np.sqrt(true_e) * rng.standard_normal(n))
    depth = np.arange(1, N_LAYERS + 1)
    profile = depth**2.5 * np.exp(-depth / 3.0)
    pattern = rng.exponential(size=(2, N_TC))
    ev = np.repeat(np.arange(n), 2 * N_LAYERS)
    lay = np.tile(np.repeat(depth, 2), n)
    mod = np.tile([0, 1], n * N_LAYERS)
    tc = scale[ev, None] * profile[lay - 1, None] * pattern[mod]
    rows = ModuleRows.build(ev, lay, mod, tc, true_energy_gev=true_e, **truth)  # type: ignore[arg-type]
    return rows, true_e


def test_compare_identical_is_exact(rng: np.random.Generator, setup: DetectorSetup) -> None:
    zeros = np.zeros(120)
    rows, _ = _synthetic(rng, [10.0, 30.0, 100.0], 40, true_x_cm=zeros, true_y_cm=zeros)
    out = compare_events(rows, rows, setup)
    ev, s = out["events"], out["summary"]
    assert (ev["response"] == 1.0).all()
    for key in ("dx_cm", "dy_cm", "position_shift_cm", "shower_max_shift_x0"):
        assert (ev[key] == 0.0).all()
    assert s["resolution_ratio"] == [1.0, 1.0, 1.0]
    assert s["response_mean"] == [1.0, 1.0, 1.0] and s["response_std"] == [0.0, 0.0, 0.0]
    assert s["position"]["rms_x_decoded_minus_reference_cm"] == [0.0, 0.0, 0.0]
    assert s["position"]["resolution_ratio_x"] == [1.0, 1.0, 1.0]
    assert s["shower_max"]["shift_rms_x0"] == [0.0, 0.0, 0.0]
    assert s["reference"]["resolution_fit"] == s["decoded"]["resolution_fit"]
    assert s["reference"]["resolution_fit"]["values"]["S"] > 0
    assert s["n_events_per_energy"] == [40, 40, 40]
    json.dumps(s, allow_nan=False)  # plain JSON, no NaN


def test_compare_noisy_decoding(rng: np.random.Generator, setup: DetectorSetup) -> None:
    rows, true_e = _synthetic(rng, [10.0, 20.0, 50.0, 100.0], 150)
    noise = 1.0 + 0.05 * rng.standard_normal(true_e.size)
    dec = rows.with_tc(rows.tc * noise[rows.event, None])
    s = compare_events(rows, dec, setup)["summary"]
    assert s["energy_gev"] == [10.0, 20.0, 50.0, 100.0]
    assert s["response_mean"] == pytest.approx([1.0] * 4, abs=0.015)
    assert all(r >= 1.0 for r in s["resolution_ratio"])
    assert s["resolution_ratio"][-1] > 1.5  # 5 % noise dominates the 2 % resolution
    assert s["response_std"] == pytest.approx([0.05] * 4, rel=0.2)
    fit_ref, fit_dec = s["reference"]["resolution_fit"], s["decoded"]["resolution_fit"]
    assert fit_ref["values"]["S"] == pytest.approx(0.2, rel=0.3)
    assert fit_dec["values"]["C"] > fit_ref["values"]["C"] + 0.01  # noise adds a constant term
    assert s["position"]["rms_x_decoded_minus_reference_cm"][0] < 1e-9  # uniform scaling
    assert "rms_x_reference_minus_true_cm" not in s["position"]
    json.dumps(s, allow_nan=False)


def test_compare_few_events_and_empty_reference(setup: DetectorSetup) -> None:
    tc = np.zeros((2, N_TC))
    tc[0, 3] = 5.0
    rows = ModuleRows.build(
        np.array([0, 1]), np.array([3, 4]), np.array([0, 0]), tc, true_energy_gev=[10.0, 10.0]
    )
    s = compare_events(rows, rows, setup)["summary"]
    assert s["n_events_used"] == 1  # event 1 has no reference energy
    assert s["reference"]["rel_sigma"] == [None] and s["reference"]["resolution_fit"] is None
    assert s["response_mean"] == [1.0]
    json.dumps(s, allow_nan=False)


def test_bad_inputs(setup: DetectorSetup) -> None:
    w = setup.stack.dedx_weight_mev
    ok_ev, ok_lay, ok_tc = np.array([0, 1]), np.array([1, 28]), np.ones((2, N_TC))
    with pytest.raises(ConfigError, match=r"shape \(M, 48\)"):
        event_energy(ok_ev, ok_lay, np.ones((2, 47)), 2, w)
    with pytest.raises(ConfigError, match=r"event must have shape \(2,\)"):
        event_energy(np.array([0]), ok_lay, ok_tc, 2, w)
    with pytest.raises(ConfigError, match=r"layer must lie in 1\.\.28"):
        event_energy(ok_ev, np.array([0, 5]), ok_tc, 2, w)
    with pytest.raises(ConfigError, match=r"layer must lie in 1\.\.28"):
        event_longitudinal_profile(ok_ev, np.array([1, 29]), ok_tc, 2)
    with pytest.raises(ConfigError, match="layer must hold integers"):
        event_energy(ok_ev, np.array([1.5, 2.0]), ok_tc, 2, w)
    with pytest.raises(ConfigError, match=r"event must lie in 0\.\.0"):
        event_energy(ok_ev, ok_lay, ok_tc, 1, w)
    with pytest.raises(ConfigError, match=r"weights_mev must be a finite \(28,\)"):
        event_energy(ok_ev, ok_lay, ok_tc, 2, w[:27])
    with pytest.raises(ConfigError, match=r"module must lie in 0\.\.6"):
        rows = ModuleRows.build(ok_ev, ok_lay, np.array([0, 7]), ok_tc)
        _barycentre(rows, 2, setup)
    with pytest.raises(ConfigError, match="profile must have shape"):
        event_shower_max(np.ones(28), setup.stack.x0_cumulative)
    rows = ModuleRows.build(ok_ev, ok_lay, np.array([0, 0]), ok_tc, true_energy_gev=[10.0, 0.0])
    with pytest.raises(ConfigError, match="true_energy_gev must be beam energies > 0"):
        compare_events(rows, rows, setup)
    rows = rows.with_truth(true_energy_gev=np.array([10.0, 10.0]))
    with pytest.raises(ConfigError, match="decoded must be ModuleRows"):
        compare_events(rows, object(), setup)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="reference must be ModuleRows"):
        compare_events(object(), rows, setup)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="decoded rows have 1 events, the reference 2"):
        compare_events(rows, rows.select_events(np.array([0])), setup)
    assert math.isfinite(event_energy(ok_ev, ok_lay, ok_tc, 2, w).sum())
