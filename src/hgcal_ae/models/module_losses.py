"""Reconstruction losses of the module autoencoder, on 8x8 trigger-cell images.

All take ``(B, 1, 8, 8)`` target and reconstruction images (the lower-right quarter, which
holds no trigger cell, is ignored) and return a scalar averaged over the batch.

* ``mse``: mean squared error over the 48 trigger cells.
* ``weighted_mse``: mean of (y − ŷ)² · max(y, ŷ) (OW denseCNN.py ``weightedMSE``).
* ``telescope``: C. Herwig's telescope MSE (OW telescope.py ``telescopeMSE2``),
  4·L1 + 2·L2 + L3 with the weighted error on single trigger cells (L1), on 2x2 super-cells
  (L2, each weighted so that every trigger cell counts equally) and on the three 4x4 blocks
  (L3).  Difference to Ecoder: its L2 has 36 super-cells, 27 inside the three 4x4 blocks and
  9 across block boundaries; here only the 27 inside the blocks are used, because which
  trigger cells of neighbouring blocks touch is a property of the wafer layout that the
  8x8 image does not carry.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from hgcal_ae.errors import ConfigError

__all__ = ["MODULE_LOSSES", "module_loss"]

_BLOCKS = ((slice(0, 4), slice(0, 4)), (slice(0, 4), slice(4, 8)), (slice(4, 8), slice(0, 4)))


def _tcs(image: torch.Tensor) -> torch.Tensor:
    """The 48 trigger cells of an image batch as (B, 3, 4, 4) blocks."""
    return torch.stack([image[:, 0, rows, cols] for rows, cols in _BLOCKS], dim=1)


def _weighted_sq(y: torch.Tensor, y_hat: torch.Tensor) -> torch.Tensor:
    return (y - y_hat) ** 2 * torch.maximum(y, y_hat)


def mse(y: torch.Tensor, y_hat: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the 48 trigger cells."""
    return F.mse_loss(_tcs(y_hat), _tcs(y))


def weighted_mse(y: torch.Tensor, y_hat: torch.Tensor) -> torch.Tensor:
    """Mean of (y − ŷ)² · max(y, ŷ) over the 48 trigger cells."""
    return _weighted_sq(_tcs(y), _tcs(y_hat)).mean()


def _supercell_weights() -> torch.Tensor:
    """Weight of each 2x2 window of a 4x4 block, shape (3, 3): 0.25 · Σ 1/(windows per TC).

    Computed with numpy: a torch operation at import time would start torch's OpenMP pool
    in the parent process, and luigi's forked workers would then hang in it.
    """
    edge = np.array([1, 2, 2, 1])  # windows of a 1-D run of 4 covering each position
    per_tc = 1.0 / np.outer(edge, edge)
    sums = per_tc[:-1, :-1] + per_tc[1:, :-1] + per_tc[:-1, 1:] + per_tc[1:, 1:]
    return torch.tensor(0.25 * sums, dtype=torch.float32)


_SUPERCELL_WEIGHTS = _supercell_weights()


def telescope(y: torch.Tensor, y_hat: torch.Tensor) -> torch.Tensor:
    """Telescope loss 4·L1 + 2·L2 + L3 (see the module docstring)."""
    t, t_hat = _tcs(y), _tcs(y_hat)  # (B, 3, 4, 4)
    l1 = _weighted_sq(t, t_hat).mean()
    window = torch.ones(1, 1, 2, 2, dtype=t.dtype, device=t.device)
    s = F.conv2d(t.reshape(-1, 1, 4, 4), window)  # (B*3, 1, 3, 3) sums of 2x2 super-cells
    s_hat = F.conv2d(t_hat.reshape(-1, 1, 4, 4), window)
    weights = _SUPERCELL_WEIGHTS.to(device=t.device, dtype=t.dtype)
    l2 = (weights * _weighted_sq(s, s_hat)).mean()
    z, z_hat = t.sum(dim=(-1, -2)), t_hat.sum(dim=(-1, -2))  # (B, 3)
    l3 = _weighted_sq(z, z_hat).mean()
    return 4 * l1 + 2 * l2 + l3


MODULE_LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "mse": mse,
    "weighted_mse": weighted_mse,
    "telescope": telescope,
}


def module_loss(name: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The loss called ``name``: ``mse``, ``weighted_mse`` or ``telescope``."""
    try:
        return MODULE_LOSSES[name]
    except KeyError:
        msg = f"unknown loss {name!r}; expected one of {', '.join(MODULE_LOSSES)}"
        raise ConfigError(msg) from None
