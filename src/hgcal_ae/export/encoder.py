"""The module AE's encoder as the chip runs it: plain layers, integer codes, on-chip weights.

Public API::

    load_model(model) -> ModuleAutoencoder              # a loaded AE, model.pt, or its folder
    latent_codes(model, images) -> (N, latent_dim) int64  # the PyTorch reference codes
    plain_encoder(model) -> PlainEncoder                # conv → ReLU → flatten → dense
    CodeEncoder(model)                                  # plain encoder + latent quantiser → codes
    on_chip_weights(model) -> list[WeightTensor]        # integer weights and their scales

A latent code is the integer ``k`` of the transmitted value ``k · 2^(1 − latent_bits)``
(``quantized_relu(bits, 1)``, econt.md §3): ``0 <= k < 2^latent_bits``.  The reference
codes are the study's own forward pass (:meth:`ModuleAutoencoder.encode`, float32); every
exported form is compared with them.  With ``quantised_weights`` the encoder's weights are
the 6-bit on-chip values themselves, so the plain encoder carries them exactly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from hgcal_ae.errors import ConfigError, DataError
from hgcal_ae.models.module_ae import ModuleAutoencoder
from hgcal_ae.models.module_training import load_module_ae
from hgcal_ae.models.quantisation import unsigned_step

__all__ = [
    "CodeEncoder",
    "PlainEncoder",
    "WeightTensor",
    "as_images",
    "code_step",
    "latent_codes",
    "load_model",
    "model_file",
    "on_chip_weights",
    "plain_encoder",
]

ModelLike = ModuleAutoencoder | str | os.PathLike[str]


def model_file(path: str | os.PathLike[str]) -> Path:
    """The ``model.pt`` that ``path`` names: the file itself or the folder holding one.

    Raises
    ------
    DataError
        If ``path`` does not exist, or is a folder without ``model.pt``.
    """
    where = Path(path)
    if where.is_dir():
        where = where / "model.pt"
    if not where.is_file():
        msg = f"no module autoencoder at {str(path)!r}; expected a study's model.pt or a folder holding one"
        raise DataError(msg)
    return where


def load_model(model: ModelLike) -> ModuleAutoencoder:
    """A module AE in eval mode: ``model`` itself, or loaded from a ``model.pt`` (or its folder).

    Raises
    ------
    DataError
        If the file is missing, truncated or not a module-AE checkpoint.
    """
    if isinstance(model, ModuleAutoencoder):
        return model.eval()
    path = model_file(model)
    try:
        return load_module_ae(path)
    except DataError:
        raise
    except Exception as exc:  # torch.load of a foreign file: UnpicklingError, zip errors, ...
        msg = f"cannot load module autoencoder {str(path)!r} ({type(exc).__name__}: {exc}); expected a model.pt written by the study"
        raise DataError(msg) from exc


def code_step(model: ModuleAutoencoder) -> float:
    """The value of one latent code step, ``2^(1 − latent_bits)``."""
    return unsigned_step(model.config.latent_bits)


def as_images(images: npt.ArrayLike | torch.Tensor) -> torch.Tensor:
    """Encoder inputs as a float32 ``(N, 1, 8, 8)`` tensor on the CPU.

    Raises
    ------
    ConfigError
        If the shape is not ``(N, 1, 8, 8)`` or a value is not finite.
    """
    x = images if isinstance(images, torch.Tensor) else torch.from_numpy(np.asarray(images))
    x = x.detach().to("cpu", torch.float32)
    if x.ndim != 4 or tuple(x.shape[1:]) != (1, 8, 8):
        msg = f"encoder inputs must have shape (N, 1, 8, 8), got {tuple(x.shape)}"
        raise ConfigError(msg)
    if not bool(torch.isfinite(x).all()):
        msg = "encoder inputs hold NaN or infinite values; expected normalised 8-bit inputs"
        raise ConfigError(msg)
    return x


@torch.no_grad()
def latent_codes(
    model: ModelLike, images: npt.ArrayLike | torch.Tensor, *, batch_size: int = 65536
) -> npt.NDArray[np.int64]:
    """The latent codes PyTorch makes: integers ``(N, latent_dim)`` in ``0 .. 2^latent_bits − 1``.

    Parameters
    ----------
    model
        A loaded :class:`ModuleAutoencoder`, or the path of its ``model.pt`` (or folder).
    images
        Encoder inputs ``(N, 1, 8, 8)``, numpy or torch (ECON-T-normalised 8-bit values,
        :func:`hgcal_ae.trigger.transmission.encoder_inputs`).
    """
    ae = load_model(model)
    x = as_images(images)
    device = next(ae.parameters()).device
    step = code_step(ae)
    parts = [torch.round(ae.encode(b.to(device)).cpu() / step) for b in torch.split(x, batch_size)]
    codes = torch.cat(parts) if parts else torch.zeros(0, ae.config.latent_dim)
    return codes.to(torch.int64).numpy()


class PlainEncoder(nn.Module):
    """The encoder as plain layers (conv 3x3 stride 2 → ReLU → flatten → dense), no quantiser.

    Its weights are the ones the AE's forward pass uses (the 6-bit values when trained with
    ``quantised_weights``); its output is the latent before the latent quantiser.
    """

    def __init__(self, model: ModuleAutoencoder) -> None:
        super().__init__()
        cfg = model.config
        self.conv = nn.Conv2d(1, cfg.filters, 3, stride=2, padding=1)
        self.relu = nn.ReLU()
        self.flatten = nn.Flatten()
        self.dense = nn.Linear(4 * 4 * cfg.filters, cfg.latent_dim)
        with torch.no_grad():
            for plain, layer in ((self.conv, model.conv), (self.dense, model.dense)):
                weight, bias = layer._params()
                assert bias is not None and plain.bias is not None
                plain.weight.copy_(weight.detach().cpu())
                plain.bias.copy_(bias.detach().cpu())
        self.eval()

    def tensors(self) -> dict[str, npt.NDArray[np.float64]]:
        """The weights and biases as float64 arrays in torch layout, by name."""
        conv_bias, dense_bias = self.conv.bias, self.dense.bias
        assert conv_bias is not None and dense_bias is not None
        return {
            name: t.detach().double().numpy()
            for name, t in (
                ("conv.weight", self.conv.weight),
                ("conv.bias", conv_bias),
                ("dense.weight", self.dense.weight),
                ("dense.bias", dense_bias),
            )
        }

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.dense(self.flatten(self.relu(self.conv(x))))
        return out


def plain_encoder(model: ModelLike) -> PlainEncoder:
    """The encoder of ``model`` as plain layers (see :class:`PlainEncoder`)."""
    return PlainEncoder(load_model(model))


class CodeEncoder(nn.Module):
    """Plain encoder and latent quantiser: images ``(N, 1, 8, 8)`` → codes ``(N, latent_dim)``
    int64, rounding halves to even as torch does."""

    def __init__(self, model: ModuleAutoencoder) -> None:
        super().__init__()
        self.encoder = PlainEncoder(model)
        self.step = code_step(model)
        self.top = 2.0 - self.step
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        latent = self.encoder(x).clamp(0.0, self.top)
        return torch.round(latent / self.step).to(torch.int64)


@dataclass(frozen=True)
class WeightTensor:
    """One encoder tensor in the on-chip format: ``value = integers · scale``."""

    name: str  # "conv.weight", "conv.bias", "dense.weight", "dense.bias"
    shape: tuple[int, ...]  # torch layout: conv (out, in, kh, kw), dense (out, in)
    integers: npt.NDArray[np.int64]  # flat, C order
    scale: float  # a power of two
    bits: int  # including the sign
    max_abs_error: float  # |integers · scale − weight|, 0 when the model's weights are on-chip


def on_chip_weights(model: ModelLike) -> list[WeightTensor]:
    """The encoder's weights and biases as signed ``weight_bits``-bit integers with a scale.

    With ``quantised_weights`` they are exact (scale ``2^−(bits−1)``, the chip's
    ``quantized_bits(6, 1)``); float weights get the smallest power-of-two scale that holds
    the tensor's largest value, and ``max_abs_error`` says how far the integers are off.
    """
    ae = load_model(model)
    bits = ae.config.weight_bits
    top = 2 ** (bits - 1) - 1
    out = []
    for name, w in PlainEncoder(ae).tensors().items():
        if ae.config.quantised_weights:
            scale = 2.0 ** (1 - bits)
        else:
            largest = float(np.abs(w).max())
            scale = 2.0 ** np.ceil(np.log2(largest / top)) if largest > 0 else 2.0 ** (1 - bits)
        integers = np.clip(np.round(w / scale), -top - 1, top).astype(np.int64)
        error = float(np.abs(integers * scale - w).max()) if w.size else 0.0
        out.append(WeightTensor(name, tuple(w.shape), integers.ravel(), float(scale), bits, error))
    return out
