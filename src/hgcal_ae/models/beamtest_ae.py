"""Autoencoders of beam-test showers on the 6-inch sensor's cells: per layer and per shower.

Public API::

    FAMILIES = ("per_layer", "per_shower")
    BeamtestAEConfig(family, latent_dim, latent_bits, epochs, batch_size, learning_rate, seed)
    build_beamtest_ae(config) -> LayerAutoencoder | ShowerAutoencoder
    pack_inputs(config, cells) -> (packed, kept)     # cells (N, 28, n_cells) [MIP]
    train_beamtest_ae(config, train_cells, val_cells, **run) -> BeamtestTraining
    decode_cells(model, cells) -> (N, 28, n_cells)   # decoded energies [MIP]
    save_beamtest_ae(path, training) / load_beamtest_ae(path) -> model

Two families, as issue 12 names them:

``per_layer``
    One layer's sensor image -> ``latent_dim`` values; one network shared by all 28 layers.
    The layer's energy sum travels beside the code (as the module sum does in the trigger),
    so a shower costs ``latent_dim`` codes and one sum for each layer with energy.
``per_shower``
    The 28-layer stack (28 image channels, layer-channel convolutions) -> one code of
    ``latent_dim`` values; the event's energy sum travels beside it.

**Normalisation.**  Beam energies span 20-300 GeV, so the networks see shapes, not energies:
the cells are divided by the sum that travels beside the code (per layer or per event), and
the encoder reads the square root of these fractions (a unit-norm vector, whatever the
energy).  **The decoder outputs a distribution:** a softmax over the cells (of the layer, or
of the whole stack), which the receiver scales by the transmitted sum.  It is trained by the
cross-entropy ``-sum f log q`` between the true fractions f and the decoded q.  The decoder
also reads what the receiver knows anyway: ``log(sum)`` and, per layer, the layer number.

The code is quantised to ``latent_bits`` bits per value (unsigned, range [0, 2),
straight-through gradient; :mod:`hgcal_ae.models.quantisation`); sums are sent as 16-bit
floats, counted in :meth:`BeamtestAEConfig.bits_per_code`.  Training is the shared loop
:func:`hgcal_ae.models.training.fit` (seeded batches, per-epoch checkpoints, resume).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Unpack

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from hgcal_ae.detector.hexagons import sensor
from hgcal_ae.detector.layers import N_LAYERS
from hgcal_ae.detector.sensor_image import sensor_image
from hgcal_ae.errors import ConfigError, DataError
from hgcal_ae.models.autoencoders import check_latent_dim
from hgcal_ae.models.quantisation import MAX_BITS, quantise_unsigned
from hgcal_ae.models.training import EpochRecord, RunOptions, fit, save_torch, seeded_model

__all__ = [
    "FAMILIES",
    "SUM_BITS",
    "BeamtestAEConfig",
    "BeamtestTraining",
    "LayerAutoencoder",
    "ShowerAutoencoder",
    "build_beamtest_ae",
    "decode_cells",
    "load_beamtest_ae",
    "pack_inputs",
    "save_beamtest_ae",
    "train_beamtest_ae",
]

FAMILIES = ("per_layer", "per_shower")
SENSOR = "tb2018_6inch"
SUM_BITS = 16  # a transmitted energy sum: one 16-bit float
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class BeamtestAEConfig:
    """What decides a trained beam-test autoencoder.

    Attributes
    ----------
    family : str
        ``"per_layer"`` or ``"per_shower"``.
    latent_dim : int
        Values in the code, 1 .. the input size (109 cells per layer, 28 x 109 per shower).
    latent_bits : int
        Bits of each code value (1..16).
    epochs, batch_size, learning_rate, seed
        The shared training loop's settings (a batch is layers or showers).
    """

    family: str = "per_shower"
    latent_dim: int = 16
    latent_bits: int = 8
    epochs: int = 10
    batch_size: int = 64
    learning_rate: float = 2e-3
    seed: int = 0

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            msg = (
                f"unknown autoencoder family {self.family!r}; expected one of {', '.join(FAMILIES)}"
            )
            raise ConfigError(msg)
        object.__setattr__(self, "latent_dim", check_latent_dim(self.latent_dim, self.n_inputs))
        bits = self.latent_bits
        if isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= MAX_BITS:
            msg = f"latent bits must be an integer in 1..{MAX_BITS}, got {bits!r}"
            raise ConfigError(msg)
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                msg = f"{name} must be a positive integer, got {value!r}"
                raise ConfigError(msg)
        if not self.learning_rate > 0:
            msg = f"learning rate must be positive, got {self.learning_rate!r}"
            raise ConfigError(msg)

    @property
    def n_cells(self) -> int:
        """Cells of one sensor (109)."""
        return sensor(SENSOR).n_cells

    @property
    def n_inputs(self) -> int:
        """Values one code stands for: one layer's cells, or all 28 layers' cells."""
        return self.n_cells * (1 if self.family == "per_layer" else N_LAYERS)

    @property
    def bits_per_code(self) -> int:
        """Bits of one code with its sum: ``latent_dim * latent_bits + 16``."""
        return self.latent_dim * self.latent_bits + SUM_BITS

    @property
    def label(self) -> str:
        """``"per shower, latent 16×8 bits"``."""
        return f"{self.family.replace('_', ' ')}, latent {self.latent_dim}×{self.latent_bits} bits"


class _Encoder(nn.Module):
    """Two 3x3 convolutions on the sensor image(s), then a dense layer to the code."""

    def __init__(self, channels: int, filters: int, latent_dim: int) -> None:
        super().__init__()
        layout = sensor_image(SENSOR)
        h, w = (layout.height + 1) // 2, (layout.width + 1) // 2
        self.net = nn.Sequential(
            nn.Conv2d(channels, filters, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(filters, filters, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(filters * h * w, latent_dim),
        )

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.net(image)  # type: ignore[no-any-return]


class _BeamtestAE(nn.Module):
    """Shared parts: the image scatter, the quantised code, the softmax decoder, the loss."""

    n_context: int  # values of the receiver's side information the decoder reads
    pixel: torch.Tensor  # (n_cells,) buffer: flat pixel of each cell in the sensor image

    def __init__(self, config: BeamtestAEConfig, channels: int, filters: int, hidden: int):
        super().__init__()
        self.config = config
        layout = sensor_image(SENSOR)
        self.register_buffer("pixel", torch.as_tensor(layout.pixel), persistent=False)
        self.image_shape = (layout.height, layout.width)
        self.encoder = _Encoder(channels, filters, config.latent_dim)
        self.decoder = nn.Sequential(
            nn.Linear(config.latent_dim + self.n_context, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, config.n_inputs),
        )

    def images(self, fractions: torch.Tensor) -> torch.Tensor:
        """Fractions ``(B, C, n_cells)`` as sensor images ``(B, C, H, W)`` (encoder input)."""
        b, c, _ = fractions.shape
        flat = fractions.new_zeros(b, c, self.image_shape[0] * self.image_shape[1])
        flat[..., self.pixel] = torch.sqrt(fractions.clamp_min(0.0))
        return flat.view(b, c, *self.image_shape)

    def encode(self, fractions: torch.Tensor) -> torch.Tensor:
        """The code ``(B, latent_dim)``, quantised to ``latent_bits`` in [0, 2)."""
        z = self.encoder(self.images(fractions.view(len(fractions), -1, self.config.n_cells)))
        return quantise_unsigned(2.0 * torch.sigmoid(z), self.config.latent_bits)

    def decode_log(self, code: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """Log-probabilities ``(B, n_inputs)`` of the decoded distribution over the cells."""
        return torch.log_softmax(self.decoder(torch.cat([code, context], dim=1)), dim=1)

    def forward(self, packed: torch.Tensor) -> torch.Tensor:
        """Log-probabilities of packed rows (:func:`pack_inputs`)."""
        context, fractions = packed[:, : self.n_context], packed[:, self.n_context :]
        return self.decode_log(self.encode(fractions), context)

    def loss(self, packed: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy ``-sum f log q`` of the packed rows."""
        fractions = packed[:, self.n_context :]
        log_q: torch.Tensor = self(packed)
        return -(fractions * log_q).sum(dim=1).mean()


class LayerAutoencoder(_BeamtestAE):
    """One layer's 109 cells -> code; context: log(layer sum), layer number / 28."""

    n_context = 2

    def __init__(self, config: BeamtestAEConfig) -> None:
        super().__init__(config, channels=1, filters=16, hidden=128)


class ShowerAutoencoder(_BeamtestAE):
    """The 28 x 109 cells of a shower -> code (layers as channels); context: log(event sum)."""

    n_context = 1

    def __init__(self, config: BeamtestAEConfig) -> None:
        super().__init__(config, channels=N_LAYERS, filters=32, hidden=256)


def build_beamtest_ae(config: BeamtestAEConfig) -> LayerAutoencoder | ShowerAutoencoder:
    """The untrained network of ``config.family``."""
    if config.family == "per_layer":
        return LayerAutoencoder(config)
    return ShowerAutoencoder(config)


def _check_cells(cells: npt.ArrayLike, n_cells: int) -> FloatArray:
    arr = np.asarray(cells, dtype=np.float64)
    if arr.ndim != 3 or arr.shape[1:] != (N_LAYERS, n_cells):
        msg = f"cells must have shape (n_events, {N_LAYERS}, {n_cells}), got {arr.shape}"
        raise ConfigError(msg)
    return arr


def pack_inputs(
    config: BeamtestAEConfig, cells: npt.ArrayLike
) -> tuple[torch.Tensor, npt.NDArray[np.bool_]]:
    """Rows of context and fractions for the network; which (event, layer) rows were kept.

    Parameters
    ----------
    cells
        Cell energies ``(n_events, 28, n_cells)`` [MIP], negative values count as 0.

    Returns
    -------
    packed : torch.Tensor, float32
        ``per_layer``: one row per layer with energy, ``[log(sum), layer / 28, fractions]``;
        ``per_shower``: one row per event with energy, ``[log(sum), fractions (28 x n_cells)]``.
    kept : numpy.ndarray of bool
        Shape ``(n_events, 28)`` (per layer) or ``(n_events,)`` (per shower): rows with energy.
    """
    arr = np.clip(_check_cells(cells, config.n_cells), 0.0, None)
    if config.family == "per_layer":
        sums = arr.sum(axis=2)
        kept = sums > 0
        rows = arr[kept] / sums[kept][:, None]
        layer = np.broadcast_to(np.arange(1, N_LAYERS + 1), sums.shape)[kept] / N_LAYERS
        context = np.stack([np.log(sums[kept]), layer], axis=1)
    else:
        sums = arr.sum(axis=(1, 2))
        kept = sums > 0
        rows = arr[kept].reshape(int(kept.sum()), -1) / sums[kept][:, None]
        context = np.log(sums[kept])[:, None]
    packed = np.concatenate([context, rows], axis=1).astype(np.float32)
    return torch.from_numpy(packed), kept


@dataclass
class BeamtestTraining:
    """A trained beam-test autoencoder with its loss history."""

    model: LayerAutoencoder | ShowerAutoencoder
    config: BeamtestAEConfig
    history: list[EpochRecord]
    resumed_from: int
    n_train_rows: int


def train_beamtest_ae(
    config: BeamtestAEConfig,
    train_cells: npt.ArrayLike,
    val_cells: npt.ArrayLike,
    **run: Unpack[RunOptions],
) -> BeamtestTraining:
    """Train with the shared loop (:func:`~hgcal_ae.models.training.fit`).

    Parameters
    ----------
    train_cells, val_cells
        Cell energies ``(n_events, 28, n_cells)`` [MIP] of the training and validation events.
    **run
        ``device``, ``checkpoint`` (resumed when it exists), ``on_epoch``, ``progress``.
    """
    train, _ = pack_inputs(config, train_cells)
    val, _ = pack_inputs(config, val_cells)
    if len(train) == 0 or len(val) == 0:
        msg = f"training needs events with energy in both the training ({len(train)} rows) and validation ({len(val)} rows) sets"
        raise ConfigError(msg)
    device = torch.device(run.get("device", "cpu"))
    model = seeded_model(lambda: build_beamtest_ae(config), config.seed, device)

    @torch.no_grad()
    def evaluate(m: nn.Module, rows: torch.Tensor) -> float:
        assert isinstance(m, _BeamtestAE)
        return float(sum(float(m.loss(rows[i : i + 4096])) * len(rows[i : i + 4096])
                         for i in range(0, len(rows), 4096)) / len(rows))  # fmt: skip

    done = fit(
        model,
        config,
        train,
        val,
        batch_loss=lambda m, batch: m.loss(batch),  # type: ignore[operator]
        evaluate=evaluate,
        **run,
    )
    model.eval()
    return BeamtestTraining(model, config, done.history, done.resumed_from, len(train))


@torch.no_grad()
def decode_cells(model: LayerAutoencoder | ShowerAutoencoder, cells: npt.ArrayLike) -> FloatArray:
    """Encode and decode events: the decoded cell energies ``(n_events, 28, n_cells)`` [MIP].

    Each decoded distribution is scaled by the transmitted sum (layer or event), so the sums
    are kept exactly; layers (events) without energy decode to zeros.
    """
    config = model.config
    arr = _check_cells(cells, config.n_cells)
    packed, kept = pack_inputs(config, arr)
    device = next(model.parameters()).device
    out = np.zeros((arr.shape[0], N_LAYERS, config.n_cells))
    parts = []
    for start in range(0, len(packed), 4096):
        rows = packed[start : start + 4096].to(device)
        q = torch.exp(model(rows)).double() * torch.exp(rows[:, :1].double())
        parts.append(q.cpu().numpy())
    decoded = np.concatenate(parts) if parts else np.zeros((0, config.n_inputs))
    if config.family == "per_layer":
        out[kept] = decoded
    else:
        out[kept] = decoded.reshape(-1, N_LAYERS, config.n_cells)
    return out


def save_beamtest_ae(path: str | os.PathLike[str], training: BeamtestTraining) -> Path:
    """Write a trained beam-test AE (``model.pt``: settings, weights, history), atomically."""
    payload = {
        "config": dataclasses.asdict(training.config),
        "state_dict": {k: v.cpu() for k, v in training.model.state_dict().items()},
        "history": [dataclasses.asdict(r) for r in training.history],
    }
    return save_torch(Path(path), payload)


def load_beamtest_ae(path: str | os.PathLike[str]) -> LayerAutoencoder | ShowerAutoencoder:
    """Load a beam-test AE written by :func:`save_beamtest_ae`, on the CPU, in eval mode.

    Raises
    ------
    DataError
        If the file is missing, truncated or not a beam-test AE file.
    """
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False)
        model = build_beamtest_ae(BeamtestAEConfig(**payload["config"]))
        model.load_state_dict(payload["state_dict"])
    except (OSError, KeyError, RuntimeError, EOFError, TypeError, ValueError) as exc:
        msg = f"cannot load beam-test autoencoder {str(path)!r} ({type(exc).__name__}: {exc}); expected a model.pt written by the beam-test study: delete it and run again"
        raise DataError(msg) from exc
    return model.eval()
