"""Tests of the PCA and of the latent-space projection plot."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from hgcal_ae.errors import ConfigError
from hgcal_ae.plots import latent_projection, pca_2d

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


def read_png(path: Path) -> np.ndarray:
    """Check ``path`` is a PNG file and return its pixels (height, width, channels)."""
    assert path.is_file()
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    return iio.imread(path)


def test_points_on_a_line_project_to_one_axis(rng: np.random.Generator) -> None:
    direction = np.array([1.0, -2.0, 0.5, 3.0, 0.0])
    t = rng.normal(size=200)
    points = np.array([4.0, 1.0, -1.0, 0.0, 2.0]) + t[:, None] * direction
    projected, ratio = pca_2d(points)
    assert projected.shape == (200, 2)
    np.testing.assert_allclose(ratio, [1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(projected[:, 1], 0.0, atol=1e-9)
    expected = (t - t.mean()) * np.linalg.norm(direction)
    np.testing.assert_allclose(np.abs(projected[:, 0]), np.abs(expected), rtol=1e-9)


def test_matches_covariance_eigenvectors_up_to_sign(rng: np.random.Generator) -> None:
    points = rng.normal(size=(500, 6)) @ rng.normal(size=(6, 6))
    projected, ratio = pca_2d(points)
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov(points, rowvar=False))
    order = np.argsort(eigenvalues)[::-1]
    reference = (points - points.mean(axis=0)) @ eigenvectors[:, order[:2]]
    for k in range(2):
        sign = np.sign(projected[:, k] @ reference[:, k])
        np.testing.assert_allclose(projected[:, k], sign * reference[:, k], atol=1e-9)
    np.testing.assert_allclose(ratio, eigenvalues[order[:2]] / eigenvalues.sum(), rtol=1e-9)


def test_pca_is_deterministic_and_sign_fixed(rng: np.random.Generator) -> None:
    points = rng.normal(size=(50, 4))
    first, _ = pca_2d(points)
    again, _ = pca_2d(points.copy())
    np.testing.assert_array_equal(first, again)
    identical, ratio = pca_2d(np.ones((5, 3)))
    np.testing.assert_array_equal(identical, 0.0)
    np.testing.assert_array_equal(ratio, 0.0)


@pytest.mark.parametrize("shape", [(10,), (10, 1), (1, 3)])
def test_pca_rejects_too_few_dimensions(shape: tuple[int, ...]) -> None:
    with pytest.raises(ConfigError, match=r"N >= 2 and D >= 2"):
        pca_2d(np.zeros(shape))


@pytest.mark.parametrize("dim", [1, 2, 8])
def test_projection_png(tmp_path: Path, rng: np.random.Generator, dim: int) -> None:
    labels = rng.integers(0, 10, size=3000)
    latents = rng.normal(size=(3000, dim)) + labels[:, None]
    out = latent_projection(latents, labels, title=f"latent dim {dim}", path=tmp_path / "z.png")
    assert out == tmp_path / "z.png"
    assert read_png(out).shape[:2] == (520, 640)
    assert [p.name for p in tmp_path.iterdir()] == ["z.png"]


def test_projection_draws_the_first_max_points(tmp_path: Path, rng: np.random.Generator) -> None:
    names = ["T-shirt", "Trouser", "Pullover", "Dress", "Coat"]
    labels = rng.integers(0, 5, size=20_000)
    latents = rng.normal(size=(20_000, 3))
    full = latent_projection(
        latents, labels, title="F", path=tmp_path / "a.png", class_names=names, max_points=500
    )
    first = latent_projection(
        latents[:500], labels[:500], title="F", path=tmp_path / "b.png", class_names=names
    )
    assert read_png(full).shape[:2] == (520, 640)
    assert full.read_bytes() == first.read_bytes()


@pytest.mark.parametrize(
    ("latents", "labels", "names", "match"),
    [
        (np.zeros((5, 2)), np.zeros(4, dtype=int), None, r"got \(5, 2\) and \(4,\)"),
        (np.zeros((0, 2)), np.zeros(0, dtype=int), None, r"N, D >= 1"),
        (np.zeros((3, 2)), np.array([0.0, 1.0, 2.0]), None, "integer class labels"),
        (np.zeros((3, 2)), np.array([0, -1, 2]), None, "non-negative integer"),
        (np.zeros((3, 2)), np.array([0, 1, 2]), ["a", "b"], r"label up to 2, got 2 names"),
    ],
)
def test_projection_rejects_bad_input(
    tmp_path: Path, latents: np.ndarray, labels: np.ndarray, names: list[str] | None, match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        latent_projection(latents, labels, title="t", path=tmp_path / "z.png", class_names=names)
    assert list(tmp_path.iterdir()) == []
