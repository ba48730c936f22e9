"""The TC grouping study (cells vs 2x2 vs 3x3 cells on hd8) and its figure."""

from __future__ import annotations

import json

import numpy as np
import pytest
from matplotlib.image import imread

from hgcal_ae.datasets.trigger_cells import read_trigger_cells
from hgcal_ae.detector.trigger_cells import trigger_cell_map
from hgcal_ae.errors import ConfigError
from hgcal_ae.plots.grouping import grouping_plot
from hgcal_ae.study.grouping import grouping_study
from hgcal_ae.study.grouping_config import GRANULARITIES, GroupingConfig
from hgcal_ae.study.grouping_result import GroupingResult
from hgcal_ae.study.showers import make_trigger_dataset

SMALL = GroupingConfig(energies_gev=(20.0, 100.0), events_per_energy=60, seed=3)


@pytest.fixture(scope="module")
def small() -> GroupingResult:
    """120 showers (about 1 s, most of it building the hd8 cell locator once)."""
    return grouping_study(SMALL)


def test_energy_conserved_by_every_grouping(small: GroupingResult) -> None:
    assert small.granularities == tuple(GRANULARITIES)
    reference = small.layer_energy_mip["cells"]
    assert reference.shape == (120, 14)
    assert reference.sum() > 0
    for name in ("tc2x2", "tc3x3"):
        np.testing.assert_allclose(small.layer_energy_mip[name], reference, rtol=1e-12)
    totals = {row["granularity"]: row["total_energy_mip"] for row in small.rows()}
    assert totals["tc2x2"] == pytest.approx(totals["cells"], rel=1e-12)
    assert totals["tc3x3"] == pytest.approx(totals["cells"], rel=1e-12)


def test_same_showers_as_the_trigger_dataset(small: GroupingResult, tmp_path) -> None:
    """The study's 3x3 TCs are the 48-TC rows make_trigger_dataset writes for that config."""
    make_trigger_dataset(SMALL.dataset_config(), tmp_path / "tc.h5")
    data, _ = read_trigger_cells(tmp_path / "tc.h5")
    np.testing.assert_array_equal(data.true_energy_gev, small.true_energy_gev)
    per_event = np.bincount(data.event, weights=data.module_sums(), minlength=120)
    np.testing.assert_allclose(per_event, small.layer_energy_mip["tc3x3"].sum(axis=1), rtol=1e-5)


def test_same_seed_same_result() -> None:
    config = GroupingConfig(energies_gev=(50.0,), events_per_energy=15, seed=7)
    first, second = grouping_study(config), grouping_study(config)
    assert first.to_json() == second.to_json()
    for name in GRANULARITIES:
        np.testing.assert_array_equal(first.layer_x_cm[name], second.layer_x_cm[name])
        np.testing.assert_array_equal(first.layer_width_cm[name], second.layer_width_cm[name])
    other = grouping_study(GroupingConfig(energies_gev=(50.0,), events_per_energy=15, seed=8))
    assert not np.array_equal(other.true_x_cm, first.true_x_cm)


def test_coarser_units_do_not_resolve_better(small: GroupingResult) -> None:
    # Guaranteed, entry by entry: a unit barycentre differs from the cell barycentre by an
    # energy-weighted mean of (unit centre - cell centre), so by at most the largest
    # cell-to-unit-centre distance of the map.
    for name, k in GRANULARITIES.items():
        tc_map, cells = trigger_cell_map("hd8", k), trigger_cell_map("hd8", 1)
        cell_x, cell_y = cells.tc_x_cm[cells.tc_of_cell], cells.tc_y_cm[cells.tc_of_cell]
        reach = np.hypot(
            tc_map.tc_x_cm[tc_map.tc_of_cell] - cell_x, tc_map.tc_y_cm[tc_map.tc_of_cell] - cell_y
        ).max()
        shift = np.hypot(
            small.layer_x_cm[name] - small.layer_x_cm["cells"],
            small.layer_y_cm[name] - small.layer_y_cm["cells"],
        )
        assert np.nanmax(shift) <= reach + 1e-9
    # Statistical, not guaranteed: the grouping adds a discretisation shift that is nearly
    # independent of the shower's own fluctuation, so on average the RMS grows with the unit
    # size.  For these 120 showers the margins are several per cent (the order held for 30
    # seeds out of 30); a change of the shower model could in principle reverse a close pair.
    res = {name: small.shower_max_resolution_mm(name) for name in GRANULARITIES}
    assert 0 < res["cells"] < res["tc2x2"] < res["tc3x3"]
    event = {name: small.event_resolution_mm(name) for name in GRANULARITIES}
    assert 0 < event["cells"] < event["tc2x2"] < event["tc3x3"]
    shift_mm = {name: small.shower_max_resolution_mm(name, "cells") for name in GRANULARITIES}
    assert shift_mm["cells"] == 0 < shift_mm["tc2x2"] < shift_mm["tc3x3"]


def test_hottest_unit_occupancy_and_bits(small: GroupingResult) -> None:
    rows = {row["granularity"]: row for row in small.rows()}
    # guaranteed: a unit holds at least its hottest cell, and every digitised cell is above
    # the threshold, so a unit with a hit is above it too and occupancy cannot grow
    for name in ("tc2x2", "tc3x3"):
        assert rows[name]["hottest_fraction"] >= rows["cells"]["hottest_fraction"]
        assert rows[name]["occupancy_per_module"] <= rows["cells"]["occupancy_per_module"]
    for row in rows.values():
        assert 0 < row["hottest_fraction"] <= 1
        assert 0 < row["occupancy_fraction"] <= 1
    # n_units x 7-bit 4E3M, ceil(bits / 32) e-links
    expected = {"cells": (432, 3024, 95), "tc2x2": (108, 756, 24), "tc3x3": (48, 336, 11)}
    for name, (units, bits, elinks) in expected.items():
        assert (rows[name]["units_per_module"], rows[name]["cells_per_unit"]) == (
            units,
            GRANULARITIES[name] ** 2,
        )
        assert (rows[name]["bits_per_module"], rows[name]["elinks_per_module"]) == (bits, elinks)
    assert rows["cells"]["shower_max_width_ratio"] == 1.0
    assert 0.9 < rows["tc3x3"]["shower_max_width_ratio"] < 1.5


def test_tables_and_json_are_plain(small: GroupingResult) -> None:
    payload = small.to_json()
    text = json.dumps(payload, allow_nan=False)  # no nan, no numpy types
    assert json.loads(text) == payload
    assert payload["layers"] == list(range(1, 28, 2))
    assert len(payload["summary"]) == 3
    assert len(payload["per_layer"]) == 3 * 14
    assert len(payload["per_energy"]) == 3 * 2
    for row in payload["summary"] + payload["per_layer"] + payload["per_energy"]:
        assert all(isinstance(v, str | int | float | type(None)) for v in row.values())
    assert small.event_resolution_mm("cells", energy_gev=100.0) > 0
    with pytest.raises(ConfigError, match=r"energy 30\.0 GeV was not simulated"):
        small.event_resolution_mm("cells", energy_gev=30.0)


def test_plot_is_a_png(small: GroupingResult, tmp_path) -> None:
    path = grouping_plot(small.rows(), small.layer_rows(), tmp_path / "plots" / "grouping.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = imread(path)
    assert image.shape == (480, 1500, 4)  # 15 x 4.8 inches at 100 dpi
    assert image[..., :3].std() > 0.05  # something is drawn
    assert [p.name for p in path.parent.iterdir()] == ["grouping.png"]  # no temporary left
    with pytest.raises(ConfigError, match="lacks"):
        grouping_plot([{"granularity": "cells"}], small.layer_rows(), tmp_path / "x.png")
    with pytest.raises(ConfigError, match="at least one layer row"):
        grouping_plot(small.rows(), [], tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()
