"""Training, running, saving and loading the module autoencoder on trigger-cell data.

Public API::

    ModuleTrainingConfig(latent_dim=16, latent_bits=9, loss="telescope", epochs=20, ...)
    train_module_autoencoder(config, train_tc, val_tc, *, train_conditions=None,
                             val_conditions=None, **run) -> (ModuleAutoencoder, LoopResult)
    train_rows(build, config, train, val, batch_loss, **run) -> (model, LoopResult)
    module_inputs(tc) -> (images (N, 1, 8, 8) tensor, scale (N,))
    decode_shapes(model, tc, *, conditions=None) -> (N, 48)   # the decoder's output per module
    decode_modules(model, tc, *, lsb, zero_suppress=0.0, conditions=None) -> (N, 48)
    autoencoder_output(model, tc, n_elinks, *, lsb, zero_suppress=0.0, conditions=None)
    save_module_ae(path, model, config, history) / load_module_ae(path) -> ModuleAutoencoder
    saved_training_config(path) -> ModuleTrainingConfig | None

``conditions`` (a conditional decoder's, :attr:`ModuleAEConfig.conditions`): per-module raw
values by name (``{"abs_eta": (N,), "layer": (N,), ...}``), turned into features by
:func:`~hgcal_ae.models.module_ae.condition_features`; a conditional model needs them at every
call, an unconditional one refuses them (:class:`~hgcal_ae.errors.ConfigError`).

The ECON-T chain around the network (inputs, module sum, zero suppression, the AE frame) is
:mod:`hgcal_ae.trigger.transmission`; this module runs the network inside it.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, Unpack

import numpy as np
import numpy.typing as npt
import torch

from hgcal_ae.errors import ConfigError, DataError
from hgcal_ae.models.losses import Loss
from hgcal_ae.models.module_ae import ModuleAEConfig, ModuleAutoencoder, condition_features
from hgcal_ae.models.module_losses import module_loss
from hgcal_ae.models.training import (
    EpochRecord,
    LoopResult,
    RunOptions,
    fit,
    save_torch,
    seeded_model,
)
from hgcal_ae.trigger.baselines import AlgorithmOutput
from hgcal_ae.trigger.images import from_image_8x8
from hgcal_ae.trigger.transmission import encoder_inputs, to_module_sum, transmit_autoencoder

__all__ = [
    "ModuleTrainingConfig",
    "autoencoder_output",
    "decode_modules",
    "decode_shapes",
    "load_module_ae",
    "module_inputs",
    "read_model_file",
    "save_module_ae",
    "saved_training_config",
    "train_module_autoencoder",
    "train_rows",
]

ModelT = TypeVar("ModelT", bound=ModuleAutoencoder)
T = TypeVar("T")
Conditions = Mapping[str, npt.ArrayLike]


def _condition_rows(
    config: ModuleAEConfig, conditions: Conditions | None, n_rows: int, what: str
) -> torch.Tensor | None:
    """The condition features of ``n_rows`` modules, or None for an unconditional model."""
    if not config.conditions:
        if conditions is not None:
            msg = f"{what}: this module AE has no conditions (ModuleAEConfig.conditions is empty); pass none"
            raise ConfigError(msg)
        return None
    if conditions is None:
        msg = f"{what}: a conditional module AE (conditions {config.conditions!r}) needs their per-module values; got none"
        raise ConfigError(msg)
    features = condition_features(config.conditions, conditions)
    if len(features) != n_rows:
        msg = f"{what}: conditions for {len(features)} modules; expected one per module ({n_rows})"
        raise ConfigError(msg)
    return features


@dataclass(frozen=True)
class ModuleTrainingConfig(ModuleAEConfig):
    """Architecture (the fields of :class:`ModuleAEConfig`), loss and optimiser settings of one
    module-AE training."""

    loss: str = "telescope"
    epochs: int = 20
    batch_size: int = 500  # Ecoder's batch size (econt.md §3)
    learning_rate: float = 1e-3
    seed: int = 0
    # after ``epochs`` with ``loss``, this many epochs with the loss the caller passes as
    # ``finetune_loss`` to train_module_autoencoder (the exact EMD, metrics.emd_loss)
    finetune_epochs: int = 0
    finetune_learning_rate: float = 3e-4

    def __post_init__(self) -> None:
        self.ae_config()  # validates the architecture (a subclass's too, e.g. n_border)
        module_loss(self.loss)
        for name, low in (("epochs", 1), ("batch_size", 1), ("finetune_epochs", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                kind = "a positive integer" if low else "an integer >= 0"
                msg = f"{name} must be {kind}, got {value!r}"
                raise ConfigError(msg)
        if not self.finetune_learning_rate > 0:
            msg = f"finetune_learning_rate must be positive, got {self.finetune_learning_rate!r}"
            raise ConfigError(msg)

    def ae_config(self) -> ModuleAEConfig:
        """The architecture alone."""
        fields = dataclasses.fields(ModuleAEConfig)
        return ModuleAEConfig(**{f.name: getattr(self, f.name) for f in fields})


def module_inputs(tc: npt.ArrayLike) -> tuple[torch.Tensor, npt.NDArray[np.float64]]:
    """ECON-T encoder inputs of modules: 8x8 images ``(N, 1, 8, 8)`` and the sumlog2 scales ``(N,)``.

    See :func:`hgcal_ae.trigger.transmission.encoder_inputs`; NaN charges raise DataError.
    """
    images, scale = encoder_inputs(tc)
    return torch.from_numpy(images).unsqueeze(1), scale


def train_rows(
    build: Callable[[], ModelT],
    config: ModuleTrainingConfig,
    train: torch.Tensor,
    val: torch.Tensor,
    batch_loss: Callable[[torch.nn.Module, torch.Tensor], torch.Tensor],
    **run: Unpack[RunOptions],
) -> tuple[ModelT, LoopResult]:
    """Train the model ``build()`` makes (seeded by ``config.seed``) on rows of module inputs.

    The loop of the module AE and of the border AE: :func:`~hgcal_ae.models.training.fit`
    minimising ``batch_loss(model, rows)``, with the validation loss its mean over ``val`` in
    batches of 4096 rows; ``run`` are the :class:`~hgcal_ae.models.training.RunOptions`.
    """
    model = seeded_model(build, config.seed, torch.device(run.get("device", "cpu")))

    def evaluate(m: torch.nn.Module, rows: torch.Tensor) -> float:
        total = sum(float(batch_loss(m, b)) * len(b) for b in torch.split(rows, 4096))
        return total / len(rows)

    result = fit(model, config, train, val, batch_loss=batch_loss, evaluate=evaluate, **run)
    return model, result


def train_module_autoencoder(
    config: ModuleTrainingConfig,
    train_tc: npt.ArrayLike,
    val_tc: npt.ArrayLike,
    *,
    train_conditions: Conditions | None = None,
    val_conditions: Conditions | None = None,
    finetune_loss: Loss | None = None,
    **run: Unpack[RunOptions],
) -> tuple[ModuleAutoencoder, LoopResult]:
    """Train a module AE on TC charges ``(N, 48)`` (empty modules are left out, as in Ecoder).

    ``run``: ``device``, ``checkpoint``, ``on_epoch``, ``progress``
    (:class:`~hgcal_ae.models.training.RunOptions`).  With ``config.finetune_epochs`` > 0 the
    trained model is then fine-tuned with ``finetune_loss(y, y_hat)`` (a loss of a higher
    stage, injected: models do not import metrics) at ``config.finetune_learning_rate``; its
    checkpoint is ``finetune_<checkpoint name>``, its epochs follow the first ones in the history.
    A conditional model (``config.conditions``) needs ``train_conditions`` and
    ``val_conditions`` (one value per module of ``train_tc`` / ``val_tc``): each batch row then
    carries the image and its condition features.
    """
    if config.finetune_epochs and finetune_loss is None:
        msg = f"finetune_epochs={config.finetune_epochs} needs the finetune_loss callable (e.g. hgcal_ae.metrics.emd_loss.exact_emd_image_loss)"
        raise ConfigError(msg)
    loss_fn = module_loss(config.loss)
    train_img, train_scale = module_inputs(train_tc)
    val_img, val_scale = module_inputs(val_tc)
    train_cond = _condition_rows(config, train_conditions, len(train_img), "train_conditions")
    val_cond = _condition_rows(config, val_conditions, len(val_img), "val_conditions")
    train_img, val_img = train_img[train_scale > 0], val_img[val_scale > 0]
    if len(train_img) == 0 or len(val_img) == 0:
        msg = "module-AE training needs non-empty modules in both the training and validation sets"
        raise ConfigError(msg)
    if train_cond is not None and val_cond is not None:
        # conditional: each row is the flattened image, then its condition features
        train_img = torch.cat([train_img.flatten(1), train_cond[train_scale > 0]], dim=1)
        val_img = torch.cat([val_img.flatten(1), val_cond[val_scale > 0]], dim=1)
    model, result = train_rows(
        lambda: ModuleAutoencoder(config.ae_config()),
        config,
        train_img,
        val_img,
        _batch_loss(loss_fn, conditional=bool(config.conditions)),
        **run,
    )
    return _finetune(model, result, config, train_img, val_img, finetune_loss, **run)


def _batch_loss(
    loss: Loss, *, conditional: bool
) -> Callable[[torch.nn.Module, torch.Tensor], torch.Tensor]:
    """``loss(image, model(image))`` of a batch; of packed rows (64 image values, then the
    condition features) ``loss(image, model(image, features))`` for a conditional model."""
    if not conditional:
        return lambda m, batch: loss(batch, m(batch))

    def packed(m: torch.nn.Module, rows: torch.Tensor) -> torch.Tensor:
        image = rows[:, :64].reshape(-1, 1, 8, 8)
        return loss(image, m(image, rows[:, 64:]))

    return packed


def _finetune(
    model: ModuleAutoencoder,
    result: LoopResult,
    config: ModuleTrainingConfig,
    train_img: torch.Tensor,
    val_img: torch.Tensor,
    finetune_loss: Loss | None,
    **run: Unpack[RunOptions],
) -> tuple[ModuleAutoencoder, LoopResult]:
    """The fine-tuning stage of :func:`train_module_autoencoder` (nothing without it)."""
    if not config.finetune_epochs or finetune_loss is None:
        return model, result
    stage = dataclasses.replace(
        config, epochs=config.finetune_epochs, learning_rate=config.finetune_learning_rate
    )
    checkpoint = run.get("checkpoint")
    if checkpoint is not None:
        run["checkpoint"] = checkpoint.with_name(f"finetune_{checkpoint.name}")
    batch_loss = _batch_loss(finetune_loss, conditional=bool(config.conditions))
    tuned, second = train_rows(lambda: model, stage, train_img, val_img, batch_loss, **run)
    offset = len(result.history)
    history = result.history + [
        dataclasses.replace(r, epoch=r.epoch + offset) for r in second.history
    ]
    return tuned, dataclasses.replace(second, history=history)


@torch.no_grad()
def decode_shapes(
    model: ModuleAutoencoder,
    tc: npt.ArrayLike,
    *,
    batch_size: int = 65536,
    conditions: Conditions | None = None,
) -> npt.NDArray[np.float64]:
    """Encode and decode modules: the decoder's output ``(N, 48)`` for inputs ``tc`` ``(N, 48)``.

    A conditional model needs ``conditions`` (one value per module, see the module docstring).
    """
    device = next(model.parameters()).device
    model.eval()
    images, _ = module_inputs(tc)
    features = _condition_rows(model.config, conditions, len(images), "decoding")
    if features is None:
        batches = [model(b.to(device)) for b in torch.split(images, batch_size)]
    else:
        pairs = zip(torch.split(images, batch_size), torch.split(features, batch_size), strict=True)
        batches = [model(b.to(device), f.to(device)) for b, f in pairs]
    decoded = torch.cat([b.cpu() for b in batches])
    return from_image_8x8(decoded.squeeze(1).numpy().astype(np.float64))


def decode_modules(
    model: ModuleAutoencoder,
    tc: npt.ArrayLike,
    *,
    lsb: float,
    zero_suppress: float = 0.0,
    conditions: Conditions | None = None,
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
    conditions
        A conditional model's per-module conditions (see the module docstring).
    """
    tc = np.asarray(tc, dtype=np.float64)
    shapes = decode_shapes(model, tc, conditions=conditions)
    return to_module_sum(shapes, tc, lsb=lsb, zero_suppress=zero_suppress)


def autoencoder_output(
    model: ModuleAutoencoder,
    tc: npt.ArrayLike,
    n_elinks: int,
    *,
    lsb: float,
    zero_suppress: float = 0.0,
    conditions: Conditions | None = None,
) -> AlgorithmOutput:
    """The AE as one ECON-T algorithm (:func:`~hgcal_ae.trigger.transmission.transmit_autoencoder`).

    A conditional model decodes with ``conditions`` (free: known off-detector, no e-link bits).

    Raises
    ------
    ConfigError
        If the latent code does not fit ``n_elinks``, or a conditional model gets no conditions.
    """
    cfg = model.config
    tc = np.asarray(tc, dtype=np.float64)
    shapes = decode_shapes(model, tc, conditions=conditions)
    return transmit_autoencoder(
        shapes, tc, n_elinks, cfg.latent_dim, cfg.latent_bits, lsb=lsb, zero_suppress=zero_suppress
    )


def save_module_ae(
    path: str | os.PathLike[str],
    model: ModuleAutoencoder,
    config: ModuleTrainingConfig,
    history: list[EpochRecord],
) -> Path:
    """Write a trained module AE (``model.pt``: settings, weights, history), atomically."""
    payload = {
        "config": dataclasses.asdict(config),
        "state_dict": {k: v.cpu() for k, v in model.state_dict().items()},
        "history": [dataclasses.asdict(r) for r in history],
    }
    return save_torch(Path(path), payload)


def read_model_file(
    path: str | os.PathLike[str],
    build: Callable[[dict[str, Any]], T],
    *,
    what: str = "module autoencoder",
    writer: str = "the study",
) -> T:
    """``build(payload)`` of a model file written by :func:`save_module_ae` (read on the CPU).

    Raises
    ------
    DataError
        One line naming the file when it is missing, truncated or not such a file, or when
        ``build`` finds a field missing or of another shape.
    """
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False)
        return build(payload)
    except (OSError, KeyError, RuntimeError, EOFError, TypeError, ValueError) as exc:
        msg = f"cannot load {what} {str(path)!r} ({type(exc).__name__}: {exc}); expected a model.pt written by {writer} — delete it and run again"
        raise DataError(msg) from exc


def load_module_ae(path: str | os.PathLike[str]) -> ModuleAutoencoder:
    """Load a module AE written by :func:`save_module_ae`, on the CPU, in eval mode.

    Raises
    ------
    DataError
        If the file is missing, truncated or not a module-AE file.
    """

    def build(payload: dict[str, Any]) -> ModuleAutoencoder:
        c = payload["config"]
        config = ModuleAEConfig(
            latent_dim=c["latent_dim"], latent_bits=c["latent_bits"], filters=c["filters"],
            quantised_weights=c["quantised_weights"],
            decoder_head=c.get("decoder_head", "sigmoid"),  # files from before the choice
            conditions=tuple(c.get("conditions", ())),  # files from before conditional decoders
        )  # fmt: skip
        model = ModuleAutoencoder(config)
        model.load_state_dict(payload["state_dict"])
        return model

    return read_model_file(path, build).eval()


def saved_training_config(path: str | os.PathLike[str]) -> ModuleTrainingConfig | None:
    """The settings a saved module AE was trained with; None if the file is unreadable."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False)
        return ModuleTrainingConfig(**payload["config"])
    except Exception:  # unreadable, foreign or from another version: not this training
        return None
