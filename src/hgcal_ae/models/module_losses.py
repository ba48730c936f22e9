"""Reconstruction losses of the module autoencoder, on 8x8 trigger-cell images.

All take ``(B, 1, 8, 8)`` target and reconstruction images (the lower-right quarter, which
holds no trigger cell, is ignored) and return a scalar averaged over the batch.

* ``mse``: mean squared error over the 48 trigger cells.
* ``weighted_mse``: mean of (y − ŷ)² · max(y, ŷ) (OW denseCNN.py ``weightedMSE``).
* ``telescope``: C. Herwig's telescope MSE (OW telescope.py ``telescopeMSE2``, econt.md §4),
  4·L1 + 2·L2 + L3 with the weighted error on single trigger cells (L1), on 2x2 super-cells
  (L2) and on the three 4x4 blocks (L3).  L2 has Ecoder's 36 super-cells: the 27 2x2 windows
  inside the three blocks and 9 across the block boundaries.  The 9 are taken from this
  project's TC geometry (:func:`~hgcal_ae.detector.trigger_cells.trigger_cell_map`, ``"ld8"``): along
  each of the three boundaries between rhombi, the 4 TCs of either side that face each other
  (centres 2.18 cm apart), ordered from the wafer centre outwards, give 3 windows of two
  facing pairs.  Each super-cell's weight is 0.25 · Σ 1/(super-cells its TC enters), the rule
  Ecoder states ("each TC contributes equally"), computed for these 36 (Ecoder's table has
  hand-set values for the 9).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F

from hgcal_ae.detector.trigger_cells import trigger_cell_map
from hgcal_ae.errors import ConfigError
from hgcal_ae.models.losses import Loss, loss_by_name

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


@cache
def _supercells() -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Membership (36, 48) of the 2x2 super-cells over TC ids, and their weights (36,).

    numpy only, computed at the first call: a torch operation at import time would start
    torch's OpenMP pool in the parent process, and luigi's forked workers would then hang in it.
    """
    groups = [
        [16 * r + 4 * i + j, 16 * r + 4 * i + j + 1, 16 * r + 4 * i + j + 4, 16 * r + 4 * i + j + 5]
        for r in range(3)
        for i in range(3)
        for j in range(3)
    ]
    tcmap = trigger_cell_map("ld8")
    xy = np.column_stack([tcmap.tc_x_cm, tcmap.tc_y_cm])
    pitch = min(np.linalg.norm(xy[0] - xy[1]), np.linalg.norm(xy[0] - xy[4]))
    for r1, r2 in ((0, 1), (1, 2), (2, 0)):
        a, b = np.arange(16 * r1, 16 * r1 + 16), np.arange(16 * r2, 16 * r2 + 16)
        d = np.linalg.norm(xy[a][:, None] - xy[b][None], axis=-1)
        edge_a, edge_b = a[d.min(axis=1) < 1.5 * pitch], b[d.min(axis=0) < 1.5 * pitch]
        edge_a = edge_a[np.argsort(np.hypot(*xy[edge_a].T))]
        edge_b = edge_b[np.argsort(np.hypot(*xy[edge_b].T))]
        if edge_a.size != 4 or edge_b.size != 4:  # a changed TC map: say so, do not guess
            msg = (
                f"rhombi {r1} and {r2} share {edge_a.size} + {edge_b.size} edge TCs, expected 4 + 4"
            )
            raise ConfigError(msg)
        groups += [[edge_a[k], edge_a[k + 1], edge_b[k], edge_b[k + 1]] for k in range(3)]
    member = np.zeros((len(groups), 48), dtype=np.float32)
    for k, group in enumerate(groups):
        member[k, group] = 1.0
    weights = 0.25 * (member / member.sum(axis=0)).sum(axis=1)
    return member, weights.astype(np.float32)


def telescope(y: torch.Tensor, y_hat: torch.Tensor) -> torch.Tensor:
    """Telescope loss 4·L1 + 2·L2 + L3 (see the module docstring)."""
    t, t_hat = _tcs(y), _tcs(y_hat)  # (B, 3, 4, 4): TC id order when flattened
    l1 = _weighted_sq(t, t_hat).mean()
    member, weights = (torch.as_tensor(a, device=t.device, dtype=t.dtype) for a in _supercells())
    s, s_hat = t.flatten(1) @ member.T, t_hat.flatten(1) @ member.T  # (B, 36) super-cell sums
    l2 = (weights * _weighted_sq(s, s_hat)).mean()
    z, z_hat = t.sum(dim=(-1, -2)), t_hat.sum(dim=(-1, -2))  # (B, 3)
    l3 = _weighted_sq(z, z_hat).mean()
    return 4 * l1 + 2 * l2 + l3


MODULE_LOSSES: dict[str, Loss] = {
    "mse": mse,
    "weighted_mse": weighted_mse,
    "telescope": telescope,
}


def module_loss(name: str) -> Loss:
    """The loss called ``name``: ``mse``, ``weighted_mse`` or ``telescope``."""
    return loss_by_name(MODULE_LOSSES, name)
