"""Validation plots of simulated (or beam-test) showers against the positron analysis.

Public API (each saves atomically and returns the path)::

    resolution_plot(energy, rel_sigma, rel_err, fit, path, *, label="simulation")
    linearity_plot(energy, mean_response, err, fit, path, *, unit="GeV", label="simulation")
    longitudinal_profiles_plot(x0, profiles, path, *, normalise=True, unit="GeV")
    shower_max_plot(energy, t_max, t_err, fit, path, *, label="simulation")
    containment_plot(energy, radius, radius_err, path, *, fraction=0.9, label="simulation")
    multiplicity_plot(multiplicities, path)

The fits come from :mod:`hgcal_ae.metrics.fits`; their values and errors are written in the
legends.  Quantities follow the CE-E positron analysis (reference/physics.md section 2.3).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes

from hgcal_ae.errors import ConfigError
from hgcal_ae.metrics.fits import FitResult
from hgcal_ae.plots.style import house_style, new_figure, one_axes_figure, save_figure

__all__ = [
    "containment_plot",
    "linearity_plot",
    "longitudinal_profiles_plot",
    "multiplicity_plot",
    "resolution_plot",
    "shower_max_plot",
]

FloatArray = npt.NDArray[np.float64]
PathLike = str | os.PathLike[str]


def _columns(**arrays: npt.ArrayLike) -> list[FloatArray]:
    out = [np.asarray(a, dtype=np.float64).ravel() for a in arrays.values()]
    sizes = [a.size for a in out]
    if len(set(sizes)) != 1 or sizes[0] == 0:
        got = ", ".join(f"{n}={s}" for n, s in zip(arrays, sizes, strict=True))
        msg = f"expected {', '.join(arrays)} of the same non-zero length, got {got}"
        raise ConfigError(msg)
    return out


def _need(fit: FitResult, *names: str, what: str) -> None:
    if not set(names) <= fit.values.keys():
        msg = f"expected a {what} result with parameters {list(names)}, got {sorted(fit.values)}"
        raise ConfigError(msg)


def _pm(value: float, error: float, scale: float = 1.0) -> str:
    """``value ± error`` with the error rounded to two significant digits."""
    v, e = value * scale, error * scale
    if not (math.isfinite(e) and e > 0):
        return f"{v:.3g}"
    digits = max(0, 1 - math.floor(math.log10(e)))
    return f"{v:.{digits}f} ± {e:.{digits}f}"


def _points_and_line(
    x: FloatArray,
    y: FloatArray,
    err: FloatArray,
    label: str,
    line: tuple[FloatArray, FloatArray, str],
) -> Callable[[Axes], None]:
    """Draw measured points with error bars, then a fitted line ``(x, y, label)``."""

    def draw(ax: Axes) -> None:
        ax.errorbar(x, y, yerr=err, fmt="o", capsize=2, label=label)
        ax.plot(line[0], line[1], label=line[2])

    return draw


def _energy_grid(energy: FloatArray) -> FloatArray:
    lo, hi = float(energy.min()), float(energy.max())
    return np.geomspace(lo / 1.3, hi * 1.15, 200) if lo > 0 else np.linspace(lo, hi, 200)


def resolution_plot(
    energy: npt.ArrayLike,
    rel_sigma: npt.ArrayLike,
    rel_err: npt.ArrayLike,
    fit: FitResult,
    path: PathLike,
    *,
    label: str = "simulation",
) -> Path:
    """Relative energy resolution sigma_E/E [%] against beam energy with the S/sqrt(E) (+) C fit.

    Parameters
    ----------
    energy
        Beam energies [GeV].
    rel_sigma, rel_err
        sigma_E/<E> and its error per energy, as fractions (plotted in %).
    fit
        :func:`hgcal_ae.metrics.fits.resolution_fit` result (``"S"``, ``"C"`` as fractions).
    path
        Destination image, written atomically.
    label
        Legend label of the points.

    Raises
    ------
    ConfigError
        On arrays of different lengths or a fit without S and C.
    """
    e, r, s = _columns(energy=energy, rel_sigma=rel_sigma, rel_err=rel_err)
    _need(fit, "S", "C", what="resolution_fit")
    S, C = fit.values["S"], fit.values["C"]
    grid = _energy_grid(e)
    curve = np.sqrt(S * S / grid + C * C)
    text = (
        f"S = {_pm(S, fit.errors.get('S', math.nan), 100)} %·√GeV, "
        f"C = {_pm(C, fit.errors.get('C', math.nan), 100)} %"
    )
    return one_axes_figure(
        path,
        _points_and_line(e, 100 * r, 100 * s, label, (grid, 100 * curve, f"S/√E ⊕ C: {text}")),
        xlabel="beam energy [GeV]",
        ylabel="σ$_E$ / E [%]",
        title="energy resolution",
        from_zero=True,
        legend={"title": f"χ²/ndf = {fit.chi2:.1f}/{fit.ndf}" if math.isfinite(fit.chi2) else None},
    )


def linearity_plot(
    energy: npt.ArrayLike,
    mean_response: npt.ArrayLike,
    err: npt.ArrayLike,
    fit: FitResult,
    path: PathLike,
    *,
    unit: str = "GeV",
    label: str = "simulation",
) -> Path:
    """Reconstructed against beam energy with the line a E + b, and residuals in % below.

    Parameters
    ----------
    energy
        Beam energies [GeV].
    mean_response, err
        Mean reconstructed energy per beam energy and its error, in ``unit``.
    fit
        :func:`hgcal_ae.metrics.fits.linear_fit` result (``"a"``, ``"b"``).
    unit
        Unit of the response for the axis label (``"GeV"``, ``"MIP"``).
    path, label
        As in :func:`resolution_plot`.

    Raises
    ------
    ConfigError
        On arrays of different lengths or a fit without a and b.
    """
    e, y, s = _columns(energy=energy, mean_response=mean_response, err=err)
    _need(fit, "a", "b", what="linear_fit")
    a, b = fit.values["a"], fit.values["b"]
    grid = np.linspace(0.0, float(e.max()) * 1.05, 100)
    line = a * e + b
    with np.errstate(divide="ignore", invalid="ignore"):
        resid, resid_err = 100 * (y / line - 1), 100 * s / np.abs(line)
    with house_style():
        fig = new_figure((6.4, 6.0))
        top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
        top.errorbar(e, y, yerr=s, fmt="o", capsize=2, label=label)
        fit_label = (
            f"a E + b: a = {_pm(a, fit.errors.get('a', math.nan))} {unit}/GeV, "
            f"b = {_pm(b, fit.errors.get('b', math.nan))} {unit}"
        )
        top.plot(grid, a * grid + b, label=fit_label)
        top.set_ylabel(f"reconstructed energy [{unit}]")
        top.set_title("linearity")
        top.legend()
        bottom.axhspan(-1.0, 1.0, color="0.85", alpha=0.7, label="±1 %")
        bottom.axhline(0.0, color="0.3", linewidth=1)
        bottom.errorbar(e, resid, yerr=resid_err, fmt="o", capsize=2)
        bottom.set_xlabel("beam energy [GeV]")
        bottom.set_ylabel("residual [%]")
        span = float(np.nanmax(np.abs(resid) + resid_err)) if np.any(np.isfinite(resid)) else 1.0
        limit = max(2.0, 1.2 * span) if math.isfinite(span) else 2.0
        bottom.set_ylim(-limit, limit)
        bottom.legend(loc="upper right")
    return save_figure(fig, path)


def longitudinal_profiles_plot(
    x0: npt.ArrayLike,
    profiles: Mapping[float, npt.ArrayLike],
    path: PathLike,
    *,
    normalise: bool = True,
    unit: str = "GeV",
) -> Path:
    """Mean energy per layer against depth [X0], one curve per beam energy.

    Parameters
    ----------
    x0
        Depth of each layer [X0], shape ``(n_layers,)``.
    profiles
        Beam energy [GeV] -> energy per layer, shape ``(n_layers,)`` (a mean profile) or
        ``(n_events, n_layers)`` (averaged over events here).
    path
        Destination image, written atomically.
    normalise
        Plot the fraction of the total energy per layer (default) instead of energy in ``unit``.
    unit
        Energy unit of the profiles, for the axis label when not normalised.

    Raises
    ------
    ConfigError
        If ``profiles`` is empty or a profile does not have one entry per layer.
    """
    t = np.asarray(x0, dtype=np.float64).ravel()
    if not profiles:
        msg = "expected at least one longitudinal profile, got none"
        raise ConfigError(msg)
    curves: dict[float, FloatArray] = {}
    for energy in sorted(profiles):
        p = np.asarray(profiles[energy], dtype=np.float64)
        mean = p.mean(axis=0) if p.ndim == 2 and p.shape[0] > 0 else p
        if mean.shape != t.shape:
            msg = f"expected a profile of {t.size} layers for {energy} GeV, got shape {p.shape}"
            raise ConfigError(msg)
        if normalise:
            total = mean.sum()
            mean = mean / total if total > 0 else np.zeros_like(mean)
        curves[energy] = mean

    def draw(ax: Axes) -> None:
        for energy, mean in curves.items():
            ax.plot(t, mean, marker="o", markersize=3, label=f"{energy:g} GeV")

    return one_axes_figure(
        path,
        draw,
        xlabel="depth [X$_0$]",
        ylabel="energy fraction per layer" if normalise else f"mean energy per layer [{unit}]",
        title="longitudinal shower profiles",
        from_zero=True,
        legend={"ncols": 2},
    )


def shower_max_plot(
    energy: npt.ArrayLike,
    t_max: npt.ArrayLike,
    t_err: npt.ArrayLike,
    fit: FitResult,
    path: PathLike,
    *,
    label: str = "simulation",
) -> Path:
    """Depth of the shower maximum [X0] against ln(E/GeV), with the fitted line.

    Parameters
    ----------
    energy
        Beam energies [GeV] (> 0); the x axis is ln(E/GeV).
    t_max, t_err
        Shower-maximum depth and its error per energy [X0].
    fit
        :func:`~hgcal_ae.metrics.fits.shower_max_fit` result (``"slope"``, ``"offset"``) or
        :func:`~hgcal_ae.metrics.fits.critical_energy_fit` result (``"E_c"``, fixed offset).
    path, label
        As in :func:`resolution_plot`.

    Raises
    ------
    ConfigError
        On arrays of different lengths, energies <= 0 or an unknown kind of fit.
    """
    e, t, s = _columns(energy=energy, t_max=t_max, t_err=t_err)
    if np.any(~(e > 0)):
        msg = f"expected beam energies > 0 GeV, got minimum {float(e.min())!r}"
        raise ConfigError(msg)
    x = np.log(e)
    grid = np.linspace(float(x.min()) - 0.2, float(x.max()) + 0.2, 50)
    if {"slope", "offset"} <= fit.values.keys():
        line = fit.values["slope"] * grid + fit.values["offset"]
        fit_label = (
            f"fit: slope = {_pm(fit.values['slope'], fit.errors.get('slope', math.nan))}, "
            f"offset = {_pm(fit.values['offset'], fit.errors.get('offset', math.nan))} X$_0$"
        )
    elif "E_c" in fit.values:
        offset = fit.fixed.get("offset", -0.5)
        line = grid - math.log(fit.values["E_c"]) + offset
        fit_label = (
            f"ln(E/E$_c$) {offset:+g}: "
            f"E$_c$ = {_pm(fit.values['E_c'], fit.errors.get('E_c', math.nan), 1000)} MeV"
        )
    else:
        msg = f"expected a shower_max_fit or critical_energy_fit result, got parameters {sorted(fit.values)}"
        raise ConfigError(msg)
    return one_axes_figure(
        path,
        _points_and_line(x, t, s, label, (grid, line, fit_label)),
        xlabel="ln(E / GeV)",
        ylabel="t$_{max}$ [X$_0$]",
        title="depth of the shower maximum",
    )


def containment_plot(
    energy: npt.ArrayLike,
    radius: npt.ArrayLike,
    radius_err: npt.ArrayLike,
    path: PathLike,
    *,
    fraction: float = 0.9,
    label: str = "simulation",
) -> Path:
    """Transverse containment radius [cm] against beam energy [GeV].

    Parameters
    ----------
    energy
        Beam energies [GeV].
    radius, radius_err
        Mean containment radius (e.g. r90 from
        :func:`~hgcal_ae.metrics.shower_shapes.containment_radius`) and its error [cm].
    fraction
        Containment fraction the radius was computed for (axis label only).
    path, label
        As in :func:`resolution_plot`.

    Raises
    ------
    ConfigError
        On arrays of different lengths.
    """
    e, r, s = _columns(energy=energy, radius=radius, radius_err=radius_err)
    return one_axes_figure(
        path,
        lambda ax: ax.errorbar(e, r, yerr=s, fmt="o-", capsize=2, label=label),
        xlabel="beam energy [GeV]",
        ylabel=f"{100 * fraction:g} % containment radius [cm]",
        title="transverse containment",
        from_zero=True,
    )


def multiplicity_plot(multiplicities: Mapping[float, npt.ArrayLike], path: PathLike) -> Path:
    """Histograms of the number of hits per event, one per beam energy.

    Parameters
    ----------
    multiplicities
        Beam energy [GeV] -> hits per event, shape ``(n_events,)`` (e.g.
        :func:`~hgcal_ae.metrics.shower_shapes.hit_multiplicity`).
    path
        Destination image, written atomically.

    Raises
    ------
    ConfigError
        If ``multiplicities`` is empty or all its arrays are.
    """
    data = {e: np.asarray(m, dtype=np.float64).ravel() for e, m in multiplicities.items()}
    data = {e: m[np.isfinite(m)] for e, m in data.items()}
    if not data or not any(m.size for m in data.values()):
        msg = "expected hit multiplicities of at least one event, got none"
        raise ConfigError(msg)
    lo = min(float(m.min()) for m in data.values() if m.size)
    hi = max(float(m.max()) for m in data.values() if m.size)
    bins = np.linspace(lo - 0.5, hi + 0.5, int(min(max(hi - lo + 1, 1), 80)) + 1)

    def draw(ax: Axes) -> None:
        for energy in sorted(data):
            m = data[energy]
            if m.size == 0:
                continue
            text = f"{energy:g} GeV: mean {m.mean():.0f}, RMS {m.std():.0f}"
            # matplotlib's stub leaves out the array of edges that hist documents and takes
            ax.hist(m, bins=bins, histtype="step", linewidth=1.5, label=text)  # type: ignore[arg-type]

    return one_axes_figure(
        path, draw, xlabel="hits per event", ylabel="events", title="hit multiplicity"
    )
