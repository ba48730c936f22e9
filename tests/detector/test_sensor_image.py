"""Tests of the sensor image layout: every cell in one pixel, exact round trips."""

from __future__ import annotations

import numpy as np
import pytest

from hgcal_ae.detector.hexagons import SENSOR_NAMES, neighbours, sensor
from hgcal_ae.detector.sensor_image import sensor_image
from hgcal_ae.errors import ConfigError


@pytest.mark.parametrize("name", SENSOR_NAMES)
def test_every_cell_in_exactly_one_pixel(name: str) -> None:
    layout = sensor_image(name)
    lattice = sensor(name)
    assert layout.n_cells == lattice.n_cells
    assert np.unique(layout.pixel).size == lattice.n_cells  # no two cells share a pixel
    assert layout.mask.sum() == lattice.n_cells
    assert layout.mask[layout.row, layout.col].all()


def test_beam_test_sensor_is_13_by_11() -> None:
    layout = sensor_image("tb2018_6inch")
    assert (layout.height, layout.width) == (13, 11)
    assert layout.mask.sum(axis=1).tolist() == [3, 6, 9, 10, 11, 10, 11, 10, 11, 10, 9, 6, 3]


def test_round_trip_is_exact_over_events_and_layers() -> None:
    layout = sensor_image("tb2018_6inch")
    rng = np.random.default_rng(3)
    cells = rng.exponential(size=(5, 28, layout.n_cells)).astype(np.float32)
    image = layout.to_image(cells)
    assert image.shape == (5, 28, 13, 11) and image.dtype == np.float32
    assert np.array_equal(layout.to_cells(image), cells)
    assert image.sum() == pytest.approx(cells.sum(), rel=1e-6)
    assert not image[..., ~layout.mask].any()


def test_pixel_follows_position() -> None:
    """Rows are y, columns x (to half a pixel): neighbours lie in the 3 x 3 block."""
    lattice, layout = sensor("tb2018_6inch"), sensor_image("tb2018_6inch")
    assert np.array_equal(
        np.argsort(layout.row, kind="stable"), np.argsort(lattice.y_cm, kind="stable")
    )
    x_pix = lattice.x_cm / lattice.pitch_cm - layout.col
    assert np.ptp(x_pix[layout.row % 2 == 0]) < 1e-9 and np.ptp(x_pix[layout.row % 2 == 1]) < 1e-9
    nb = neighbours(lattice)
    has = nb >= 0
    cells = np.broadcast_to(np.arange(lattice.n_cells)[:, None], nb.shape)
    assert np.abs(layout.row[nb[has]] - layout.row[cells[has]]).max() == 1
    assert np.abs(layout.col[nb[has]] - layout.col[cells[has]]).max() == 1


def test_wrong_shapes_are_refused() -> None:
    layout = sensor_image("tb2018_6inch")
    with pytest.raises(
        ConfigError, match=r"cells of sensor 'tb2018_6inch' must end in shape \(109,\)"
    ):
        layout.to_image(np.zeros((2, 48)))
    with pytest.raises(ConfigError, match=r"image .* must end in shape \(13, 11\)"):
        layout.to_cells(np.zeros(11))
    with pytest.raises(ConfigError, match="unknown sensor"):
        sensor_image("ld9")
