"""Tests of the study's showers: placement, occupancy, module TC rows in the trigger-cell file."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from hgcal_ae.datasets.module_rows import ModuleRows
from hgcal_ae.datasets.splits import split_rows
from hgcal_ae.datasets.trigger_cells import SCHEMA, read_trigger_cells
from hgcal_ae.detector.layers import ce_e_stack, gev_per_mip
from hgcal_ae.detector.setups import detector_setup
from hgcal_ae.errors import ConfigError
from hgcal_ae.study.showers import TriggerDatasetConfig, make_trigger_dataset
from hgcal_ae.trigger.formats import tc_lsb_mip

SMALL = {"energies_gev": (20, 50), "events_per_energy": 12, "seed": 7, "events_per_group": 4}
GEV_PER_MIP = gev_per_mip(ce_e_stack().dedx_weight_mev)
ARRAYS = [name for name in ModuleRows.__dataclass_fields__]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One small dataset per case: odd-layer signal (twice), all layers, noise and pile-up."""
    folder = tmp_path_factory.mktemp("trigger")
    cases = {
        "signal": {},
        "signal_again": {},
        "other_seed": {"seed": 8},
        "all": {"layers": "all"},
        "noise": {"occupancy": "noise"},
        "pileup": {"occupancy": "pileup"},
    }
    paths = {}
    for name, extra in cases.items():
        paths[name] = folder / f"{name}.h5"
        make_trigger_dataset(TriggerDatasetConfig(**(SMALL | extra)), paths[name], batch_events=8)
    return paths


def read(path: Path) -> ModuleRows:
    return read_trigger_cells(path)[0]


def row_keys(data: ModuleRows) -> np.ndarray:
    return (data.event * 100 + data.layer.astype(np.int64)) * 100 + data.module


def tc_energy_gev(data: ModuleRows) -> np.ndarray:
    per_row = data.tc.sum(axis=1, dtype=np.float64) * GEV_PER_MIP[data.layer - 1]
    return np.bincount(data.event, weights=per_row, minlength=data.n_events)


def test_same_seed_same_arrays(files: dict[str, Path]) -> None:
    first, again, other = (
        read(files["signal"]),
        read(files["signal_again"]),
        read(files["other_seed"]),
    )
    for name in ARRAYS:
        assert np.array_equal(getattr(first, name), getattr(again, name)), name
    assert not np.array_equal(first.true_x_cm, other.true_x_cm)


def test_rows_and_events_consistent(files: dict[str, Path]) -> None:
    data, metadata = read_trigger_cells(files["signal"])
    assert data.n_events == 24 and data.tc.shape == (data.n_rows, 48)
    assert data.tc.dtype == np.float32 and data.tc.min() >= 0
    assert np.all(data.tc.max(axis=1) > 0)  # no empty rows
    assert np.array_equal(data.event_id, np.arange(24))
    offsets = data.event_offsets()
    assert offsets[0] == 0 and offsets[-1] == data.n_rows  # rows grouped by event
    assert np.all(np.diff(row_keys(data)) > 0)  # sorted by event, layer, module
    assert np.array_equal(data.true_energy_gev, np.repeat([20.0, 50.0], 12))
    assert np.all(data.pdg == -11)
    assert np.all(np.abs(data.angle_x_rad) <= 0.1) and np.all(np.abs(data.angle_y_rad) <= 0.1)
    assert metadata["n_events"] == 24 and metadata["n_rows"] == data.n_rows
    assert metadata["config"]["energies_gev"] == [20.0, 50.0]
    assert metadata["units"]["tc"] == "MIP" and metadata["tc_lsb_mip"] == pytest.approx(2 / 45)
    with h5py.File(files["signal"]) as h5:
        assert h5.attrs["schema"] == SCHEMA and h5.attrs["schema_version"] == 1
        assert h5["modules/tc"].chunks == (4096, 48)
    part, _ = read_trigger_cells(files["signal"], 5, 9)
    rows = slice(offsets[5], offsets[9])
    assert np.array_equal(part.tc, data.tc[rows]) and np.array_equal(part.event_id, np.arange(5, 9))
    assert np.array_equal(part.event, data.event[rows] - 5)  # rebased to the events read
    assert part.equals(data.select_events(np.arange(5, 9)))


def test_odd_and_all_layers(files: dict[str, Path]) -> None:
    odd, every = read(files["signal"]), read(files["all"])
    assert np.all(odd.layer % 2 == 1) and set(np.unique(odd.layer)) <= set(range(1, 28, 2))
    assert {1, 2} <= set(np.unique(every.layer).tolist())
    # same showers: the odd-layer rows are exactly the odd rows of the all-layer file
    assert np.array_equal(row_keys(every)[every.layer % 2 == 1], row_keys(odd))


def test_showers_cross_module_boundaries(files: dict[str, Path]) -> None:
    data = read(files["signal"])
    layer_key = data.event * 100 + data.layer
    keys, counts = np.unique(layer_key, return_counts=True)
    assert len(np.unique(keys[counts >= 2] // 100)) >= 2  # several events with >= 2 modules
    # and not only tails: some layer has >= 10 % of its energy in a second module
    module_sum = data.tc.sum(axis=1)
    layer_sum = np.bincount(np.searchsorted(keys, layer_key), weights=module_sum)
    largest = np.zeros(len(keys))
    np.maximum.at(largest, np.searchsorted(keys, layer_key), module_sum)
    assert np.any((layer_sum - largest) >= 0.1 * layer_sum)
    assert data.true_x_cm.std() > 1.0 and data.true_y_cm.std() > 1.0


@pytest.mark.parametrize("case", ["signal", "all", "pileup"])
def test_tc_energy_equals_cell_energy(files: dict[str, Path], case: str) -> None:
    data = read(files[case])
    np.testing.assert_allclose(tc_energy_gev(data), data.cell_energy_gev_total, rtol=1e-5)


def test_all_layers_reconstruct_the_beam_energy(files: dict[str, Path]) -> None:
    data = read(files["all"])
    ratio = data.cell_energy_gev_total / data.true_energy_gev
    assert 0.85 < np.median(ratio) < 1.15
    odd = read(files["signal"])
    assert 0.4 < np.median(odd.cell_energy_gev_total / odd.true_energy_gev) < 0.6  # half the slabs


def test_noise_adds_small_rows_far_from_the_shower(files: dict[str, Path]) -> None:
    signal, noise = read(files["signal"]), read(files["noise"])
    assert np.array_equal(signal.true_x_cm, noise.true_x_cm)  # same showers
    extra = ~np.isin(row_keys(noise), row_keys(signal))
    assert np.isin(row_keys(signal), row_keys(noise)).all() and extra.sum() > 50
    assert noise.tc[extra].sum(axis=1).max() < 5.0  # a few noise hits of ~0.5-1 MIP
    # matching rows: noise only adds cells
    shared = noise.tc[~extra]
    assert np.all(shared >= signal.tc - 1e-4) and shared.sum() > signal.tc.sum()
    setup = detector_setup("ld8")
    event, layer, module = noise.event[extra], noise.layer[extra], noise.module[extra]
    z_cm = setup.stack.z_mm[layer - 1] / 10.0
    axis_x = noise.true_x_cm[event] + np.tan(noise.angle_x_rad[event]) * z_cm
    axis_y = noise.true_y_cm[event] + np.tan(noise.angle_y_rad[event]) * z_cm
    distance = np.hypot(setup.tiling.x_cm[module] - axis_x, setup.tiling.y_cm[module] - axis_y)
    assert np.sum(distance > setup.tiling.spacing_cm) > 10


def test_pileup_increases_occupancy(files: dict[str, Path]) -> None:
    noise, pileup = read(files["noise"]), read(files["pileup"])
    assert pileup.n_rows > noise.n_rows
    slots = pileup.n_events * 14 * 7  # events x odd layers x wafers
    assert pileup.n_rows > 0.8 * slots
    assert (pileup.tc > 0).sum(axis=1).mean() > (noise.tc > 0).sum(axis=1).mean()
    assert np.all(pileup.cell_energy_gev_total > noise.cell_energy_gev_total)


def test_hd8_geometry(tmp_path: Path) -> None:
    config = TriggerDatasetConfig(geometry="hd8", energies_gev=(50,), events_per_energy=3)
    info = make_trigger_dataset(config, tmp_path / "hd.h5")
    data = read(tmp_path / "hd.h5")
    assert info["tc_lsb_mip"] == pytest.approx(8 / 45) and data.tc.shape[1] == 48
    assert info["detector"]["sensor"] == "hd8" and data.n_rows > 0


def test_tc_lsb() -> None:
    assert tc_lsb_mip("ld8") == pytest.approx(2 / 45)
    assert tc_lsb_mip("hd8") == pytest.approx(8 / 45)
    with pytest.raises(ConfigError, match="tb2018_6inch"):
        tc_lsb_mip("tb2018_6inch")


def test_split_by_event(files: dict[str, Path]) -> None:
    data = read(files["signal"])
    train, validation, test = split_rows(data.event, (0.8, 0.1, 0.1), seed=1)
    assert np.array_equal(
        np.sort(np.concatenate([train, validation, test])), np.arange(data.n_rows)
    )
    events = [set(data.event[part].tolist()) for part in (train, validation, test)]
    assert [len(e) for e in events] == [19, 3, 2]  # round(0.8 * 24), round(0.9 * 24) - 19, rest
    assert not (events[0] & events[1] or events[0] & events[2] or events[1] & events[2])
    again = split_rows(data.event, (0.8, 0.1, 0.1), seed=1)
    assert all(np.array_equal(a, b) for a, b in zip(again, (train, validation, test), strict=True))
    with pytest.raises(ConfigError, match="fractions"):
        split_rows(data.event, (0.5, 0.4))
    # the default is the study presets' 0.6 / 0.1 / 0.3: one rule for every study
    default = [set(data.event[part].tolist()) for part in split_rows(data.event, seed=1)]
    assert [len(e) for e in default] == [14, 3, 7]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("geometry", "tb2018"),
        ("geometry", "xl9"),
        ("layers", "even"),
        ("events_per_energy", 0),
        ("position_range_cm", -1.0),
        ("energies_gev", ()),
        ("angle_max_rad", 1.5),
        ("occupancy", "pu400"),
        ("pileup_mean_mip", 0.0),
        ("seed", -1),
        ("energies_gev", (1e9,)),
    ],
)
def test_bad_config(field: str, value: object) -> None:
    with pytest.raises(ConfigError, match=field):
        TriggerDatasetConfig(**{field: value})


def test_failure_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hgcal_ae.study import showers as dataset

    calls = []

    def failing(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("simulated crash")
        return real(*args, **kwargs)

    real = dataset.module_trigger_cells
    monkeypatch.setattr(dataset, "module_trigger_cells", failing)
    with pytest.raises(RuntimeError, match="simulated crash"):
        make_trigger_dataset(TriggerDatasetConfig(**SMALL), tmp_path / "t.h5", batch_events=4)
    assert list(tmp_path.iterdir()) == []


def test_progress_callback(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    config = TriggerDatasetConfig(**(SMALL | {"events_per_energy": 5}))
    make_trigger_dataset(
        config, tmp_path / "p.h5", batch_events=2, on_batch=lambda *a: seen.append(a)
    )
    assert seen == [(2, 10), (4, 10), (5, 10), (7, 10), (9, 10), (10, 10)]
