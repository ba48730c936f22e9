"""A module autoencoder whose encoder also sees the border TCs of the neighbouring modules.

Public API::

    BorderAEConfig(latent_dim=16, latent_bits=9, ..., n_border=24)
    BorderAutoencoder(config)          # .encode(image, border) .decode(code) .forward(image, border)
    BorderTrainingConfig(..., n_border=24)            # ModuleTrainingConfig + n_border
    border_inputs(tc, border) -> (images (N,1,8,8), border (N,B), scale (N,))
    train_border_autoencoder(config, train_tc, train_border, val_tc, val_border, **run)
        -> (BorderAutoencoder, LoopResult)          # run: device, checkpoint, on_epoch, progress
    decode_with_border(model, tc, border, *, lsb, zero_suppress=0.0) -> (N, 48)

The study question: the ECON-T compresses every module alone, so a shower split across
modules is encoded in pieces.  How much better would it be if the encoder also saw the
border TCs of the neighbouring modules (:mod:`hgcal_ae.trigger.neighbours`)?

**Architecture.**  The published encoder (:mod:`hgcal_ae.models.module_ae`, econt.md §3) is
kept: conv 3x3 stride 2 + ReLU on the 8x8 image.  Its 4x4xF output is flattened and
concatenated with the B border values, and one dense layer maps them to ``latent_dim``.  The
latent quantisation is the same (unsigned, ``latent_bits``, range [0, 2), straight-through).
The decoder and its output head (``decoder_head``) are the same too, and output the
module's own 8x8 image only.  So the bandwidth is
unchanged: ``latent_dim x latent_bits`` per module.  Only the encoder's dense layer grows, by
``B x latent_dim`` weights.

**Border inputs.**  Neighbour charges are scaled like the image: divided by the **module's
own** sumlog2 scale (2^floor(log2 module sum), econt.md §2).  They are then clipped to
[0, 2], the range of the quantised image inputs (a saturating 8-bit input with one integer
bit), and rounded to steps of 1/256 with
:func:`~hgcal_ae.trigger.normalisation.quantise_inputs`.  A module with no charge has scale 0
and border inputs 0.

**Off-detector decoding** is that of :func:`hgcal_ae.models.module_training.decode_modules`:
the decoded shape is rescaled to the transmitted 9-bit 5E4M module sum, and decoded TCs below
``zero_suppress`` are dropped, the largest TC always kept.  Zero suppression comes before the
final rescaling, so no energy leaves the module: both use
:func:`~hgcal_ae.trigger.transmission.to_module_sum`.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Unpack

import numpy as np
import numpy.typing as npt
import torch

from hgcal_ae.detector.trigger_cells import N_TRIGGER_CELLS as N_TC
from hgcal_ae.errors import ConfigError, DataError
from hgcal_ae.models.module_ae import ModuleAEConfig, ModuleAutoencoder, _QuantisedLinear
from hgcal_ae.models.module_losses import module_loss
from hgcal_ae.models.module_training import (
    ModuleTrainingConfig,
    module_inputs,
    read_model_file,
    save_module_ae,
    train_rows,
)
from hgcal_ae.models.quantisation import quantise_unsigned
from hgcal_ae.models.training import EpochRecord, LoopResult, RunOptions
from hgcal_ae.trigger.images import from_image_8x8
from hgcal_ae.trigger.normalisation import quantise_inputs
from hgcal_ae.trigger.transmission import to_module_sum

__all__ = [
    "BORDER_INPUT_MAX",
    "BorderAEConfig",
    "BorderAutoencoder",
    "BorderTrainingConfig",
    "border_inputs",
    "decode_with_border",
    "load_border_ae",
    "save_border_ae",
    "train_border_autoencoder",
]

BORDER_INPUT_MAX = 2.0  # largest quantised image input (sumlog2 inputs < 2, rounded to 1/256)
_MAX_BORDER = 512


def _check_n_border(value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_BORDER:
        msg = f"n_border must be an integer in 0..{_MAX_BORDER} (border TCs per module, 24 for the default border), got {value!r}"
        raise ConfigError(msg)


@dataclass(frozen=True)
class BorderAEConfig(ModuleAEConfig):
    """:class:`ModuleAEConfig` plus the number of border TCs the encoder sees."""

    n_border: int = 24

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_n_border(self.n_border)


class BorderAutoencoder(ModuleAutoencoder):
    """The module AE with ``n_border`` extra encoder inputs before the dense layer.

    ``encode(image, border)``: image ``(N, 1, 8, 8)`` and border ``(N, n_border)``, both
    normalised by the module's sumlog2 scale (:func:`border_inputs`).  ``border=None``
    means "no neighbour data" (all zeros).  ``decode`` and the output head
    (``config.decoder_head``) are the module AE's: ``(N, 1, 8, 8)``, zero on the lower-right
    quarter, summing to the input image's sum (softmax head) or in [0, 1] (sigmoid head).
    """

    config: BorderAEConfig

    def __init__(self, config: BorderAEConfig | None = None) -> None:
        config = config or BorderAEConfig()
        if not isinstance(config, BorderAEConfig):
            msg = f"config must be a BorderAEConfig, got {type(config).__name__}"
            raise ConfigError(msg)
        super().__init__(config)
        self.dense = _QuantisedLinear(
            4 * 4 * config.filters + config.n_border,
            config.latent_dim,
            weight_bits=config.weight_bits,
            enabled=config.quantised_weights,
        )

    def encode(self, image: torch.Tensor, border: torch.Tensor | None = None) -> torch.Tensor:
        """The latent code ``(N, latent_dim)``, quantised to ``latent_bits`` (range [0, 2))."""
        h = torch.relu(self.conv(image)).flatten(1)
        n = self.config.n_border
        if border is None:
            border = h.new_zeros(h.shape[0], n)
        if border.shape != (h.shape[0], n):
            msg = f"border must have shape ({h.shape[0]}, {n}) (one row of border TCs per image), got {tuple(border.shape)}"
            raise ConfigError(msg)
        code = self.dense(torch.cat([h, border.to(h.dtype)], dim=1))
        return quantise_unsigned(code, self.config.latent_bits)

    def forward(self, image: torch.Tensor, border: torch.Tensor | None = None) -> torch.Tensor:
        # as ModuleAutoencoder.forward: the softmax head scales its shape to the input's sum
        # (a test checks that both agree when the border weights are zero)
        return self.decode(self.encode(image, border), image.sum(dim=(1, 2, 3), keepdim=True))


@dataclass(frozen=True)
class BorderTrainingConfig(ModuleTrainingConfig):
    """:class:`~hgcal_ae.models.module_training.ModuleTrainingConfig` plus ``n_border``."""

    n_border: int = 24

    def ae_config(self) -> BorderAEConfig:
        _check_n_border(self.n_border)
        return BorderAEConfig(**dataclasses.asdict(super().ae_config()), n_border=self.n_border)

    @classmethod
    def from_module(cls, config: ModuleTrainingConfig, n_border: int) -> BorderTrainingConfig:
        """The same architecture, loss and optimiser settings as ``config``, with ``n_border``."""
        fields = {f.name: getattr(config, f.name) for f in dataclasses.fields(ModuleTrainingConfig)}
        return cls(**fields, n_border=n_border)


def _arrays(
    tc: npt.ArrayLike, border: npt.ArrayLike, n_border: int | None = None
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """``tc`` (N, 48) and ``border`` (N, B) as float64, checked (one error line each)."""
    q = np.asarray(tc, dtype=np.float64)
    b = np.asarray(border, dtype=np.float64)
    if q.ndim != 2 or q.shape[1] != N_TC:
        msg = f"tc must have shape (N, {N_TC}) (modules x trigger cells), got {q.shape}"
        raise ConfigError(msg)
    want = f"({q.shape[0]}, {n_border if n_border is not None else 'B'})"
    if b.ndim != 2 or b.shape[0] != q.shape[0] or (n_border is not None and b.shape[1] != n_border):
        msg = f"border must have shape {want} (one row of border TCs per tc row), got {b.shape}"
        raise ConfigError(msg)
    for name, x in (("tc", q), ("border", b)):
        if not np.isfinite(x).all():
            msg = f"{name} must hold finite charges, got {int((~np.isfinite(x)).sum())} NaN/inf values"
            raise DataError(msg)
    return q, b


def border_inputs(
    tc: npt.ArrayLike, border: npt.ArrayLike
) -> tuple[torch.Tensor, torch.Tensor, npt.NDArray[np.float64]]:
    """Encoder inputs: images ``(N, 1, 8, 8)``, border values ``(N, B)`` and scales ``(N,)``.

    The images and scales are :func:`~hgcal_ae.models.module_training.module_inputs`; the
    border charges are divided by the same scale, clipped to [0, 2] and rounded to 1/256.

    Raises
    ------
    ConfigError
        If ``tc`` is not (N, 48) or ``border`` not (N, B).
    DataError
        If either holds NaN or inf.
    """
    q, b = _arrays(tc, border)
    images, scale = module_inputs(q)
    positive = scale > 0
    safe = np.where(positive, scale, 1.0)
    normalised = np.where(positive[:, None], b / safe[:, None], 0.0)
    values = quantise_inputs(np.clip(normalised, 0.0, BORDER_INPUT_MAX))
    return images, torch.from_numpy(values.astype(np.float32)), scale


def _pack(images: torch.Tensor, border: torch.Tensor) -> torch.Tensor:
    """One tensor per module row ``(N, 64 + B)``: the training loop draws batches of rows."""
    return torch.cat([images.flatten(1), border], dim=1)


def _unpack(batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return batch[:, :64].reshape(-1, 1, 8, 8), batch[:, 64:]


def train_border_autoencoder(
    config: BorderTrainingConfig,
    train_tc: npt.ArrayLike,
    train_border: npt.ArrayLike,
    val_tc: npt.ArrayLike,
    val_border: npt.ArrayLike,
    **run: Unpack[RunOptions],
) -> tuple[BorderAutoencoder, LoopResult]:
    """Train a border AE on TC charges ``(N, 48)`` and border charges ``(N, B)``.

    As :func:`~hgcal_ae.models.module_training.train_module_autoencoder`, through the same
    :func:`~hgcal_ae.models.module_training.train_rows` (Adam, checkpoint every epoch,
    bitwise resume on the CPU; ``run``: ``device``, ``checkpoint``, ``on_epoch``,
    ``progress``), the module loss ``config.loss`` on the module's own image, and modules
    without charge left out.

    Raises
    ------
    ConfigError
        If the config is not a :class:`BorderTrainingConfig`, a border array has not
        ``config.n_border`` columns or another row count than its tc array, or no non-empty
        module is left in a set.
    DataError
        On NaN/inf charges.
    """
    if not isinstance(config, BorderTrainingConfig):
        msg = f"config must be a BorderTrainingConfig (BorderTrainingConfig.from_module(cfg, n_border)), got {type(config).__name__}"
        raise ConfigError(msg)
    sets = []
    for tc, border in ((train_tc, train_border), (val_tc, val_border)):
        images, values, scale = border_inputs(*_arrays(tc, border, config.n_border))
        sets.append(_pack(images, values)[torch.from_numpy(scale > 0)])
    train, val = sets
    if len(train) == 0 or len(val) == 0:
        msg = "border-AE training needs non-empty modules in both the training and validation sets"
        raise ConfigError(msg)
    loss_fn = module_loss(config.loss)

    def batch_loss(m: torch.nn.Module, batch: torch.Tensor) -> torch.Tensor:
        image, border = _unpack(batch)
        return loss_fn(image, m(image, border))

    return train_rows(
        lambda: BorderAutoencoder(config.ae_config()), config, train, val, batch_loss, **run
    )


@torch.no_grad()
def decode_with_border(
    model: BorderAutoencoder,
    tc: npt.ArrayLike,
    border: npt.ArrayLike,
    *,
    lsb: float,
    zero_suppress: float = 0.0,
    batch_size: int = 65536,
) -> npt.NDArray[np.float64]:
    """Encode (with the border), transmit and decode modules: the TCs the trigger sees, ``(N, 48)``.

    Parameters
    ----------
    tc
        Input charges ``(N, 48)`` (e.g. MIP).
    border
        Border charges ``(N, model.config.n_border)`` in the unit of ``tc``
        (:func:`hgcal_ae.trigger.neighbours.border_charges`).
    lsb
        One ADC count in the units of ``tc``; the module sum is sent as 9-bit 5E4M counts.
    zero_suppress
        Decoded TCs below this value (after scaling to the module sum) are set to 0 and the
        rest rescaled to the transmitted sum (CMSSW: 0.1 MIP_T).

    Raises
    ------
    ConfigError
        On shapes that do not match (see :func:`train_border_autoencoder`).
    DataError
        On NaN/inf charges.
    """
    q, b = _arrays(tc, border, model.config.n_border)
    device = next(model.parameters()).device
    model.eval()
    images, values, _ = border_inputs(q, b)
    decoded = torch.cat(
        [
            model(i.to(device), v.to(device)).cpu()
            for i, v in zip(torch.split(images, batch_size), torch.split(values, batch_size), strict=True)
        ]
    ) if len(q) else torch.zeros(0, 1, 8, 8)  # fmt: skip
    shape = from_image_8x8(decoded.squeeze(1).numpy().astype(np.float64))
    return to_module_sum(shape, q, lsb=lsb, zero_suppress=zero_suppress)


def save_border_ae(
    path: str | os.PathLike[str],
    model: BorderAutoencoder,
    config: BorderTrainingConfig,
    history: list[EpochRecord],
) -> Path:
    """Write a trained border AE (``model.pt``: settings, weights, history), atomically; the
    module AE's file format, with ``n_border`` among the settings."""
    return save_module_ae(path, model, config, history)


def load_border_ae(path: str | os.PathLike[str]) -> tuple[BorderAutoencoder, list[EpochRecord]]:
    """A border AE written by :func:`save_border_ae` (CPU, eval mode) and its history.

    Raises
    ------
    DataError
        If the file is missing, truncated or not a border-AE file.
    """

    def build(payload: dict[str, Any]) -> tuple[BorderAutoencoder, list[EpochRecord]]:
        model = BorderAutoencoder(BorderTrainingConfig(**payload["config"]).ae_config())
        model.load_state_dict(payload["state_dict"])
        return model, [EpochRecord(**r) for r in payload["history"]]

    model, history = read_model_file(path, build, what="border autoencoder",
                                     writer="the merging study")  # fmt: skip
    return model.eval(), history
