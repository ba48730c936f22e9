"""Training curves and the latent-dimension scan."""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.ticker import FixedLocator, MaxNLocator, NullLocator
from numpy.typing import ArrayLike, NDArray

from hgcal_ae.errors import ConfigError
from hgcal_ae.plots.style import house_style, new_figure, save_figure

__all__ = ["cost_curve", "latent_scan_plot"]


def cost_curve(
    epochs: ArrayLike,
    train_loss: ArrayLike,
    val_loss: ArrayLike,
    *,
    loss_name: str,
    title: str,
    path: str | os.PathLike[str],
) -> Path:
    """Plot training and validation loss per pixel against epoch, and save it.

    Parameters
    ----------
    epochs
        Epoch numbers, shape ``(n,)``.
    train_loss, val_loss
        Mean loss per pixel at each epoch, shape ``(n,)``.
    loss_name
        Name of the loss for the y axis, e.g. ``"BCE"``.
    title
        Figure title.
    path
        Destination image, written atomically.

    Raises
    ------
    ConfigError
        If the three arrays are empty or of different lengths.
    """
    x, train, val = (np.asarray(v, dtype=float).ravel() for v in (epochs, train_loss, val_loss))
    if not (x.size == train.size == val.size) or x.size == 0:
        msg = (
            "expected epochs, train_loss and val_loss of the same non-zero length, "
            f"got {x.size}, {train.size} and {val.size}"
        )
        raise ConfigError(msg)
    with house_style():
        fig = new_figure((6.4, 4.4))
        ax = fig.add_subplot()
        ax.plot(x, train, marker="o", label="training")
        ax.plot(x, val, marker="s", label="validation")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"{loss_name} per pixel")
        ax.set_title(title)
        ax.legend()
    return save_figure(fig, path)


def latent_scan_plot(
    results: Mapping[str, Sequence[tuple[int, float]]],
    *,
    tolerance: float,
    loss_name: str,
    path: str | os.PathLike[str],
    smallest: Mapping[str, int] | None = None,
    title: str | None = None,
) -> Path:
    """Plot best validation loss against latent dimension, one line per architecture.

    Parameters
    ----------
    results
        Architecture name -> ``(latent_dim, val_loss)`` pairs (any order).
    tolerance
        Relative tolerance; a dashed line at ``best * (1 + tolerance)`` (and a light band
        down to ``best``) marks, per architecture, the losses counted as good enough.
    loss_name
        Name of the loss for the y axis, e.g. ``"BCE"``.
    path
        Destination image, written atomically.
    smallest
        Optional architecture name -> smallest good-enough latent dimension, marked with a
        star and annotated.  Each must be one of the dimensions in ``results``.
    title
        Figure title; by default "latent-dimension scan (tolerance X %)".

    Raises
    ------
    ConfigError
        On empty results, a non-positive latent dimension, a negative tolerance, or a
        ``smallest`` entry not found in ``results``.
    """
    if tolerance < 0:
        msg = f"expected tolerance >= 0, got {tolerance!r}"
        raise ConfigError(msg)
    series = _scan_series(results, smallest or {})
    all_dims = sorted({int(d) for _, dims, _, _ in series for d in dims})
    with house_style():
        fig = new_figure((6.4, 4.4))
        ax = fig.add_subplot()
        ax.set_xscale("log", base=2)
        for arch, dims, losses, mark in series:
            (line,) = ax.plot(dims, losses, marker="o", label=arch)
            colour = line.get_color()
            best = float(losses.min())
            limit = best * (1 + tolerance)
            ax.axhspan(best, limit, color=colour, alpha=0.08, linewidth=0)
            label = f"{arch}: best × (1 + {tolerance:g})"
            ax.axhline(limit, color=colour, linestyle="--", linewidth=1.0, label=label)
            if mark is not None:
                y = float(losses[dims == mark][0])
                ax.plot(
                    mark,
                    y,
                    marker="*",
                    markersize=16,
                    color=colour,
                    markeredgecolor="black",
                    linestyle="none",
                    zorder=5,
                )
                ax.annotate(
                    f"smallest: {mark}",
                    (mark, y),
                    xytext=(-10, -12),  # below left: under a falling loss curve
                    textcoords="offset points",
                    ha="right",
                    va="top",
                    color=colour,
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": colour, "alpha": 0.9},
                )
        ax.xaxis.set_major_locator(FixedLocator(all_dims))
        ax.xaxis.set_major_formatter("{x:.0f}")
        ax.xaxis.set_minor_locator(NullLocator())
        if len(all_dims) > 1 and min(b / a for a, b in itertools.pairwise(sorted(all_dims))) < 1.4:
            ax.tick_params(axis="x", labelrotation=60)  # close dims (28, 32) would overlap
        ax.set_xlabel("latent dimension")
        ax.set_ylabel(f"validation {loss_name} per pixel")
        ax.set_title(title or f"latent-dimension scan (tolerance {100 * tolerance:g} %)")
        ax.legend(fontsize=9)
    return save_figure(fig, path)


_Series = tuple[str, NDArray[np.int64], NDArray[np.float64], int | None]


def _scan_series(
    results: Mapping[str, Sequence[tuple[int, float]]], smallest: Mapping[str, int]
) -> list[_Series]:
    """Check the scan results; return (arch, sorted dims, losses, smallest dim or None)."""
    if not results:
        msg = "expected results for at least one architecture, got none"
        raise ConfigError(msg)
    unknown = sorted(set(smallest) - set(results))
    if unknown:
        msg = f"smallest given for unknown architectures {unknown}, expected {sorted(results)}"
        raise ConfigError(msg)
    series: list[_Series] = []
    for arch, points in results.items():
        if len(points) == 0:
            msg = f"expected at least one (latent_dim, val_loss) pair for {arch!r}, got none"
            raise ConfigError(msg)
        pairs = sorted((int(d), float(v)) for d, v in points)
        dims = np.array([d for d, _ in pairs], dtype=np.int64)
        losses = np.array([v for _, v in pairs], dtype=float)
        if np.any(dims <= 0):
            msg = f"expected positive latent dimensions for {arch!r}, got {dims.tolist()}"
            raise ConfigError(msg)
        mark = smallest.get(arch)
        if mark is not None and mark not in dims:
            msg = (
                f"smallest latent dim {mark!r} of {arch!r} is not among its scanned {dims.tolist()}"
            )
            raise ConfigError(msg)
        series.append((arch, dims, losses, mark))
    return series
