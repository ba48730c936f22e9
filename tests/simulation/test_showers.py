"""The shower simulation: determinism, physics sanity, digitisation, streaming, bad input."""

from __future__ import annotations

import math

import h5py
import numpy as np
import pytest

from hgcal_ae.datasets.events import read_events, read_metadata
from hgcal_ae.detector.setups import detector_setup
from hgcal_ae.errors import ConfigError
from hgcal_ae.metrics.validation import reconstruct_energy
from hgcal_ae.simulation import digitisation as digi
from hgcal_ae.simulation.digitisation import digitise
from hgcal_ae.simulation.run import shower_model, simulate_to_file
from hgcal_ae.simulation.showers import BeamConfig, simulate_deposits

MODEL = shower_model("tb2018")


def _batch(energy=50.0, n=200, seed=1, particle="e+", **digi_kw):
    rng = np.random.default_rng(seed)
    beam = BeamConfig(particle=particle, energy_gev=energy)
    return digitise(simulate_deposits(beam, n, MODEL, rng), MODEL, rng, pdg=beam.pdg, **digi_kw)


def test_same_seed_same_dataset_array_by_array(tmp_path):
    beam = BeamConfig(energy_gev=30.0, spot_sigma_cm=0.5)
    for name in ("a.h5", "b.h5", "c.h5"):
        simulate_to_file(
            tmp_path / name, beam, 60, seed=7 if name != "c.h5" else 8, batch_events=25
        )
    with (
        h5py.File(tmp_path / "a.h5") as a,
        h5py.File(tmp_path / "b.h5") as b,
        h5py.File(tmp_path / "c.h5") as c,
    ):
        for group in ("events", "hits"):
            for field in a[group]:
                np.testing.assert_array_equal(
                    a[group][field][...], b[group][field][...], err_msg=field
                )
        assert not np.array_equal(a["hits/energy_mip"][...], c["hits/energy_mip"][...])
    assert read_metadata(tmp_path / "a.h5")["seed"] == 7


def test_hits_are_valid_cells_above_threshold():
    batch = _batch()
    assert batch.n_events == 200 and batch.n_hits > 200 * 100
    assert batch.layer.min() >= 1 and batch.layer.max() <= 28
    assert batch.energy_mip.min() >= digi.DEFAULT_THRESHOLD_MIP
    setup = MODEL.setup
    assert batch.cell.min() >= 0 and batch.cell.max() < setup.cells_per_layer
    cx, _ = setup.cell_centres()
    np.testing.assert_allclose(batch.x_cm, cx[batch.cell], rtol=1e-6)
    np.testing.assert_allclose(batch.z_cm, setup.stack.z_mm[batch.layer - 1] / 10, rtol=1e-6)
    # no cell appears twice in the same event and layer
    key = (batch.event_index_of_hits() * 28 + batch.layer) * setup.cells_per_layer + batch.cell
    assert len(np.unique(key)) == len(key)


def test_response_is_linear_and_resolution_improves_with_energy():
    e20 = reconstruct_energy(_batch(20.0, 300), MODEL.setup.stack.dedx_weight_mev) / 20.0
    e200 = reconstruct_energy(_batch(200.0, 100), MODEL.setup.stack.dedx_weight_mev) / 200.0
    assert abs(e20.mean() / e200.mean() - 1) < 0.03
    assert e200.std() < 0.5 * e20.std()
    assert 0.8 < e200.mean() < 1.1


def test_shower_gets_deeper_with_energy_and_photons_start_later():
    def mean_layer(batch):
        return np.average(batch.layer, weights=batch.energy_mip)

    assert mean_layer(_batch(200.0, 60)) > mean_layer(_batch(20.0, 300)) + 1.0
    assert mean_layer(_batch(50.0, 300, particle="gamma")) > mean_layer(_batch(50.0, 300)) + 0.5


def test_noise_adds_hits_and_can_be_switched_off():
    quiet = _batch(20.0, 100, noise_mip=0.0)
    noisy = _batch(20.0, 100, noise_mip=0.3)
    assert noisy.n_hits > quiet.n_hits + 100 * 28 * 109 * 0.03
    # with noise off, the threshold still cuts: no hit below 0.5 MIP
    assert quiet.energy_mip.min() >= 0.5


def test_beam_spot_and_angle_move_the_showers():
    model = shower_model("tb2018-tiled")  # seven wafers: no edge cuts the shower
    rng = np.random.default_rng(3)
    beam = BeamConfig(energy_gev=50.0, x_cm=1.5, spot_sigma_cm=0.5, angle_x_rad=0.05)
    dep = simulate_deposits(beam, 400, model, rng)
    assert abs(dep.x_cm.mean() - 1.5) < 0.1 and abs(dep.x_cm.std() - 0.5) < 0.06
    batch = digitise(dep, model, rng, pdg=beam.pdg, noise_mip=0.0)
    z = model.setup.stack.z_mm / 10
    for layer in (2, 8, 14):
        sel = batch.layer == layer
        x_bar = np.average(batch.x_cm[sel], weights=batch.energy_mip[sel])
        assert x_bar == pytest.approx(1.5 + math.tan(0.05) * z[layer - 1], abs=0.15), layer


def test_tiled_geometry_has_hits_in_several_wafers():
    model = shower_model("tb2018-tiled")
    rng = np.random.default_rng(5)
    edge = model.setup.tiling.spacing_cm / 2  # between the central wafer and its neighbour
    dep = simulate_deposits(BeamConfig(energy_gev=50.0, x_cm=edge), 20, model, rng)
    modules = (dep.key % model.setup.cells_per_layer) // model.setup.lattice.n_cells
    assert len(np.unique(modules)) >= 2


def test_failed_run_leaves_nothing(tmp_path, monkeypatch):
    calls = {"n": 0}
    real = digi.digitise

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("killed")
        return real(*args, **kwargs)

    monkeypatch.setattr("hgcal_ae.simulation.run.digitise", failing)
    with pytest.raises(RuntimeError, match="killed"):
        simulate_to_file(tmp_path / "ev.h5", BeamConfig(energy_gev=20.0), 30, batch_events=10)
    assert list(tmp_path.iterdir()) == []


def test_streamed_file_equals_its_batches(tmp_path):
    summary = simulate_to_file(
        tmp_path / "ev.h5", BeamConfig(energy_gev=20.0), 45, seed=2, batch_events=10
    )
    batch, meta = read_events(tmp_path / "ev.h5")
    assert summary["n_events"] == batch.n_events == 45 and summary["n_hits"] == batch.n_hits
    np.testing.assert_array_equal(batch.event_id, np.arange(45))
    assert meta["detector"]["geometry"] == "tb2018" and meta["digitisation"]["threshold_mip"] == 0.5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"energy_gev": 0.0}, r"beam energy must be a finite number > 0 and <= 7000 GeV.*got 0\.0"),
        ({"energy_gev": 1e9}, r"<= 7000 GeV \(the LHC beam energy.*got 1000000000\.0"),
        ({"energy_gev": -5.0}, r"got -5\.0"),
        ({"energy_gev": float("nan")}, r"got nan"),
        ({"particle": "pi+"}, r"unknown particle 'pi\+'; expected one of e-, e\+, gamma"),
        ({"spot_sigma_cm": -1.0}, r"spot_sigma_cm must be finite and >= 0"),
        ({"angle_x_rad": 2.0}, r"incidence angles must be below 1 rad"),
    ],
)
def test_bad_beam(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        BeamConfig(**kwargs)


@pytest.mark.parametrize("n", [0, -3, 2.5, True])
def test_bad_event_count(tmp_path, n):
    with pytest.raises(ConfigError, match="events must be a positive integer"):
        simulate_to_file(tmp_path / "ev.h5", BeamConfig(), n)
    assert not (tmp_path / "ev.h5").exists()


def test_unknown_geometry():
    with pytest.raises(
        ConfigError,
        match=r"unknown geometry 'tb2017'; expected one of tb2018, tb2018-tiled, ld8, hd8",
    ):
        detector_setup("tb2017")


def test_bad_noise():
    with pytest.raises(ConfigError, match="noise must be finite and >= 0 MIP"):
        _batch(20.0, 5, noise_mip=-0.1)
