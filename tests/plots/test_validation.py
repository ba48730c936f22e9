"""Tests of the validation plots: each is saved atomically as a PNG of the expected size."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from hgcal_ae.errors import ConfigError
from hgcal_ae.metrics.fits import (
    FitResult,
    critical_energy_fit,
    linear_fit,
    resolution_fit,
    shower_max_fit,
)
from hgcal_ae.plots.validation import (
    _pm,
    containment_plot,
    linearity_plot,
    longitudinal_profiles_plot,
    multiplicity_plot,
    resolution_plot,
    shower_max_plot,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ENERGY = np.array([20.0, 30.0, 50.0, 80.0, 100.0, 120.0, 150.0, 200.0, 250.0, 300.0])


def read_png(path: Path, size: tuple[int, int]) -> np.ndarray:
    """Check ``path`` is a PNG of ``size`` = (height, width) pixels, nothing temporary left."""
    assert path.is_file()
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    pixels = iio.imread(path)
    assert pixels.shape[:2] == size
    assert not list(path.parent.glob(".tmp-*"))
    return pixels


def test_resolution_plot(tmp_path: Path) -> None:
    rel = np.sqrt(0.213**2 / ENERGY + 0.006**2)
    err = 0.02 * rel
    fit = resolution_fit(ENERGY, rel, err)
    out = resolution_plot(ENERGY, rel, err, fit, tmp_path / "resolution.png", label="GFlash")
    assert out == tmp_path / "resolution.png"
    pixels = read_png(out, (460, 640))
    assert pixels[..., :3].std() > 10  # not blank


def test_linearity_plot(tmp_path: Path) -> None:
    response = 1.02 * ENERGY - 0.3 + 0.002 * ENERGY * np.sin(ENERGY)
    err = 0.003 * ENERGY
    fit = linear_fit(ENERGY, response, err)
    out = linearity_plot(ENERGY, response, err, fit, tmp_path / "sub" / "linearity.png")
    read_png(out, (600, 640))


def test_longitudinal_profiles_plot(tmp_path: Path, rng: np.random.Generator) -> None:
    x0 = np.linspace(0.94, 27.7, 28)
    profiles = {
        20.0: np.exp(-0.5 * ((x0 - 6) / 3) ** 2),
        100.0: rng.exponential(1.0, (50, 28)) * np.exp(-0.5 * ((x0 - 8) / 3) ** 2),
    }
    read_png(longitudinal_profiles_plot(x0, profiles, tmp_path / "profiles.png"), (460, 640))
    out = longitudinal_profiles_plot(x0, profiles, tmp_path / "gev.png", normalise=False)
    read_png(out, (460, 640))


@pytest.mark.parametrize("kind", ["line", "critical_energy"])
def test_shower_max_plot(tmp_path: Path, kind: str) -> None:
    ln_e = np.log(ENERGY)
    t_max = ln_e - np.log(0.0117) - 0.5
    t_err = np.full(ENERGY.size, 0.1)
    fit = (
        shower_max_fit(ln_e, t_max, t_err)
        if kind == "line"
        else critical_energy_fit(ln_e, t_max, t_err)
    )
    read_png(shower_max_plot(ENERGY, t_max, t_err, fit, tmp_path / f"{kind}.png"), (460, 640))


def test_containment_plot(tmp_path: Path) -> None:
    r90 = 3.0 - 0.1 * np.log(ENERGY)
    read_png(
        containment_plot(ENERGY, r90, np.full(ENERGY.size, 0.05), tmp_path / "r90.png"), (460, 640)
    )


def test_multiplicity_plot(tmp_path: Path, rng: np.random.Generator) -> None:
    mult = {e: rng.poisson(5 * e, 200) for e in (20.0, 100.0, 300.0)}
    read_png(multiplicity_plot(mult, tmp_path / "multiplicity.png"), (460, 640))


def test_plots_reject_bad_input(tmp_path: Path) -> None:
    line = FitResult(values={"a": 1.0, "b": 0.0}, errors={"a": 0.1, "b": 0.1}, chi2=1.0, ndf=1)
    with pytest.raises(ConfigError, match="same non-zero length"):
        resolution_plot([20, 30], [0.05], [0.01], line, tmp_path / "r.png")
    with pytest.raises(ConfigError, match="resolution_fit result"):
        resolution_plot([20, 30], [0.05, 0.04], [0.01, 0.01], line, tmp_path / "r.png")
    with pytest.raises(ConfigError, match="shower_max_fit or critical_energy_fit"):
        shower_max_plot([20, 30], [5, 6], [0.1, 0.1], line, tmp_path / "t.png")
    with pytest.raises(ConfigError, match="profile of 3 layers"):
        longitudinal_profiles_plot([1, 2, 3], {20.0: np.ones(4)}, tmp_path / "p.png")
    with pytest.raises(ConfigError, match="at least one event"):
        multiplicity_plot({}, tmp_path / "m.png")
    assert not list(tmp_path.iterdir())


def test_value_with_error_formatting() -> None:
    assert _pm(0.2134, 0.0041, 100) == "21.34 ± 0.41"
    assert _pm(0.006, 0.0011, 100) == "0.60 ± 0.11"
    assert _pm(1.0, 0.0) == "1"
