"""Tests of the cost curve and the latent-dimension scan plot."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from hgcal_ae.errors import ConfigError
from hgcal_ae.plots import cost_curve, latent_scan_plot

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

SCAN = {
    "dense": [(16, 0.100), (2, 0.200), (4, 0.150), (8, 0.110), (32, 0.098), (64, 0.097)],
    "conv": [(2, 0.180), (4, 0.120), (8, 0.095), (16, 0.090), (32, 0.089)],
}


def read_png(path: Path) -> np.ndarray:
    """Check ``path`` is a PNG file and return its pixels (height, width, channels)."""
    assert path.is_file()
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    return iio.imread(path)


def test_cost_curve_png(tmp_path: Path) -> None:
    out = cost_curve(
        np.arange(1, 6),
        [0.30, 0.20, 0.15, 0.12, 0.11],
        [0.32, 0.22, 0.17, 0.15, 0.14],
        loss_name="BCE",
        title="dense AE, latent dim 16",
        path=tmp_path / "cost.png",
    )
    assert out == tmp_path / "cost.png"
    assert read_png(out).shape[:2] == (440, 640)
    assert not list(tmp_path.glob(".tmp-*"))


def test_cost_curve_single_epoch(tmp_path: Path) -> None:
    read_png(cost_curve([1], [0.3], [0.31], loss_name="MSE", title="t", path=tmp_path / "c.png"))


@pytest.mark.parametrize(("epochs", "train", "val"), [([1, 2], [0.3], [0.3, 0.2]), ([], [], [])])
def test_cost_curve_rejects_bad_lengths(
    tmp_path: Path, epochs: list[int], train: list[float], val: list[float]
) -> None:
    with pytest.raises(ConfigError, match="same non-zero length"):
        cost_curve(epochs, train, val, loss_name="BCE", title="t", path=tmp_path / "c.png")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("smallest", [None, {"dense": 16, "conv": 8}])
def test_latent_scan_png(tmp_path: Path, smallest: dict[str, int] | None) -> None:
    out = latent_scan_plot(
        SCAN, tolerance=0.05, loss_name="BCE", path=tmp_path / "scan.png", smallest=smallest
    )
    assert read_png(out).shape[:2] == (440, 640)
    assert [p.name for p in tmp_path.iterdir()] == ["scan.png"]


@pytest.mark.parametrize(
    ("results", "tolerance", "smallest", "match"),
    [
        ({}, 0.05, None, "at least one architecture"),
        ({"dense": []}, 0.05, None, "at least one .* pair for 'dense'"),
        ({"dense": [(0, 0.1), (2, 0.09)]}, 0.05, None, "positive latent dimensions"),
        (SCAN, -0.1, None, r"tolerance >= 0, got -0\.1"),
        (SCAN, 0.05, {"vae": 4}, r"unknown architectures \['vae'\]"),
        (SCAN, 0.05, {"conv": 64}, r"latent dim 64 of 'conv' is not among"),
    ],
)
def test_latent_scan_rejects_bad_input(
    tmp_path: Path,
    results: dict[str, list[tuple[int, float]]],
    tolerance: float,
    smallest: dict[str, int] | None,
    match: str,
) -> None:
    with pytest.raises(ConfigError, match=match):
        latent_scan_plot(
            results,
            tolerance=tolerance,
            loss_name="BCE",
            path=tmp_path / "s.png",
            smallest=smallest,
        )
    assert list(tmp_path.iterdir()) == []
