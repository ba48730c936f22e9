"""Image autoencoders for the MNIST example: a dense and a convolutional one.

Both map a ``(B, 1, 28, 28)`` image in [0, 1] to a latent vector ``(B, latent_dim)`` and back
to *logits* ``(B, 1, 28, 28)``; ``torch.sigmoid`` of the logits is the reconstruction.
Returning logits lets the BCE loss use the numerically stable ``binary_cross_entropy_with_logits``.
"""

from __future__ import annotations

from itertools import pairwise

import torch
from torch import nn

from hgcal_ae.errors import ConfigError

__all__ = [
    "ARCHITECTURES",
    "ConvAutoencoder",
    "DenseAutoencoder",
    "ImageAutoencoder",
    "build_autoencoder",
    "check_latent_dim",
]

IMAGE_PIXELS = 28 * 28


def check_latent_dim(latent_dim: object, n_inputs: int = IMAGE_PIXELS) -> int:
    """Return ``latent_dim`` as an int in ``1..n_inputs``; :class:`ConfigError` otherwise."""
    if isinstance(latent_dim, bool) or not isinstance(latent_dim, int):
        try:
            as_int = int(str(latent_dim), 10)
        except ValueError:
            msg = f"latent dim must be an integer in 1..{n_inputs}, got {latent_dim!r}"
            raise ConfigError(msg) from None
        latent_dim = as_int
    if not 1 <= latent_dim <= n_inputs:
        msg = f"latent dim must be in 1..{n_inputs} (the input has {n_inputs} values), got {latent_dim}"
        raise ConfigError(msg)
    return latent_dim


class ImageAutoencoder(nn.Module):
    """Base of the image autoencoders: an ``encoder`` and a ``decoder`` around ``latent_dim``.

    ``encode`` maps images to ``(B, latent_dim)`` codes, ``decode`` codes to logits
    ``(B, 1, 28, 28)``; ``forward`` is ``decode(encode(x))``.
    """

    latent_dim: int
    encoder: nn.Module
    decoder: nn.Module

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        code: torch.Tensor = self.encoder(x)
        return code

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        image: torch.Tensor = self.decoder(z)
        return image

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


class DenseAutoencoder(ImageAutoencoder):
    """Fully connected autoencoder 784 → hidden… → latent → …hidden → 784.

    Parameters
    ----------
    latent_dim
        Size of the code, 1..784.
    hidden
        Widths of the hidden layers of the encoder (the decoder mirrors them).
    """

    def __init__(self, latent_dim: int, hidden: tuple[int, ...] = (256, 128)) -> None:
        super().__init__()
        self.latent_dim = check_latent_dim(latent_dim)
        widths = (IMAGE_PIXELS, *hidden)
        enc: list[nn.Module] = [nn.Flatten()]
        for a, b in pairwise(widths):
            enc += [nn.Linear(a, b), nn.ReLU()]
        enc.append(nn.Linear(widths[-1], self.latent_dim))
        dec: list[nn.Module] = []
        back = (self.latent_dim, *reversed(hidden))
        for a, b in pairwise(back):
            dec += [nn.Linear(a, b), nn.ReLU()]
        dec += [nn.Linear(back[-1], IMAGE_PIXELS), nn.Unflatten(1, (1, 28, 28))]
        self.encoder = nn.Sequential(*enc)
        self.decoder = nn.Sequential(*dec)


class ConvAutoencoder(ImageAutoencoder):
    """Convolutional autoencoder: two stride-2 convolutions (28→14→7) and a dense bottleneck.

    Parameters
    ----------
    latent_dim
        Size of the code, 1..784.
    channels
        Filters of the two convolutions (the decoder mirrors them with transposed convolutions).
    """

    def __init__(self, latent_dim: int, channels: tuple[int, int] = (16, 32)) -> None:
        super().__init__()
        self.latent_dim = check_latent_dim(latent_dim)
        c1, c2 = channels
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c1, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(c1, c2, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(c2 * 7 * 7, self.latent_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(self.latent_dim, c2 * 7 * 7),
            nn.ReLU(),
            nn.Unflatten(1, (c2, 7, 7)),
            nn.ConvTranspose2d(c2, c1, 3, stride=2, padding=1, output_padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(c1, 1, 3, stride=2, padding=1, output_padding=1),
        )


ARCHITECTURES: dict[str, type[ImageAutoencoder]] = {
    "dense": DenseAutoencoder,
    "conv": ConvAutoencoder,
}


def build_autoencoder(arch: str, latent_dim: int) -> ImageAutoencoder:
    """Build the autoencoder ``arch`` (``"dense"`` or ``"conv"``) with ``latent_dim``."""
    try:
        cls = ARCHITECTURES[arch]
    except KeyError:
        msg = f"unknown arch {arch!r}; expected one of {', '.join(ARCHITECTURES)}"
        raise ConfigError(msg) from None
    return cls(latent_dim)
