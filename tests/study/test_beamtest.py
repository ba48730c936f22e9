"""Tests of the beam-test autoencoder study: events to cells and back, split, quality, answers."""

from __future__ import annotations

import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from hgcal_ae.datasets.events import read_events, write_events
from hgcal_ae.detector.hexagons import sensor
from hgcal_ae.detector.layers import ce_e_stack
from hgcal_ae.errors import ConfigError, DataError, SchemaError
from hgcal_ae.simulation.run import simulate_to_file
from hgcal_ae.simulation.showers import BeamConfig
from hgcal_ae.study.beamtest import BeamtestStudyConfig, answers, load_events, train_and_evaluate
from hgcal_ae.study.beamtest_bits import (
    PARETO_MEASURES,
    bits_points,
    bits_summary,
    direct_entry,
    pareto_front,
)
from hgcal_ae.study.beamtest_data import cells_to_events, event_cells
from hgcal_ae.study.beamtest_quality import cell_emd_per_layer, compare_energy

ENERGIES = (20, 100, 300)


@pytest.fixture(scope="module")
def events_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("beamtest-events")
    return [
        Path(
            simulate_to_file(folder / f"{e}.h5", BeamConfig(particle="e+", energy_gev=e), 50)[
                "path"
            ]
        )
        for e in ENERGIES
    ]


def test_cells_round_trip_the_hits(events_files: list[Path]) -> None:
    batch, metadata = read_events(events_files[0])
    cells, off = event_cells(batch, metadata, "f")
    assert cells.shape == (50, 28, 109) and off == 0
    assert cells.sum() == pytest.approx(batch.energy_mip.astype(np.float64).sum(), rel=1e-9)
    again = cells_to_events(cells, batch, 0.0, ce_e_stack())
    assert np.array_equal(np.sort(again.energy_mip), np.sort(batch.energy_mip))
    # ingested beam-test hits carry positions, not cells (cell = -1): located, the same cells
    fields = {name: getattr(batch, name) for name in batch.__dataclass_fields__}
    unknown = type(batch)(**{**fields, "cell": np.full(batch.n_hits, -1)})
    from_positions, off = event_cells(unknown, {}, "f")
    assert off == 0 and np.array_equal(from_positions, cells)


def test_eight_inch_events_are_refused(tmp_path: Path, events_files: list[Path]) -> None:
    batch, metadata = read_events(events_files[0])
    detector = {**metadata["detector"], "geometry": "ld8", "sensor": "ld8", "wafers_per_layer": 7}
    path = write_events(tmp_path / "ld8.h5", batch, {**metadata, "detector": detector})
    with pytest.raises(
        DataError,
        match=r"holds events of sensor 'ld8' with 7 wafers per layer .* expected the beam-test sensor 'tb2018_6inch'",
    ):
        load_events([path])


def test_misnamed_field_is_refused(tmp_path: Path, events_files: list[Path]) -> None:
    path = tmp_path / "renamed.h5"
    path.write_bytes(events_files[0].read_bytes())
    with h5py.File(path, "r+") as f:
        f.move("hits/energy_mip", "hits/energy")
    with pytest.raises(SchemaError, match="energy_mip"):
        load_events([path])


def test_cells_beyond_the_sensor_are_refused(tmp_path: Path, events_files: list[Path]) -> None:
    batch, _ = read_events(events_files[0])
    fields = {name: getattr(batch, name) for name in batch.__dataclass_fields__}
    wide = type(batch)(**{**fields, "cell": batch.cell + 150})  # an 8-inch LD cell index
    path = write_events(tmp_path / "cells.h5", wide, {"source": "no detector entry"})
    with pytest.raises(DataError, match=r"cell index \d+ is not a cell of the beam-test sensor"):
        load_events([path])


def test_too_few_events_per_split_and_energy(events_files: list[Path]) -> None:
    data = load_events(events_files[:1])
    with pytest.raises(ConfigError, match=r"give no validation event .*at least one per split"):
        data.split(BeamtestStudyConfig(fractions=(0.99, 0.0, 0.01)))
    with pytest.raises(
        ConfigError, match=r"beam energy 20 GeV has [0-9] test events of 50; expected at least 10"
    ):
        data.split(BeamtestStudyConfig(fractions=(0.8, 0.1, 0.1)))


def test_cell_emd_is_zero_on_itself_and_a_pitch_for_a_shift() -> None:
    lattice = sensor("tb2018_6inch")
    cells = np.zeros((1, 28, 109))
    cells[0, 0, lattice.index_of(0, 0)] = 3.0
    shifted = np.zeros_like(cells)
    shifted[0, 0, lattice.index_of(0, 1)] = 3.0  # a neighbour: one pitch (1.125 cm) away
    emd = cell_emd_per_layer(cells, cells)
    assert emd[0, 0] == 0.0 and np.isnan(emd[0, 1])
    assert cell_emd_per_layer(cells, shifted)[0, 0] == pytest.approx(lattice.pitch_cm, rel=1e-12)


def test_cell_emd_needs_no_pot(monkeypatch: pytest.MonkeyPatch) -> None:
    # a user's install has no POT (a dev dependency): the EMD still comes out, all rows at once
    monkeypatch.setitem(sys.modules, "ot", None)  # ``import ot`` now raises ImportError
    rng = np.random.default_rng(5)
    cells = rng.exponential(size=(3, 28, 109)) * (rng.uniform(size=(3, 28, 109)) < 0.2)
    cells[:, :, 0] += 1.0  # no empty layer
    decoded = cells + rng.uniform(0.0, 0.1, size=cells.shape)
    emd = cell_emd_per_layer(cells, decoded)
    assert emd.shape == (3, 28) and np.isfinite(emd).all() and (emd > 0).all()


def test_study_trains_decodes_and_judges_both_families(events_files: list[Path]) -> None:
    data = load_events(events_files)
    config = BeamtestStudyConfig(
        latent_dims=(4,), epochs={"per_layer": 1, "per_shower": 1}, emd_events=3
    )
    entries = []
    for family in config.families:
        _, entry = train_and_evaluate(data, config, family, 4)
        entries.append(entry)
        points = entry["quality"]["points"]
        assert [p["beam_energy_gev"] for p in points] == [20.0, 100.0, 300.0]
        assert set(entry["quality"]["fits"]) == {"original", "decoded"}
        assert (
            entry["training"]["n_train_events"]
            + entry["training"]["n_test_events"]
            + entry["training"]["n_validation_events"]
            == 150
        )
        assert all(len(p["barycentre_shift_rms_mm_per_layer"]) == 28 for p in points)
        assert all(p["cell_emd_events"] == 3 and p["cell_emd_mean_cm"] > 0 for p in points)
    per_layer = entries[0]
    # the layer sums travel beside the code: the dE/dx energy and the profile are kept exactly
    assert per_layer["worst"]["resolution_deviation"] < 1e-5
    assert per_layer["worst"]["shower_max_shift_rms_x0"] < 1e-5
    assert per_layer["bits_per_event"] == pytest.approx(
        per_layer["layers_with_energy_mean"] * (4 * 8 + 16)
    )
    assert entries[1]["bits_per_event"] == 4 * 8 + 16
    result = answers(entries, config)
    assert "criterion" in result and set(result) >= {"per_layer", "per_shower"}
    for family in config.families:
        ans = result[family]
        assert ans["smallest_latent_dim"] in (None, 4)
        assert ("breaks" in ans) == (ans["smallest_latent_dim"] is None)


def test_paired_energy_error_measures_the_compression_not_the_fit(events_files: list[Path]) -> None:
    """A decoder that scales every event by 1.1 keeps σ/E (ratio 1) yet errs by 10 % per event;
    one that gives every event the same energy has a paired error equal to the spread."""
    batch, metadata = read_events(events_files[0])
    cells, _ = event_cells(batch, metadata, "f")
    stack = ce_e_stack()
    original = cells_to_events(cells, batch, 0.0, stack)
    entry, po, _ = compare_energy(original, cells_to_events(1.1 * cells, batch, 0.0, stack),
                                  cells, 1.1 * cells, stack, 20.0, 0)  # fmt: skip
    assert entry["resolution_ratio"] == pytest.approx(1.0, abs=1e-6)
    assert entry["energy_shift_rms"] == pytest.approx(0.1, rel=1e-6)
    assert entry["resolution_degradation"] == pytest.approx(
        np.sqrt(1 + (0.1 / po.rel_sigma) ** 2) - 1
    )
    assert entry["shower_max_shift_rms_x0"] == pytest.approx(0.0, abs=1e-6)  # float32 hits
    assert entry["barycentre_shift_rms_mm"] == pytest.approx(0.0, abs=1e-4)


def test_pareto_front_keeps_the_points_nothing_beats() -> None:
    bits = [10, 20, 20, 30, 40, 5, 40]
    values = [3.0, 2.0, 1.0, 1.0, 0.5, np.nan, 0.5]
    # 20 bits at 2.0 is beaten by 20 bits at 1.0; 30 bits at 1.0 by 20 bits at 1.0; of the two
    # equal points (40 bits, 0.5) the first is on the front; NaN never is
    assert pareto_front(bits, values).tolist() == [True, False, True, False, True, False, False]
    assert pareto_front([], []).tolist() == []
    # at a resolution of 0.01, 1e-7 less is the same value: the costlier point is off the front
    assert pareto_front([10, 20], [1e-7, 0.0], 0.01).tolist() == [True, False]
    assert pareto_front([10, 20], [1e-7, 0.0]).tolist() == [True, True]


def test_cluster_sums_sent_directly_keep_the_energy_and_cost_their_addresses(
    events_files: list[Path],
) -> None:
    data = load_events(events_files)
    config = BeamtestStudyConfig(emd_events=3)
    _, _, test = data.split(config)
    alone, seven = direct_entry(data, config, 1), direct_entry(data, config, 7)
    cells_sent = float((data.cells[test] > 0).sum(axis=(1, 2)).mean())
    assert alone["bits_per_event"] == pytest.approx(cells_sent * (7 + 16))  # 109 cells: 7 bits
    assert seven["n_groups"] == 19 and seven["address_bits"] == 5
    assert seven["bits_per_event"] < alone["bits_per_event"]
    assert seven["bits_per_layer"] == pytest.approx(seven["bits_per_event"] / 28)
    for entry in (alone, seven):  # every layer's energy is kept (float16 sums)
        assert entry["worst"]["resolution_deviation"] < 1e-4
        assert entry["worst"]["shower_max_shift_rms_x0"] < 0.02
    assert alone["worst"]["barycentre_shift_rms_mm"] < 0.01  # the cells themselves
    assert all(p["cell_emd_mean_cm"] < 1e-3 for p in alone["quality"]["points"])
    assert all(p["cell_emd_mean_cm"] > 0.1 for p in seven["quality"]["points"])  # spread out
    points = bits_points([{**alone, "key": "direct_1"}, {**seven, "key": "direct_7"}])
    assert [p["group_size"] for p in points] == [1, 7] and points[0]["kind"] == "direct"
    assert set(PARETO_MEASURES) <= set(points[0])
    summary = bits_summary(points, [3], [2])
    assert summary["pareto_front"]["barycentre_shift_rms_mm"] == ["direct_7", "direct_1"]
    assert summary["pareto_front"]["resolution_deviation"][0] == "direct_7"
