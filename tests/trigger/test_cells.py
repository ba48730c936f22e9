"""Tests of the cell -> trigger-cell map and of per-module TC arrays of events."""

from __future__ import annotations

import numpy as np
import pytest

from hgcal_ae.datasets.events import EventBatch
from hgcal_ae.detector.hexagons import in_wafer, sensor
from hgcal_ae.detector.setups import detector_setup
from hgcal_ae.detector.trigger_cells import N_TRIGGER_CELLS, trigger_cell_map
from hgcal_ae.errors import ConfigError, SchemaError
from hgcal_ae.trigger.cells import (
    cells_to_trigger_cells,
    module_sums,
    module_trigger_cells,
)

K = {"ld8": 2, "hd8": 3}
# TC areas of one rhombus in twelfths of a full cell, rows = TC row 0..3 (see cells.py)
AREA_TWELFTHS = {
    "ld8": [[47, 44, 44, 45], [52, 48, 48, 48], [52, 48, 48, 48], [52, 48, 48, 48]],
    "hd8": [[107, 102, 102, 103], [114, 108, 108, 108], [114, 108, 108, 108], [114, 108, 108, 108]],
}


@pytest.mark.parametrize("name", ["ld8", "hd8"])
def test_every_cell_in_one_tc_of_k2_cells(name: str) -> None:
    tc_map = trigger_cell_map(name)
    lattice = sensor(name)
    k = K[name]
    assert tc_map.cells_per_tc == k * k
    assert tc_map.tc_of_cell.shape == (lattice.n_cells,)
    assert np.array_equal(np.bincount(tc_map.tc_of_cell), np.full(N_TRIGGER_CELLS, k * k))
    # cells_of_tc is a partition of the cells, consistent with tc_of_cell
    assert np.array_equal(np.sort(tc_map.cells_of_tc.ravel()), np.arange(lattice.n_cells))
    assert np.all(tc_map.tc_of_cell[tc_map.cells_of_tc] == np.arange(48)[:, None])
    assert np.array_equal(16 * tc_map.tc_rhombus + 4 * tc_map.tc_row + tc_map.tc_col, np.arange(48))
    assert trigger_cell_map(name) is tc_map  # cached


@pytest.mark.parametrize("name", ["ld8", "hd8"])
def test_tc_areas(name: str) -> None:
    tc_map = trigger_cell_map(name)
    lattice = sensor(name)
    full = lattice.wafer_area_cm2 / lattice.n_cells
    twelfths = tc_map.tc_area_cm2.reshape(3, 4, 4) / full * 12
    expected = np.broadcast_to(np.array(AREA_TWELFTHS[name], dtype=float), (3, 4, 4))
    np.testing.assert_allclose(twelfths, expected, atol=1e-9)
    # inner TCs have exactly k^2 full cells, and the TCs tile the wafer
    inner = (tc_map.tc_row >= 1) & (tc_map.tc_col >= 1)
    np.testing.assert_allclose(tc_map.tc_area_cm2[inner], K[name] ** 2 * full)
    np.testing.assert_allclose(tc_map.tc_area_cm2.sum(), lattice.wafer_area_cm2)


@pytest.mark.parametrize("name", ["ld8", "hd8"])
def test_tc_centres_inside_and_cells_adjacent(name: str) -> None:
    tc_map = trigger_cell_map(name)
    lattice = sensor(name)
    assert in_wafer(lattice, tc_map.tc_x_cm, tc_map.tc_y_cm).all()
    tc = tc_map.tc_of_cell
    distance = np.hypot(lattice.x_cm - tc_map.tc_x_cm[tc], lattice.y_cm - tc_map.tc_y_cm[tc])
    assert distance.max() < 2 * lattice.pitch_cm
    # each rhombus is the +120 degree image of the previous one: centres rotate too
    angle = 2 * np.pi / 3
    x0, y0 = tc_map.tc_x_cm[:16], tc_map.tc_y_cm[:16]
    rotated_x = np.cos(angle) * x0 - np.sin(angle) * y0
    rotated_y = np.sin(angle) * x0 + np.cos(angle) * y0
    np.testing.assert_allclose(rotated_x, tc_map.tc_x_cm[16:32], atol=1e-9)
    np.testing.assert_allclose(rotated_y, tc_map.tc_y_cm[16:32], atol=1e-9)


def test_no_map_for_six_inch_sensor() -> None:
    with pytest.raises(ConfigError, match="only the 8-inch wafers"):
        trigger_cell_map("tb2018_6inch")


@pytest.mark.parametrize("name", ["ld8", "hd8"])
def test_cells_to_trigger_cells_matches_loop(name: str, rng: np.random.Generator) -> None:
    tc_map = trigger_cell_map(name)
    energy = rng.exponential(2.0, size=(3, 5, tc_map.n_cells))
    tc = cells_to_trigger_cells(energy, tc_map)
    assert tc.shape == (3, 5, 48)
    np.testing.assert_allclose(tc.sum(axis=-1), energy.sum(axis=-1))
    np.testing.assert_allclose(module_sums(tc), energy.sum(axis=-1))
    reference = np.zeros((3, 5, 48))
    for cell in range(tc_map.n_cells):  # slow reference
        reference[..., tc_map.tc_of_cell[cell]] += energy[..., cell]
    np.testing.assert_allclose(tc, reference)
    # integers become float64
    assert cells_to_trigger_cells(np.ones(tc_map.n_cells, dtype=int), tc_map).dtype == np.float64


def test_cells_to_trigger_cells_bad_shape() -> None:
    with pytest.raises(ConfigError, match=r"\(\.\.\., 192\).*got \(4, 432\)"):
        cells_to_trigger_cells(np.zeros((4, 432)), trigger_cell_map("ld8"))
    with pytest.raises(ConfigError, match=r"\(\.\.\., 48\).*got \(47,\)"):
        module_sums(np.zeros(47))


def _batch(n_cells: int) -> tuple[EventBatch, dict[tuple[int, int, int], np.ndarray]]:
    """Two events; hits on known cells of modules 0 and 3, layers 1 and 2; expected rows."""
    tc_map = trigger_cell_map("ld8")
    c0, c1 = tc_map.cells_of_tc[0, 0], tc_map.cells_of_tc[0, 3]  # both in TC 0
    c47 = tc_map.cells_of_tc[47, 1]
    # (event, layer, module, local cell, energy)
    hits = [
        (0, 1, 0, c0, 1.0),
        (0, 1, 0, c1, 2.0),
        (0, 1, 3, c47, 4.0),
        (0, 2, 0, c47, 8.0),
        (0, 2, 3, c0, -1.0),  # unknown cell: skipped
        (1, 1, 3, c0, 16.0),
        (1, 2, 0, c1, 32.0),
        (1, 2, 3, c47, 0.0),  # zero energy: no row
    ]
    counts = np.bincount([h[0] for h in hits], minlength=2)
    layer = [h[1] for h in hits]
    cell = [h[2] * n_cells + h[3] for h in hits]
    cell[4] = -1
    energy = [abs(h[4]) for h in hits]
    batch = EventBatch.from_counts(
        counts,
        event_id=[10, 11],
        true_energy_gev=[50.0, 80.0],
        layer=layer,
        x_cm=np.zeros(len(hits)),
        y_cm=np.zeros(len(hits)),
        z_cm=np.zeros(len(hits)),
        energy_mip=energy,
        cell=cell,
    )
    expected = {
        (0, 1, 0): {0: 3.0},
        (0, 1, 3): {47: 4.0},
        (0, 2, 0): {47: 8.0},
        (1, 1, 3): {0: 16.0},
        (1, 2, 0): {0: 32.0},
    }
    rows = {}
    for key, tcs in expected.items():
        row = np.zeros(48)
        for index, value in tcs.items():
            row[index] = value
        rows[key] = row
    return batch, rows


def _one_hit(layer: int, cell: int) -> EventBatch:
    """One event with one hit of 1 MIP."""
    zero = [0.0]
    return EventBatch.from_counts(
        [1],
        event_id=[0],
        true_energy_gev=[1.0],
        layer=[layer],
        x_cm=zero,
        y_cm=zero,
        z_cm=zero,
        energy_mip=[1.0],
        cell=[cell],
    )


@pytest.mark.parametrize(
    ("layers", "kept"),
    [(None, (1, 2)), ([1], (1,)), (range(1, 28, 2), (1,)), (range(2, 29, 2), (2,))],
)
def test_module_trigger_cells(layers: object, kept: tuple[int, ...]) -> None:
    setup = detector_setup("ld8")
    batch, rows = _batch(setup.lattice.n_cells)
    result = module_trigger_cells(batch, setup, layers=layers)
    expected = sorted(key for key in rows if key[1] in kept)
    got = list(
        zip(result.event.tolist(), result.layer.tolist(), result.module.tolist(), strict=True)
    )
    assert got == expected
    assert result.n_rows == len(expected)
    assert result.tc.shape == (len(expected), 48)
    assert result.tc.dtype == np.float64
    for key, tc in zip(got, result.tc, strict=True):
        np.testing.assert_array_equal(tc, rows[key])


def test_module_trigger_cells_layer_mask_and_errors() -> None:
    setup = detector_setup("ld8")
    batch, _ = _batch(setup.lattice.n_cells)
    odd = setup.stack.layer % 2 == 1
    assert np.all(module_trigger_cells(batch, setup, layers=odd).layer == 1)
    empty = module_trigger_cells(batch.select(np.zeros(2, dtype=bool)), setup)
    assert empty.tc.shape == (0, 48)
    with pytest.raises(ConfigError, match="layers"):
        module_trigger_cells(batch, setup, layers=[0, 29])
    with pytest.raises(ConfigError, match="only the 8-inch wafers"):
        module_trigger_cells(batch, detector_setup("tb2018"))
    with pytest.raises(SchemaError, match="'cell'"):
        module_trigger_cells(_one_hit(1, setup.cells_per_layer), setup)
    with pytest.raises(ConfigError, match=r"layer mask must have shape \(28,\), got \(3,\)"):
        module_trigger_cells(batch, setup, layers=np.ones(3, dtype=bool))
    with pytest.raises(SchemaError, match=r"'layer' runs 30\.\.30, expected 1\.\.28"):
        module_trigger_cells(_one_hit(30, 0), setup)
