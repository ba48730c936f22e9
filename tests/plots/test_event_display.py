"""Tests of the hexagonal event display on toy showers in a 7-wafer tiling."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from hgcal_ae.detector import hex_tiling, sensor
from hgcal_ae.errors import ConfigError
from hgcal_ae.plots.event_display import hexagonal_event_display, layer_display

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def read_png(path: Path) -> np.ndarray:
    assert path.is_file()
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert not list(path.parent.glob(".tmp-*"))
    return iio.imread(path)


def toy_event(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(layer, global cell, energy [MIP]) of a round shower on the border of wafers 0 and 1."""
    lattice = sensor(name)
    tiling = hex_tiling(lattice, rings=1)
    gx = (tiling.x_cm[:, None] + lattice.x_cm[None, :]).ravel()
    gy = (tiling.y_cm[:, None] + lattice.y_cm[None, :]).ravel()
    cx, cy = 0.5 * tiling.x_cm[1], 0.5 * tiling.y_cm[1]
    layers, cells, energies = [], [], []
    for layer in range(1, 29):  # builds the toy input; the display itself has no loop
        r = np.hypot(gx - cx, gy - cy)
        near = np.flatnonzero(r < 2.0 + 0.15 * layer)
        layers.append(np.full(near.size, layer))
        cells.append(near)
        energies.append(300.0 * np.exp(-r[near] / 1.2 - ((layer - 9) / 7.0) ** 2))
    return np.concatenate(layers), np.concatenate(cells), np.concatenate(energies)


@pytest.mark.parametrize("name", ["ld8", "tb2018_6inch"])
def test_event_display_png(tmp_path: Path, name: str) -> None:
    lattice = sensor(name)
    tiling = hex_tiling(lattice, rings=1)
    layer, cell, energy = toy_event(name)
    assert np.any(cell // lattice.n_cells == 1) and np.any(cell // lattice.n_cells != 1)
    # (no wall-time bound here: on a shared 2-core machine it measured load, not the code)
    out = hexagonal_event_display(
        lattice, tiling, layer, cell, energy, tmp_path / f"{name}.png", title=f"toy e+ on {name}"
    )
    pixels = read_png(out)
    assert pixels.shape[:2] == (910, 1520)  # 7 x 4 panels: (2.0 * 7 + 1.2) x (2.1 * 4 + 0.7) in
    assert pixels[..., :3].std() > 10


def test_event_display_few_layers_and_no_hits(tmp_path: Path) -> None:
    lattice = sensor("ld8")
    tiling = hex_tiling(lattice, rings=1)
    layer, cell, energy = toy_event("ld8")
    out = hexagonal_event_display(
        lattice,
        tiling,
        layer,
        cell,
        energy,
        tmp_path / "odd.png",
        title="odd",
        layers=range(1, 29, 2),
    )
    assert read_png(out).shape[:2] == (490, 1520)  # 14 layers: 2 rows of 7
    empty = hexagonal_event_display(
        lattice,
        tiling,
        layer,
        cell,
        0.1 * np.ones(cell.size),
        tmp_path / "empty.png",
        title="noise",
        layers=[1, 2],
    )
    read_png(empty)


def test_layer_display(tmp_path: Path) -> None:
    lattice = sensor("ld8")
    tiling = hex_tiling(lattice, rings=1)
    layer, cell, energy = toy_event("ld8")
    seven = layer == 7
    out = layer_display(
        lattice, tiling, cell[seven], energy[seven], tmp_path / "l7.png", title="layer 7"
    )
    assert read_png(out).shape[:2] == (540, 640)


def test_event_display_rejects_bad_input(tmp_path: Path) -> None:
    lattice = sensor("ld8")
    tiling = hex_tiling(lattice, rings=1)
    n = lattice.n_cells * tiling.n_modules
    with pytest.raises(ConfigError, match=r"global cell ids .* \[0, 1344\)"):
        hexagonal_event_display(lattice, tiling, [1], [n], [5.0], tmp_path / "x.png", title="t")
    with pytest.raises(ConfigError, match="same length"):
        hexagonal_event_display(lattice, tiling, [1, 2], [3], [5.0], tmp_path / "x.png", title="t")
    with pytest.raises(ConfigError, match="not 'ld8'"):
        other = hex_tiling(sensor("hd8"), rings=1)
        hexagonal_event_display(lattice, other, [1], [3], [5.0], tmp_path / "x.png", title="t")
    with pytest.raises(ConfigError, match="threshold > 0 MIP"):
        hexagonal_event_display(
            lattice, tiling, [1], [3], [5.0], tmp_path / "x.png", title="t", threshold_mip=0
        )
    assert not list(tmp_path.iterdir())
