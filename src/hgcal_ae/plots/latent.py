"""Latent-space projections coloured by class, and the PCA they use."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from numpy.typing import ArrayLike, NDArray

from hgcal_ae.errors import ConfigError
from hgcal_ae.plots.style import house_style, new_figure, save_figure

__all__ = ["latent_projection", "pca_2d"]

_JITTER_SEED = 0  # fixed: the strip plot of a 1-D latent space is the same on every run


def pca_2d(latents: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Project points onto their first two principal components.

    Parameters
    ----------
    latents
        Points, shape ``(N, D)`` with ``N >= 2`` and ``D >= 2``.

    Returns
    -------
    projected
        Coordinates along PC1 and PC2 of the centred data, shape ``(N, 2)``.
    explained_variance_ratio
        Fraction of the total variance along PC1 and PC2, shape ``(2,)`` (zeros if all
        points coincide).  Each component's sign is fixed so that its largest loading is
        positive, making the result deterministic.
    """
    x = np.asarray(latents, dtype=float)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 2:
        msg = f"expected latents of shape (N, D) with N >= 2 and D >= 2, got {x.shape}"
        raise ConfigError(msg)
    centred = x - x.mean(axis=0)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    components = vt[:2]
    biggest = np.argmax(np.abs(components), axis=1)
    components = components * np.sign(components[np.arange(2), biggest])[:, None]
    variance = singular**2
    total = variance.sum()
    ratio = variance[:2] / total if total > 0 else np.zeros(2)
    return centred @ components.T, ratio


def latent_projection(
    latents: ArrayLike,
    labels: ArrayLike,
    *,
    title: str,
    path: str | os.PathLike[str],
    class_names: Sequence[str] | None = None,
    max_points: int = 5000,
) -> Path:
    """Scatter the latent codes in 2-D, coloured by class, and save the figure.

    Parameters
    ----------
    latents
        Latent codes, shape ``(N, D)`` (or ``(N,)`` for ``D == 1``).  ``D == 1``: value
        against the class with a small jitter; ``D == 2``: raw coordinates; ``D > 2``: the
        first two principal components (:func:`pca_2d`) with their variance fractions.
    labels
        Integer class labels ``>= 0``, shape ``(N,)``.
    title
        Figure title.
    path
        Destination image, written atomically.
    class_names
        Name of each class label (``class_names[k]`` for label ``k``); the labels by default.
    max_points
        Only the first ``max_points`` codes are drawn (deterministic subsample).

    Raises
    ------
    ConfigError
        On mismatched lengths, no points, bad labels or too few class names.
    """
    z = np.asarray(latents, dtype=float)
    z = z[:, None] if z.ndim == 1 else z
    y = np.asarray(labels).ravel()
    if z.ndim != 2 or z.shape[0] != y.shape[0] or z.shape[0] == 0 or z.shape[1] == 0:
        msg = f"expected latents (N, D) and labels (N,) with N, D >= 1, got {z.shape} and {y.shape}"
        raise ConfigError(msg)
    if max_points < 1:
        msg = f"expected max_points >= 1, got {max_points!r}"
        raise ConfigError(msg)
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
        msg = f"expected non-negative integer class labels, got dtype {y.dtype} min {y.min()!r}"
        raise ConfigError(msg)
    if class_names is not None and len(class_names) <= y.max():
        msg = f"expected a class name for each label up to {y.max()}, got {len(class_names)} names"
        raise ConfigError(msg)
    z, y = z[:max_points], y[:max_points]
    names = [str(k) for k in range(y.max() + 1)] if class_names is None else list(class_names)
    coords, axis_labels = _coordinates(z, y)

    with house_style():
        fig = new_figure((6.4, 5.2))
        ax = fig.add_subplot()
        cmap = _colours(names)
        for k in np.unique(y):
            sel = y == k
            ax.scatter(
                coords[sel, 0],
                coords[sel, 1],
                s=6,
                alpha=0.6,
                color=cmap[k],
                label=names[k],
                linewidths=0,
            )
        if z.shape[1] == 1:
            ax.set_yticks(np.unique(y), [names[k] for k in np.unique(y)])
        ax.set_xlabel(axis_labels[0])
        ax.set_ylabel(axis_labels[1])
        ax.set_title(title)
        fig.legend(loc="outside right upper", markerscale=3, title="class")
    return save_figure(fig, path)


def _coordinates(
    z: NDArray[np.float64], y: NDArray[np.int_]
) -> tuple[NDArray[np.float64], tuple[str, str]]:
    """2-D coordinates to draw and their axis labels, by latent dimension."""
    if z.shape[1] == 1:
        jitter = np.random.default_rng(_JITTER_SEED).uniform(-0.3, 0.3, size=y.shape)
        return np.column_stack([z[:, 0], y + jitter]), ("latent value", "class")
    if z.shape[1] == 2:
        return z, ("latent 1", "latent 2")
    projected, ratio = pca_2d(z)
    return projected, (f"PC1 ({100 * ratio[0]:.0f} % var.)", f"PC2 ({100 * ratio[1]:.0f} % var.)")


def _colours(names: Sequence[str]) -> NDArray[np.float64]:
    """One qualitative colour per class: tab10 up to 10 classes, tab20 beyond."""
    cmap = colormaps["tab10" if len(names) <= 10 else "tab20"]
    return np.asarray(cmap(np.arange(len(names)) % cmap.N))
