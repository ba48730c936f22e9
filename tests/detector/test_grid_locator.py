from __future__ import annotations

import numpy as np
import pytest

from hgcal_ae.detector.grid_locator import GridLocator, locate_global
from hgcal_ae.detector.setups import detector_setup


@pytest.mark.parametrize("geometry", ["tb2018", "tb2018-tiled", "ld8"])
def test_pixel_table_equals_exact_lookup(geometry, rng):
    setup = detector_setup(geometry)
    locator = GridLocator.build(setup.tiling, setup.lattice)
    span = 1.2 * (np.abs(setup.tiling.x_cm).max() + setup.lattice.wafer_flat_to_flat_cm)
    # uniform points over (and beyond) the layer, plus shower-like points around a cell corner
    x = np.concatenate([rng.uniform(-span, span, 200_000), rng.normal(0.3, 2.0, 100_000)])
    y = np.concatenate([rng.uniform(-span, span, 200_000), rng.normal(-0.2, 2.0, 100_000)])
    expected = locate_global(setup.tiling, setup.lattice, x, y)
    np.testing.assert_array_equal(locator(x, y), expected)
    np.testing.assert_array_equal(locator(x.astype(np.float32), y.astype(np.float32)),
                                  locate_global(setup.tiling, setup.lattice, x.astype(np.float32), y.astype(np.float32)))  # fmt: skip
    assert (expected >= 0).any() and (expected == -1).any()


def test_non_finite_points_are_outside():
    setup = detector_setup("tb2018")
    locator = GridLocator.build(setup.tiling, setup.lattice)
    out = locator(np.array([np.nan, np.inf, 0.0]), np.array([0.0, 0.0, -np.inf]))
    assert out.tolist() == [-1, -1, -1]


def test_global_ids_cover_every_cell_of_every_wafer():
    setup = detector_setup("tb2018-tiled")
    cx, cy = setup.cell_centres()
    locator = GridLocator.build(setup.tiling, setup.lattice)
    np.testing.assert_array_equal(locator(cx, cy), np.arange(setup.cells_per_layer))
