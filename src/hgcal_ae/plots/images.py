"""Image grids: autoencoder inputs above their reconstructions.

The layout is placed by hand in inches (no automatic layout), so that a given number of
images always gives the same pixel size *and* the same axes positions whatever the title
or data: the per-epoch PNGs become GIF frames and must not jitter.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hgcal_ae.errors import ConfigError
from hgcal_ae.plots.style import DEFAULT_DPI, house_style, new_figure, save_figure

__all__ = ["reconstruction_grid"]

MAX_COLUMNS = 16
_CELL = 0.75  # inches per image
_GAP = 0.05  # inches between images
_BLOCK_GAP = 0.25  # inches between (input, reconstruction) row pairs
_LEFT, _RIGHT, _TOP, _BOTTOM = 1.35, 0.1, 0.45, 0.1  # margins in inches
_MIN_WIDTH = 6.0  # inches, room for a one-line title
_ROW_LABELS = ("input", "reconstruction")


def reconstruction_grid(
    inputs: ArrayLike, outputs: ArrayLike, *, title: str, path: str | os.PathLike[str]
) -> Path:
    """Draw input images with their reconstructions directly below, and save as PNG.

    Parameters
    ----------
    inputs, outputs
        Pixel intensities in [0, 1], shape ``(n, side, side)``, ``(n, 1, side, side)`` or
        ``(n, side**2)`` (e.g. MNIST's 28x28 or 784); the same images for both.
    title
        Figure title, e.g. ``"dense AE, latent dim 28 — epoch 3 — val BCE 0.1042"``.
    path
        Destination PNG, written atomically.

    Returns
    -------
    Path
        ``path``.  Up to 16 images give one "input" row above one "reconstruction" row;
        more images wrap into further row pairs of 16.  The pixel size depends only on
        ``n``, so every epoch of a run gives frames of identical size.

    Raises
    ------
    ConfigError
        If the shapes differ, are not square images, or hold no image.
    """
    a, b = np.asarray(inputs, dtype=float), np.asarray(outputs, dtype=float)
    images = (_as_images(a), _as_images(b))
    if images[0].shape != images[1].shape:
        msg = f"expected inputs and outputs of the same shape, got {a.shape} and {b.shape}"
        raise ConfigError(msg)
    n = images[0].shape[0]
    cols = min(n, MAX_COLUMNS)
    blocks = math.ceil(n / cols)
    grid_w = cols * _CELL + (cols - 1) * _GAP
    width = max(_LEFT + grid_w + _RIGHT, _MIN_WIDTH)
    height = _TOP + blocks * (2 * _CELL + _GAP) + (blocks - 1) * _BLOCK_GAP + _BOTTOM
    x0 = _LEFT + (width - _LEFT - _RIGHT - grid_w) / 2  # centre the grid when the title is wider

    with house_style():
        fig = new_figure((width, height), dpi=DEFAULT_DPI, layout="none")
        fig.suptitle(title, y=1 - 0.08 / height, va="top")
        for k in range(n):
            block, col = divmod(k, cols)
            for row, (stack, label) in enumerate(zip(images, _ROW_LABELS, strict=True)):
                top = _TOP + block * (2 * _CELL + _GAP + _BLOCK_GAP) + row * (_CELL + _GAP)
                rect = (
                    (x0 + col * (_CELL + _GAP)) / width,
                    1 - (top + _CELL) / height,
                    _CELL / width,
                    _CELL / height,
                )
                ax = fig.add_axes(rect)
                ax.imshow(stack[k], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
                ax.set_xticks([])
                ax.set_yticks([])
                if col == 0:
                    ax.set_ylabel(label, rotation=0, ha="right", va="center", labelpad=6)
    return save_figure(fig, path)


def _as_images(array: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return ``array`` as ``(n, side, side)``; raise ConfigError for anything else."""
    shape = array.shape
    if array.ndim == 4 and shape[1] == 1:  # torch's (n, channel, h, w)
        array = array[:, 0]
    elif array.ndim == 2 and math.isqrt(shape[1]) ** 2 == shape[1]:
        side = math.isqrt(shape[1])
        array = array.reshape(shape[0], side, side)
    if array.ndim != 3 or array.shape[1] != array.shape[2] or array.shape[1] == 0:
        msg = f"expected images of shape (n, 28, 28) or (n, 784) (any square size), got {shape}"
        raise ConfigError(msg)
    if array.shape[0] == 0:
        msg = f"expected at least one image, got shape {shape}"
        raise ConfigError(msg)
    return array
