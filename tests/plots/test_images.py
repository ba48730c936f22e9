"""Tests of the reconstruction grid and of atomic figure saving."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from hgcal_ae.errors import ConfigError
from hgcal_ae.plots import reconstruction_grid, save_figure
from hgcal_ae.plots.style import HOUSE_RC, new_figure, use_style

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def read_png(path: Path) -> np.ndarray:
    """Check ``path`` is a PNG file and return its pixels (height, width, channels)."""
    assert path.is_file()
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    return iio.imread(path)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240607)


def test_grid_is_a_png_of_fixed_size(tmp_path: Path, rng: np.random.Generator) -> None:
    images = rng.random((16, 28, 28))
    out = reconstruction_grid(
        images, images**2, title="dense AE — epoch 1", path=tmp_path / "g.png"
    )
    assert out == tmp_path / "g.png"
    pixels = read_png(out)
    height, width, channels = pixels.shape
    assert channels in (3, 4)
    assert width > 4 * height  # one wide band: an input row above a reconstruction row


def test_grids_of_other_data_and_titles_have_identical_pixel_shape(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    shapes = set()
    for epoch, title in enumerate(["e", "dense AE, latent dim 28 — epoch 3 — val BCE 0.1042"]):
        inputs, outputs = rng.random((8, 784)), rng.random((8, 28, 28)) * epoch
        path = reconstruction_grid(inputs, outputs, title=title, path=tmp_path / f"{epoch}.png")
        shapes.add(read_png(path).shape)
    assert len(shapes) == 1


def test_more_images_wrap_into_more_rows(tmp_path: Path, rng: np.random.Generator) -> None:
    shapes = {}
    for n in (16, 40):
        data = rng.random((n, 784))
        path = reconstruction_grid(data, data, title=str(n), path=tmp_path / f"{n}.png")
        shapes[n] = read_png(path).shape
    small, large = shapes[16], shapes[40]
    assert large[1] == small[1]
    assert large[0] > 2 * small[0]


@pytest.mark.parametrize("shape", [(3, 8, 8), (3, 64), (3, 1, 28, 28)])
def test_other_square_sizes_and_layouts(
    tmp_path: Path, rng: np.random.Generator, shape: tuple[int, ...]
) -> None:
    data = rng.random(shape)
    read_png(reconstruction_grid(data, data, title="t", path=tmp_path / "x.png"))


@pytest.mark.parametrize(
    ("inputs", "outputs", "match"),
    [
        ((4, 28, 28), (5, 28, 28), r"same shape, got \(4, 28, 28\) and \(5, 28, 28\)"),
        ((4, 783), (4, 783), r"expected images of shape .* got \(4, 783\)"),
        ((4, 28, 20), (4, 28, 20), r"expected images of shape"),
        ((0, 784), (0, 784), r"at least one image"),
    ],
)
def test_bad_shapes_raise_config_error(
    tmp_path: Path, inputs: tuple[int, ...], outputs: tuple[int, ...], match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        reconstruction_grid(np.zeros(inputs), np.zeros(outputs), title="t", path=tmp_path / "x.png")
    assert list(tmp_path.iterdir()) == []


def test_save_figure_is_atomic_and_releases_the_figure(tmp_path: Path) -> None:
    fig = new_figure((3.0, 2.0), dpi=50)
    fig.add_subplot().plot([0, 1], [1, 0])
    out = save_figure(fig, tmp_path / "sub" / "f.png")
    assert read_png(out).shape[:2] == (100, 150)
    assert fig.axes == []
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["f.png"]


def test_save_figure_dpi_and_failure_leave_no_temporary_file(tmp_path: Path) -> None:
    fig = Figure(figsize=(2.0, 1.0))
    assert read_png(save_figure(fig, tmp_path / "f.png", dpi=80)).shape[:2] == (80, 160)
    with pytest.raises(ValueError, match="not supported"):
        save_figure(Figure(), tmp_path / "f.nosuchformat")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.png"]
    assert not list(tmp_path.glob(".tmp-*"))


def test_use_style_sets_house_rc_but_not_the_backend() -> None:
    with matplotlib.rc_context():
        backend = matplotlib.rcParams["backend"]
        use_style()
        assert matplotlib.rcParams["axes.grid"] is True
        assert matplotlib.rcParams["font.size"] == HOUSE_RC["font.size"]
        assert matplotlib.rcParams["backend"] == backend
