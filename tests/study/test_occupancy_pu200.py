"""The pu200 occupancy model against the published 200-pile-up numbers (econt.md §11)."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from hgcal_ae.datasets.trigger_cells import read_trigger_cells
from hgcal_ae.detector.setups import detector_setup
from hgcal_ae.errors import ConfigError
from hgcal_ae.plots.occupancy import occupancy_validation_plot
from hgcal_ae.study import occupancy_pu200 as pu
from hgcal_ae.study.showers import TriggerDatasetConfig, make_trigger_dataset


@pytest.fixture(scope="module")
def population() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return pu.pileup_population(60000, np.random.default_rng(0))


@pytest.fixture(scope="module")
def measured(population: tuple[np.ndarray, np.ndarray, np.ndarray]) -> dict:
    return pu.occupancy_statistics(*population)["measured"]


@pytest.mark.parametrize("group", ["above_1_mip_t", "non_zero"])
@pytest.mark.parametrize("stat", ["median", "p16", "p84", "mean", "std"])
def test_module_statistics_within_15_percent(measured: dict, group: str, stat: str) -> None:
    published = pu.PUBLISHED[group][stat]
    assert measured[group][stat] == pytest.approx(published, rel=0.15)


@pytest.mark.parametrize("band", ["1-2 MIP_T", "2-4 MIP_T"])
def test_spectrum_slope_within_0_2(measured: dict, band: str) -> None:
    assert abs(measured["spectrum_slope"][band] - pu.PUBLISHED["spectrum_slope"][band]) <= 0.2


@pytest.mark.parametrize("part", ["front", "back"])
def test_occupancy_against_eta_and_depth(measured: dict, part: str) -> None:
    """Within 15 %, or 0.5 TC where the published mean is about one TC (read off ±5 %)."""
    got = np.asarray(measured["occupancy_vs_eta"][part])
    want = np.asarray(pu.PUBLISHED["occupancy_vs_eta"][part])
    assert np.all(np.abs(got - want) <= np.maximum(0.15 * want, 0.5))


def test_same_seed_same_arrays_and_range() -> None:
    a = pu.pileup_population(500, np.random.default_rng(3))
    b = pu.pileup_population(500, np.random.default_rng(3))
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    tc, eta, layer = a
    assert tc.shape == (500, 48) and (tc >= 0).all()
    assert (eta >= 1.5).all() and (eta <= 3.0).all() and set(layer) <= set(range(1, 28, 2))


def test_positions_are_a_function_of_the_event() -> None:
    eta = pu.event_abs_eta(np.arange(10000), (1.6, 2.8))
    assert eta.min() >= 1.6 and eta.max() <= 2.8
    np.testing.assert_array_equal(eta[:5], pu.event_abs_eta(np.arange(5), (1.6, 2.8)))
    # uniform in area: 1/sinh² is uniform, so half the events lie below the middle of that
    mid = np.arcsinh(1 / np.sqrt(0.5 * (1 / np.sinh(1.6) ** 2 + 1 / np.sinh(2.8) ** 2)))
    assert (eta > mid).mean() == pytest.approx(0.5, abs=0.01)
    setup = detector_setup("ld8")
    central = pu.module_abs_eta(np.array([2.0]), np.array([1]), np.array([0]), setup)
    assert central[0] == pytest.approx(2.0)


def test_scale_zero_is_the_signal_in_mip_t() -> None:
    config = TriggerDatasetConfig(energies_gev=(20.0,), events_per_energy=3, events_per_group=1)
    from hgcal_ae.study.showers import simulate_showers
    from hgcal_ae.trigger.cells import module_trigger_cells

    setup = detector_setup("ld8")
    batch = simulate_showers(config, 20.0, 3, np.random.default_rng(1))
    rows = module_trigger_cells(batch, setup, layers=config.layer_numbers())
    out, eta = pu.overlay_pu200(rows, setup, np.random.default_rng(2), pileup_scale=0.0)
    np.testing.assert_allclose(out.tc, rows.tc / np.cosh(eta)[:, None], rtol=1e-6)
    busy, _ = pu.overlay_pu200(rows, setup, np.random.default_rng(2))
    assert (busy.tc > 0).sum() > (rows.tc > 0).sum()


@pytest.mark.parametrize(
    ("eta_range", "scale", "match"),
    [
        ((1.4, 2.0), 1.0, r"\|eta\| range \(1\.4, 2\.0\)"),
        ((2.0, 3.1), 1.0, r"\|eta\| range"),
        ((2.0, 2.0), 1.0, r"lo < hi"),
        (("a", 2.0), 1.0, r"\|eta\| range"),
        ((1.5, 3.0), -1.0, r"pile-up scale -1\.0"),
        ((1.5, 3.0), float("nan"), r"pile-up scale nan"),
    ],
)
def test_bad_input_names_the_value(eta_range: tuple, scale: float, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        pu.check_pu200(eta_range, scale)


def test_dataset_in_mip_t_and_validation_figure(tmp_path) -> None:
    config = TriggerDatasetConfig(
        energies_gev=(50.0,), events_per_energy=4, events_per_group=1, occupancy="pu200"
    )
    meta = make_trigger_dataset(config, tmp_path / "tc.h5")
    rows, stored = read_trigger_cells(tmp_path / "tc.h5")
    assert stored["units"]["tc"] == meta["units"]["tc"] == "MIP_T"
    stats, samples = pu.occupancy_validation(rows, detector_setup("ld8"), n_reference=2000)
    assert stats["data set"]["n_modules"] == rows.n_rows
    assert set(stats["pile-up alone"]["published"]) == set(pu.PUBLISHED)
    path = occupancy_validation_plot(samples, stats, pu.PUBLISHED, tmp_path / "occ.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data.endswith(b"IEND\xaeB`\x82")
    assert struct.unpack(">II", data[16:24]) == (1200, 900)
