"""The module autoencoder of the ECON-T: 8x8 trigger-cell image → latent code → 8x8 image.

Reference architecture (econt.md §3, OW qDenseCNN.py, default ``8x8_c8_S2_tele``):

| block | layer | output | params |
|---|---|---|---|
| encoder | conv 8 filters 3x3, stride 2, 'same', then ReLU | 4x4x8 | 80 |
| | flatten → dense ``latent_dim`` (16), quantised ReLU | 16 | 2,064 |
| decoder | dense 128, ReLU → 4x4x8 | | 2,176 |
| | transposed conv 8, 3x3, stride 2, ReLU | 8x8x8 | 584 |
| | transposed conv 1, 3x3, stride 1 → output head | 8x8x1 | 73 |

**Output head** (``decoder_head``; the decoder runs off-detector, so it is free to choose):

* ``"softmax"`` (default): a softmax over the 48 trigger cells, times the input image's sum.
  The module sum travels in the frame header anyway, so the latent code only has to carry the
  *shape*; the output sums exactly to the input and has no independent per-cell haze.
  Measured on the default study's data (16 x 5 bits, telescope loss, 25 epochs, 5,418 test
  modules, decoded TCs < 0.1 MIP suppressed): mean EMD 0.882 cm against 1.189 cm with the
  sigmoid head (100 epochs: 0.716 against 1.025 cm).
* ``"sigmoid"``: an independent sigmoid per trigger cell, as in Ecoder.

Variants: ``latent_dim`` 1..48, ``latent_bits`` 1..16 (the latent is quantised during training
with a straight-through gradient, so its bits are real), ``filters`` (encoder width), and
optional 6-bit quantisation-aware weights in the encoder (the on-chip format).  The decoder
runs off-detector in floating point.  The lower-right 4x4 quarter of the image is no trigger
cell: the output is masked there.

**Conditional decoder** (``conditions``, ECON_CAE, econt.md §10-11): the decoder's first dense
layer also gets the module's conditions, known off-detector and costing no e-link bits; the
encoder is unchanged.  Each name of :data:`CONDITIONS` adds its features, normalised as in
ECON_CAE's ``process_data.py``: ``abs_eta`` |η|/3.1, ``layer`` (layer − 1)/46, ``wafer_type``
one-hot of 3 (:data:`WAFER_TYPES`); ``log_sum`` ln(ΣCALQ + 1) divided by
:data:`LOG_SUM_SCALE` (ECON_CAE feeds it unscaled, values up to ~12; measured on the default
preset under ``pu200``, 16x3 bits, 2 e-links, seeds 0 and 1: mean EMD 1.959 / 1.986 cm
unscaled, 1.738 / 1.846 cm scaled: large inputs slow and scatter the decoder's training).
Build them with :func:`condition_features`; a conditional model asked to decode without them
raises :class:`~hgcal_ae.errors.ConfigError`.  With no conditions (the default) the model is the
unconditional one, parameter for parameter and draw for draw.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F
from torch import nn

from hgcal_ae.detector.trigger_cells import N_TRIGGER_CELLS
from hgcal_ae.errors import ConfigError
from hgcal_ae.models.quantisation import quantise_unsigned, quantise_weights

__all__ = [
    "CONDITIONS",
    "DECODER_HEADS",
    "LOG_SUM_SCALE",
    "WAFER_TYPES",
    "ModuleAEConfig",
    "ModuleAutoencoder",
    "condition_features",
    "condition_width",
    "image_mask",
]

DECODER_HEADS = ("softmax", "sigmoid")
#: Conditions a decoder can get, with the number of features each adds (ECON_CAE)
CONDITIONS: dict[str, int] = {"abs_eta": 1, "layer": 1, "wafer_type": 3, "log_sum": 1}
#: The silicon sensors of the wafer-type one-hot: HD 120 µm, LD 200 µm, LD 300 µm
WAFER_TYPES = ("hd_120um", "ld_200um", "ld_300um")
#: ``log_sum`` is fed as ln(ΣCALQ + 1) / LOG_SUM_SCALE, of order 1 (see the module docstring)
LOG_SUM_SCALE = 10.0


def condition_width(conditions: tuple[str, ...]) -> int:
    """Number of decoder input features the ``conditions`` add."""
    return sum(CONDITIONS[name] for name in conditions)


def condition_features(
    conditions: tuple[str, ...], values: Mapping[str, npt.ArrayLike]
) -> torch.Tensor:
    """The decoder's condition features ``(N, condition_width(conditions))``, float32.

    Parameters
    ----------
    conditions
        Names from :data:`CONDITIONS`, in the model's order.
    values
        Per module ``(N,)``: ``abs_eta`` (|η|), ``layer`` (1..), ``wafer_type`` (index into
        :data:`WAFER_TYPES`), ``log_sum`` (ln(ΣCALQ + 1); divided here by :data:`LOG_SUM_SCALE`).

    Raises
    ------
    ConfigError
        If a value is missing, has another length than the others, is not finite, or a
        wafer type is outside 0..2.
    """
    columns: list[npt.NDArray[np.float64]] = []
    lengths = set()
    for name in conditions:
        if name not in values:
            msg = f"condition {name!r} has no values; expected per-module arrays for {', '.join(conditions)}"
            raise ConfigError(msg)
        value = np.asarray(values[name], dtype=np.float64).reshape(-1)
        lengths.add(value.size)
        if not np.isfinite(value).all():
            msg = f"condition {name!r} holds {int((~np.isfinite(value)).sum())} non-finite values; expected finite numbers"
            raise ConfigError(msg)
        if name == "wafer_type":
            kind = value.astype(np.int64)
            if np.any(kind != value) or np.any((kind < 0) | (kind >= len(WAFER_TYPES))):
                msg = f"condition 'wafer_type' must be an index 0..{len(WAFER_TYPES) - 1} into {WAFER_TYPES}"
                raise ConfigError(msg)
            columns.extend((kind == k).astype(np.float64) for k in range(len(WAFER_TYPES)))
        else:  # ECON_CAE's scales η / 3.1, (layer - 1) / 46; ln(ΣCALQ + 1) / LOG_SUM_SCALE
            scales = {"abs_eta": (3.1, 0.0), "layer": (46.0, 1.0), "log_sum": (LOG_SUM_SCALE, 0.0)}
            scale, shift = scales[name]
            columns.append((value - shift) / scale)
    if len(lengths) > 1:
        msg = f"conditions {conditions!r} have different lengths {sorted(lengths)}; expected one per module"
        raise ConfigError(msg)
    n = lengths.pop() if lengths else 0
    features = np.stack(columns, axis=1) if columns else np.zeros((n, 0))
    return torch.from_numpy(features.astype(np.float32))


def image_mask() -> torch.Tensor:
    """(1, 1, 8, 8) mask of the 8x8 image: 1 on the 48 trigger cells, 0 on the lower-right quarter."""
    mask = torch.ones(1, 1, 8, 8)
    mask[..., 4:, 4:] = 0.0
    return mask


@dataclass(frozen=True)
class ModuleAEConfig:
    """Architecture of a module autoencoder; the defaults are the published ECON-T encoder."""

    latent_dim: int = 16
    latent_bits: int = 9
    filters: int = 8
    quantised_weights: bool = False
    weight_bits: int = 6
    decoder_head: str = "softmax"
    conditions: tuple[str, ...] = ()  # the conditional decoder's inputs (CONDITIONS); () = none

    def __post_init__(self) -> None:
        conditions = self.conditions
        if isinstance(conditions, str) or not all(c in CONDITIONS for c in conditions):
            msg = f"conditions must be names from {', '.join(CONDITIONS)}, got {conditions!r}"
            raise ConfigError(msg)
        if len(set(conditions)) != len(tuple(conditions)):
            msg = f"conditions must not repeat a name, got {conditions!r}"
            raise ConfigError(msg)
        object.__setattr__(self, "conditions", tuple(conditions))
        if self.decoder_head not in DECODER_HEADS:
            msg = (
                f"decoder_head must be one of {', '.join(DECODER_HEADS)}, got {self.decoder_head!r}"
            )
            raise ConfigError(msg)
        checks = (
            ("latent_dim", 1, N_TRIGGER_CELLS, "the input has 48 trigger cells"),
            ("latent_bits", 1, 16, "bits per latent value"),
            ("filters", 1, 256, "encoder filters"),
            ("weight_bits", 2, 16, "bits per weight"),
        )
        for name, low, high, what in checks:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                msg = f"{name} must be an integer in {low}..{high} ({what}), got {value!r}"
                raise ConfigError(msg)

    @property
    def latent_payload_bits(self) -> int:
        """Bits of the latent code per bunch crossing: latent_dim × latent_bits."""
        return self.latent_dim * self.latent_bits


class _QuantisedWeights:
    """Mixin: the layer's weight and bias, fake-quantised when enabled (straight-through)."""

    weight: torch.Tensor
    bias: torch.Tensor | None

    def __init__(self, *args: object, weight_bits: int, enabled: bool, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.weight_bits, self.enabled = weight_bits, enabled

    def _params(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        if not self.enabled:
            return self.weight, self.bias
        bias = quantise_weights(self.bias, self.weight_bits) if self.bias is not None else None
        return quantise_weights(self.weight, self.weight_bits), bias


class _QuantisedConv2d(_QuantisedWeights, nn.Conv2d):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w, b = self._params()
        return F.conv2d(x, w, b, self.stride, self.padding, self.dilation, self.groups)


# torch's Linear assigns bias a Parameter or None, so mypy infers Parameter and calls the
# mixin's (correct) ``Tensor | None`` incompatible
class _QuantisedLinear(_QuantisedWeights, nn.Linear):  # type: ignore[misc]
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w, b = self._params()
        return F.linear(x, w, b)


class ModuleAutoencoder(nn.Module):
    """Encoder (on the ECON-T) and decoder (off-detector) of one module's 8x8 image.

    Inputs are normalised charges (econt.md §2: divided by the module sum rounded down to a
    power of two), shape ``(B, 1, 8, 8)``; outputs have the same shape, zero on the lower-right
    quarter: with the softmax head they sum to the input's sum, with the sigmoid head each is
    in [0, 1].
    """

    mask: torch.Tensor  # (1, 1, 8, 8) buffer: 1 on the 48 TCs, 0 on the empty quarter

    def __init__(self, config: ModuleAEConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or ModuleAEConfig()
        bits, on = config.weight_bits, config.quantised_weights
        f = config.filters
        self.conv = _QuantisedConv2d(1, f, 3, stride=2, padding=1, weight_bits=bits, enabled=on)
        self.dense = _QuantisedLinear(4 * 4 * f, config.latent_dim, weight_bits=bits, enabled=on)
        self.decoder = nn.Sequential(
            nn.Linear(config.latent_dim + condition_width(config.conditions), 128),
            nn.ReLU(),
            nn.Unflatten(1, (8, 4, 4)),
            nn.ConvTranspose2d(8, 8, 3, stride=2, padding=1, output_padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(8, 1, 3, stride=1, padding=1),
        )
        # Sigmoid head: start from a faint reconstruction (sigmoid(-3) = 0.05 per TC), not 0.5:
        # the initial telescope loss is then ~1 instead of ~100, whose first steps drove every
        # latent value below zero, where the quantised ReLU passes no gradient, and the AE
        # collapsed to one constant image (measured on the default study data: validation
        # loss 0.61 -> 0.12 and mean EMD 7.3 -> 3.3 cm after 15 epochs).
        head = self.decoder[-1]
        assert isinstance(head, nn.ConvTranspose2d) and head.bias is not None
        with torch.no_grad():
            head.bias.fill_(-3.0)
        self.register_buffer("mask", image_mask(), persistent=False)

    def encode(self, image: torch.Tensor) -> torch.Tensor:
        """The latent code ``(B, latent_dim)``, quantised to ``latent_bits`` (range [0, 2))."""
        h = torch.relu(self.conv(image)).flatten(1)
        return quantise_unsigned(self.dense(h), self.config.latent_bits)

    def decode(
        self,
        code: torch.Tensor,
        total: torch.Tensor | float = 1.0,
        conditions: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The 8x8 image of ``code``; the softmax head scales its shape to ``total`` ((B, 1, 1, 1)).

        ``conditions``: the conditional decoder's features ``(B, condition_width)``
        (:func:`condition_features`); required exactly when ``config.conditions`` is not empty.
        """
        names = self.config.conditions
        if names:
            width = condition_width(names)
            if conditions is None:
                msg = f"this module AE decodes with conditions {names!r}; call it with their features (B, {width}) from condition_features"
                raise ConfigError(msg)
            if conditions.shape != (code.shape[0], width):
                msg = f"conditions have shape {tuple(conditions.shape)}; expected ({code.shape[0]}, {width}) for {names!r}"
                raise ConfigError(msg)
            code = torch.cat([code, conditions.to(code)], dim=1)
        elif conditions is not None:
            msg = "this module AE has no conditions (ModuleAEConfig.conditions is empty); decode it without them"
            raise ConfigError(msg)
        logits = self.decoder(code)
        if self.config.decoder_head == "sigmoid":
            return torch.sigmoid(logits) * self.mask
        logits = logits.masked_fill(self.mask == 0, float("-inf")).flatten(1)
        return torch.softmax(logits, dim=1).view(-1, 1, 8, 8) * total

    def forward(self, image: torch.Tensor, conditions: torch.Tensor | None = None) -> torch.Tensor:
        total = image.sum(dim=(1, 2, 3), keepdim=True)
        return self.decode(self.encode(image), total, conditions)

    def parameter_counts(self) -> dict[str, int]:
        """Trainable parameters of the encoder (on chip) and the decoder."""
        encoder = sum(p.numel() for m in (self.conv, self.dense) for p in m.parameters())
        decoder = sum(p.numel() for p in self.decoder.parameters())
        return {"encoder": encoder, "decoder": decoder, "total": encoder + decoder}
