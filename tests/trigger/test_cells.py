"""Tests of cells to trigger cells: TC sums and per-module TC rows of events."""

from __future__ import annotations

import numpy as np
import pytest

from hgcal_ae.datasets.event_batch import EventBatch
from hgcal_ae.detector.setups import detector_setup
from hgcal_ae.detector.trigger_cells import trigger_cell_map
from hgcal_ae.errors import ConfigError, SchemaError
from hgcal_ae.trigger.cells import (
    cells_to_trigger_cells,
    module_sums,
    module_trigger_cells,
)


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
