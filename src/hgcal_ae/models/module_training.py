"""Training and running the module autoencoder on trigger-cell data.

The ECON-T input chain (econt.md §2): a module's 48 TC charges are divided by the module sum
rounded down to a power of two, rounded to 8-bit inputs (steps of 1/256) and laid out as the
8x8 image.  The off-detector chain: the decoder's image goes back to 48 normalised values,
which are rescaled so that their sum is the transmitted module sum (9-bit 5E4M;
``preserveModuleSum``, OW train.py / CMSSW), and decoded values below a zero-suppression
threshold (0.1 MIP_T in CMSSW) are dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch

from hgcal_ae.errors import ConfigError
from hgcal_ae.models.module_ae import ModuleAEConfig, ModuleAutoencoder
from hgcal_ae.models.module_losses import module_loss
from hgcal_ae.models.training import EpochRecord, LoopResult, fit
from hgcal_ae.trigger.autoencoder_budget import autoencoder_bits, check_autoencoder_fits
from hgcal_ae.trigger.baselines import ELINK_BITS, AlgorithmOutput
from hgcal_ae.trigger.formats import SUM_5E4M
from hgcal_ae.trigger.images import from_image_8x8, to_image_8x8
from hgcal_ae.trigger.normalisation import normalise_sumlog2, quantise_inputs

__all__ = [
    "ModuleTrainingConfig",
    "autoencoder_output",
    "decode_modules",
    "module_inputs",
    "to_module_sum",
    "train_module_autoencoder",
]


@dataclass(frozen=True)
class ModuleTrainingConfig:
    """Architecture, loss and optimiser settings of one module-AE training."""

    latent_dim: int = 16
    latent_bits: int = 9
    filters: int = 8
    quantised_weights: bool = False
    decoder_head: str = "softmax"
    loss: str = "telescope"
    epochs: int = 20
    batch_size: int = 500  # Ecoder's batch size (econt.md §3)
    learning_rate: float = 1e-3
    seed: int = 0

    def __post_init__(self) -> None:
        self.ae_config()  # validates the architecture
        module_loss(self.loss)
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                msg = f"{name} must be a positive integer, got {value!r}"
                raise ConfigError(msg)

    def ae_config(self) -> ModuleAEConfig:
        return ModuleAEConfig(
            latent_dim=self.latent_dim,
            latent_bits=self.latent_bits,
            filters=self.filters,
            quantised_weights=self.quantised_weights,
            decoder_head=self.decoder_head,
        )


def module_inputs(tc: npt.ArrayLike) -> tuple[torch.Tensor, npt.NDArray[np.float64]]:
    """ECON-T encoder inputs of modules: 8x8 images ``(N, 1, 8, 8)`` and the sumlog2 scales ``(N,)``."""
    normalised, scale = normalise_sumlog2(np.asarray(tc, dtype=np.float64))
    images = to_image_8x8(quantise_inputs(normalised))
    return torch.from_numpy(images.astype(np.float32)).unsqueeze(1), scale


def train_module_autoencoder(
    config: ModuleTrainingConfig,
    train_tc: npt.ArrayLike,
    val_tc: npt.ArrayLike,
    *,
    device: torch.device | str = "cpu",
    checkpoint: Path | None = None,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    progress: bool = False,
) -> tuple[ModuleAutoencoder, LoopResult]:
    """Train a module AE on TC charges ``(N, 48)`` (empty modules are left out, as in Ecoder)."""
    device = torch.device(device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = ModuleAutoencoder(config.ae_config())
    model.to(device)
    loss_fn = module_loss(config.loss)
    train_img, train_scale = module_inputs(train_tc)
    val_img, val_scale = module_inputs(val_tc)
    train_img, val_img = train_img[train_scale > 0], val_img[val_scale > 0]
    if len(train_img) == 0 or len(val_img) == 0:
        msg = "module-AE training needs non-empty modules in both the training and validation sets"
        raise ConfigError(msg)

    def evaluate(m: torch.nn.Module, images: torch.Tensor) -> float:
        total = sum(float(loss_fn(b, m(b))) * len(b) for b in images.split(4096))
        return total / len(images)

    result = fit(
        model,
        config,
        train_img,
        val_img,
        batch_loss=lambda m, batch: loss_fn(batch, m(batch)),
        evaluate=evaluate,
        device=device,
        checkpoint=checkpoint,
        on_epoch=on_epoch,
        progress=progress,
    )
    return model, result


@torch.no_grad()
def decode_modules(
    model: ModuleAutoencoder,
    tc: npt.ArrayLike,
    *,
    lsb: float,
    zero_suppress: float = 0.0,
    batch_size: int = 65536,
) -> npt.NDArray[np.float64]:
    """Encode, transmit and decode modules: the TC charges the trigger sees, ``(N, 48)``.

    Parameters
    ----------
    tc
        Input charges ``(N, 48)`` (e.g. MIP).
    lsb
        One ADC count in the units of ``tc``; the module sum is sent as 9-bit 5E4M counts.
    zero_suppress
        Decoded TCs below this value (after scaling to the module sum) are set to 0 and the
        rest rescaled to the transmitted sum (CMSSW: 0.1 MIP_T).
    """
    tc = np.asarray(tc, dtype=np.float64)
    device = next(model.parameters()).device
    model.eval()
    images, _ = module_inputs(tc)
    decoded = torch.cat([model(b.to(device)).cpu() for b in images.split(batch_size)])
    shape = from_image_8x8(decoded.squeeze(1).numpy().astype(np.float64))
    return to_module_sum(shape, tc, lsb=lsb, zero_suppress=zero_suppress)


def to_module_sum(
    shape: npt.NDArray[np.float64],
    tc: npt.NDArray[np.float64],
    *,
    lsb: float,
    zero_suppress: float = 0.0,
) -> npt.NDArray[np.float64]:
    """Decoded shapes ``(N, 48)`` to the charges the trigger sees, with the transmitted sum.

    The module sum of ``tc`` is sent as a 9-bit 5E4M code (``lsb`` per count).  Zero suppression
    comes first, then the rescaling to the transmitted sum, so that suppressing the decoder's
    faint haze moves no energy out of the module; the largest TC is always kept.
    """
    module_sum = SUM_5E4M.quantise(tc.sum(axis=1), lsb=lsb)
    total = shape.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = np.where(total[:, None] > 0, shape * (module_sum / total)[:, None], 0.0)
    largest = scaled == scaled.max(axis=1, keepdims=True)  # a module keeps at least one TC
    kept = np.where((scaled >= zero_suppress) | largest, shape, 0.0)
    kept_total = kept.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(kept_total[:, None] > 0, kept * (module_sum / kept_total)[:, None], 0.0)


def autoencoder_output(
    model: ModuleAutoencoder,
    tc: npt.ArrayLike,
    n_elinks: int,
    *,
    lsb: float,
    zero_suppress: float = 0.0,
) -> AlgorithmOutput:
    """The AE as one ECON-T algorithm, comparable with :mod:`hgcal_ae.trigger.baselines`.

    Raises
    ------
    ConfigError
        If the latent code does not fit ``n_elinks`` (see ``check_autoencoder_fits``).
    """
    cfg = model.config
    check_autoencoder_fits(cfg.latent_dim, cfg.latent_bits, n_elinks)
    reconstructed = decode_modules(model, tc, lsb=lsb, zero_suppress=zero_suppress)
    bits = np.full(
        len(reconstructed), autoencoder_bits(cfg.latent_dim, cfg.latent_bits), dtype=np.int64
    )
    return AlgorithmOutput(
        name="autoencoder",
        reconstructed=reconstructed,
        bits=bits,
        fits=bits <= ELINK_BITS * n_elinks,
        n_elinks=n_elinks,
        setting=f"{n_elinks} eTx, latent {cfg.latent_dim}x{cfg.latent_bits} bits",
    )
