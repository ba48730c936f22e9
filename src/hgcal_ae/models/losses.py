"""Reconstruction losses for image autoencoders, per pixel.

Both take the decoder's *logits* and the target image in [0, 1] and return the mean over
all pixels of the batch, the convention behind "0.09 BCE per pixel" for MNIST.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from hgcal_ae.errors import ConfigError

__all__ = ["IMAGE_LOSSES", "image_loss"]


def bce_per_pixel(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy between ``sigmoid(logits)`` and ``target``, averaged over pixels."""
    return F.binary_cross_entropy_with_logits(logits, target)


def mse_per_pixel(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Squared error between ``sigmoid(logits)`` and ``target``, averaged over pixels."""
    return F.mse_loss(torch.sigmoid(logits), target)


IMAGE_LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "bce": bce_per_pixel,
    "mse": mse_per_pixel,
}


def image_loss(name: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The loss function called ``name`` (``"bce"`` or ``"mse"``)."""
    try:
        return IMAGE_LOSSES[name]
    except KeyError:
        msg = f"unknown loss {name!r}; expected one of {', '.join(IMAGE_LOSSES)}"
        raise ConfigError(msg) from None
