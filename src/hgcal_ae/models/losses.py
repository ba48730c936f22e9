"""Reconstruction losses for image autoencoders, per pixel, and the lookup of a loss by name.

Both take the decoder's *logits* and the target image in [0, 1] and return the mean over
all pixels of the batch, the convention behind "0.09 BCE per pixel" for MNIST.  The module
autoencoder's losses (:mod:`hgcal_ae.models.module_losses`) are looked up the same way
(:func:`loss_by_name`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
import torch.nn.functional as F

from hgcal_ae.errors import ConfigError

__all__ = ["IMAGE_LOSSES", "Loss", "image_loss", "loss_by_name"]

#: A loss: ``loss(a, b)`` of two image batches, a scalar tensor.
Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def bce_per_pixel(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy between ``sigmoid(logits)`` and ``target``, averaged over pixels."""
    return F.binary_cross_entropy_with_logits(logits, target)


def mse_per_pixel(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Squared error between ``sigmoid(logits)`` and ``target``, averaged over pixels."""
    return F.mse_loss(torch.sigmoid(logits), target)


IMAGE_LOSSES: dict[str, Loss] = {
    "bce": bce_per_pixel,
    "mse": mse_per_pixel,
}


def loss_by_name(losses: Mapping[str, Loss], name: str) -> Loss:
    """The loss called ``name`` in ``losses``.

    Raises
    ------
    ConfigError
        Naming the unknown loss and the known ones.
    """
    try:
        return losses[name]
    except KeyError:
        msg = f"unknown loss {name!r}; expected one of {', '.join(losses)}"
        raise ConfigError(msg) from None


def image_loss(name: str) -> Loss:
    """The loss function called ``name`` (``"bce"`` or ``"mse"``)."""
    return loss_by_name(IMAGE_LOSSES, name)
