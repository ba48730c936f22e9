"""The neighbour-merging study: what is lost when a split shower is compressed module by module.

Public API::

    neighbour_study(data, setup, *, latent_dim=16, latent_bits=3, epochs=15, seed=0, ...)
        -> NeighbourStudyResult          # .rows (table), .summary (JSON-able), arrays, models

Two autoencoders with the **same latent code** (``latent_dim x latent_bits`` bits per module)
are trained on the same training rows, with the same loss, optimiser settings and seed.
Rows are split by event with the study's one rule, :func:`~hgcal_ae.datasets.splits.split_rows`
(default fractions 0.6 / 0.1 / 0.3, those of the study presets), so the test modules are those
of ``hgcal-ae study`` on the same data:

* ``alone``: the published module AE (:func:`~hgcal_ae.models.module_training.train_module_autoencoder`),
  which sees only its own 48 TCs; the study's own trained model can be passed in (``alone=``),
  so that both reports quote one model;
* ``with_neighbours``: the border AE (:mod:`hgcal_ae.models.border_ae`), whose encoder also
  sees the 24 border TCs of the adjacent modules (:mod:`hgcal_ae.trigger.neighbours`);
* ``shuffled_border`` (the control, ``control=True``): the same border AE, trained and
  evaluated with the border rows permuted at random across module rows.  It has the same
  inputs, parameters and training, but its border says nothing about the module's own
  shower.  What ``with_neighbours`` gains over it is neighbour information.  What
  ``shuffled_border`` gains over ``alone`` comes from the bigger encoder or another training
  path.

Both decode the test rows to TC charges, with the same transmitted 5E4M module sum and zero
suppression.  Each is measured against the **uncompressed** TCs:

* per module: EMD [cm] and the energy-weighted centroid shift [cm] (econt.md §5);
* per event-layer: the distance between the energy-weighted barycentres of the decoded and
  uncompressed TCs over all modules of that event and layer, in the layer frame [mm];
* per event: the same barycentre distance over every module and layer of the shower, with
  the dE/dx layer weights [mm].

Each measure (:mod:`hgcal_ae.study.neighbour_measures`) is given for all rows and separately
for split and contained showers.  A module row and an event-layer are *split* when the
layer's hottest module holds less than ``split_threshold`` of its energy
(:func:`~hgcal_ae.trigger.neighbours.layer_split`).  An event is split when its
shower-maximum layer (most uncompressed charge) is.  The result also describes the split
fraction itself: how often a shower's layer is split, and the histogram of the hottest
module's share.

Caveat: the tiling has 7 wafers, so the outer six lack half their neighbours (border
slots padded with 0).  The showers start within one wafer radius of the centre
(:class:`~hgcal_ae.study.showers.TriggerDatasetConfig`), so most of their energy is in the
central wafer and its direct neighbours.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Unpack

import numpy as np
import numpy.typing as npt
import torch

from hgcal_ae.datasets.module_rows import ModuleRows
from hgcal_ae.datasets.splits import DEFAULT_FRACTIONS, split_rows
from hgcal_ae.detector.setups import DetectorSetup, detector_setup
from hgcal_ae.errors import ConfigError
from hgcal_ae.models.border_ae import (
    BorderAutoencoder,
    BorderTrainingConfig,
    decode_with_border,
    train_border_autoencoder,
)
from hgcal_ae.models.module_ae import ModuleAutoencoder
from hgcal_ae.models.module_training import (
    ModuleTrainingConfig,
    decode_modules,
    train_module_autoencoder,
)
from hgcal_ae.models.training import EpochRecord, LoopResult, RunOptions
from hgcal_ae.study.neighbour_measures import neighbour_measures
from hgcal_ae.trigger.formats import tc_lsb_mip
from hgcal_ae.trigger.neighbours import (
    SPLIT_THRESHOLD,
    BorderGeometry,
    LayerSplit,
    border_charges,
    border_geometry,
    layer_split,
)

__all__ = [
    "BORDER_MODELS",
    "MODELS",
    "NeighbourStudyResult",
    "border_training_data",
    "neighbour_study",
    "train_border_model",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

MODELS = ("alone", "with_neighbours", "shuffled_border")
_CHECKPOINTS = {"with_neighbours": "border_ae", "shuffled_border": "shuffled_border_ae"}
#: The border AEs of the study: with the neighbours' border TCs, and the shuffled control.
BORDER_MODELS = tuple(_CHECKPOINTS)


@dataclass
class NeighbourStudyResult:
    """Outcome of :func:`neighbour_study`.

    Attributes
    ----------
    rows : list of dict
        The table: one row per model and shower class (``"model"``, ``"showers"``, counts and
        plain-float measures; ``nan`` where a class is empty).
    summary : dict
        Everything as plain JSON values (``nan`` written as ``None``): settings, the rows,
        paired EMD differences, split statistics, histograms, training histories.
    emd_cm : dict of str to numpy.ndarray, shape (N_test,)
        Per-module EMD of each model [cm] (Ecoder sentinels -1 / -0.5 for empty modules).
    test_split : numpy.ndarray of bool, shape (N_test,)
        Whether each test row belongs to a split event-layer.
    split : LayerSplit
        The split measure of every event-layer of ``data``.
    models : dict of str to ModuleAutoencoder
        The trained ``"alone"``, ``"with_neighbours"`` (and ``"shuffled_border"``) models.
    """

    rows: list[dict[str, Any]]
    summary: dict[str, Any]
    emd_cm: dict[str, FloatArray]
    test_split: BoolArray
    split: LayerSplit
    models: dict[str, ModuleAutoencoder]


def _jsonable(value: Any) -> Any:
    """Plain JSON values: numpy scalars and arrays to Python, non-finite floats to ``None``."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _history(history: Sequence[EpochRecord]) -> dict[str, list[float]]:
    return {
        "train_loss": [r.train_loss for r in history],
        "val_loss": [r.val_loss for r in history],
        "seconds": [r.seconds for r in history],
    }


def _setup(setup: DetectorSetup | str) -> DetectorSetup:
    setup = detector_setup(setup) if isinstance(setup, str) else setup
    if not isinstance(setup, DetectorSetup):
        msg = f"setup must be a DetectorSetup or a geometry name such as 'ld8', got {type(setup).__name__}"
        raise ConfigError(msg)
    return setup


def _module_config(
    latent_dim: int, latent_bits: int, loss: str, epochs: int, batch_size: int,
    learning_rate: float, seed: int, decoder_head: str | None,
) -> ModuleTrainingConfig:  # fmt: skip
    head: dict[str, Any] = {} if decoder_head is None else {"decoder_head": decoder_head}
    return ModuleTrainingConfig(
        latent_dim=latent_dim, latent_bits=latent_bits, loss=loss, epochs=epochs,
        batch_size=batch_size, learning_rate=learning_rate, seed=seed, **head,
    )  # fmt: skip


def border_training_data(
    data: ModuleRows,
    setup: DetectorSetup | str,
    *,
    seed: int = 0,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    max_distance_cm: float | None = None,
    control: bool = True,
) -> tuple[BorderGeometry, dict[str, FloatArray], tuple[IntArray, IntArray, IntArray]]:
    """The border geometry, each border model's border charges ``(N, n_border)`` [MIP] and
    the train / validation / test rows (the one split rule), as :func:`neighbour_study`
    and :func:`train_border_model` use them.

    ``"with_neighbours"`` holds each row's own neighbours' border TCs; the control
    ``"shuffled_border"`` (if ``control``) the same rows under a fixed permutation, so it has
    the same border statistics and no link to the module's own shower.
    """
    geometry = border_geometry(_setup(setup), max_distance_cm=max_distance_cm)
    border = border_charges(data, geometry)
    borders = {"with_neighbours": border}
    if control:
        borders["shuffled_border"] = border[
            np.random.default_rng([seed, 1]).permutation(data.n_rows)
        ]
    train, val, test = split_rows(data.event, fractions, seed=seed)
    return geometry, borders, (train, val, test)


def train_border_model(
    data: ModuleRows,
    setup: DetectorSetup | str,
    name: str,
    config: ModuleTrainingConfig,
    *,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    max_distance_cm: float | None = None,
    **run: Unpack[RunOptions],
) -> tuple[BorderAutoencoder, LoopResult]:
    """Train the border AE ``name`` (``"with_neighbours"`` or ``"shuffled_border"``) of
    :func:`neighbour_study` on its own: the same data, split and settings, so the model
    equals the one the study would train (``config.seed`` drives the split and the control's
    permutation, as there).  ``run``: the training's device, checkpoint and callbacks.
    """
    if name not in _CHECKPOINTS:
        msg = f"unknown border model {name!r}; expected one of {', '.join(_CHECKPOINTS)}"
        raise ConfigError(msg)
    geometry, borders, (train, val, _) = border_training_data(
        data, setup, seed=config.seed, fractions=fractions, max_distance_cm=max_distance_cm,
        control=name == "shuffled_border",
    )  # fmt: skip
    tc = np.asarray(data.tc, dtype=np.float64)
    values = borders[name]
    model, fit = train_border_autoencoder(
        BorderTrainingConfig.from_module(config, geometry.n_border),
        tc[train], values[train], tc[val], values[val], **run,
    )  # fmt: skip
    return model.cpu(), fit


def neighbour_study(
    data: ModuleRows,
    setup: DetectorSetup | str,
    *,
    alone: ModuleAutoencoder | None = None,
    latent_dim: int = 16,
    latent_bits: int = 3,
    epochs: int = 15,
    seed: int = 0,
    split_threshold: float = SPLIT_THRESHOLD,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    loss: str = "telescope",
    decoder_head: str | None = None,
    batch_size: int = 500,
    learning_rate: float = 1e-3,
    zero_suppress: float = 0.0,
    max_distance_cm: float | None = None,
    control: bool = True,
    device: torch.device | str = "cpu",
    checkpoint_dir: Path | None = None,
    on_epoch: Callable[[str, EpochRecord], None] | None = None,
    progress: bool = False,
    trained: Mapping[str, tuple[BorderAutoencoder, Sequence[EpochRecord]]] | None = None,
) -> NeighbourStudyResult:
    """Train the module AE alone and with neighbours at one latent size; compare on test rows.

    Parameters
    ----------
    data
        Module rows of a trigger dataset, charges [MIP]; whole events.
    setup
        The set-up of the data (or its name, e.g. ``"ld8"``).
    alone
        The module AE alone, already trained with these settings on these rows' training
        split (the study's model); default: trained here.
    latent_dim, latent_bits
        The latent code of both models (same bandwidth).
    epochs, seed, loss, batch_size, learning_rate
        Training settings, shared by all models; ``seed`` also drives the event split.
    decoder_head
        Output head of every decoder (``"softmax"`` or ``"sigmoid"``); default that of
        :class:`~hgcal_ae.models.module_training.ModuleTrainingConfig`.
    split_threshold
        Hottest-module share below which an event-layer is split (default 0.95).
    fractions
        Train / validation / test shares of the events (the study's split by default).
    zero_suppress
        Decoded TCs below this charge [MIP] are dropped (energy kept in the module).
    max_distance_cm
        Border distance (:func:`~hgcal_ae.trigger.neighbours.border_geometry`).
    control
        Also train the ``shuffled_border`` control (module docstring).
    checkpoint_dir
        If given, per-epoch checkpoints ``module_ae.pt``, ``border_ae.pt`` (and
        ``shuffled_border_ae.pt``) there, resumed when present.
    on_epoch
        Called as ``on_epoch(model_name, record)`` after each epoch of either training.
    trained
        Border AEs already trained (:func:`train_border_model`), by name, with their
        training histories; the others are trained here.

    Raises
    ------
    ConfigError
        On bad settings, an ``alone`` model of another code size, or no test rows.
    DataError
        On duplicate rows.
    """
    setup = _setup(setup)
    if len(tuple(fractions)) != 3:
        msg = f"fractions must be three shares (train, validation, test), got {tuple(fractions)!r}"
        raise ConfigError(msg)
    module_cfg = _module_config(latent_dim, latent_bits, loss, epochs, batch_size, learning_rate,
                                seed, decoder_head)  # fmt: skip
    if alone is not None and (alone.config.latent_dim, alone.config.latent_bits) != (
        latent_dim,
        latent_bits,
    ):
        msg = f"the given 'alone' model has a {alone.config.latent_dim}x{alone.config.latent_bits}-bit code, expected {latent_dim}x{latent_bits}"
        raise ConfigError(msg)
    rows = data
    geometry, borders, (train, val, test) = border_training_data(
        rows, setup, seed=seed, fractions=fractions, max_distance_cm=max_distance_cm,
        control=control,
    )  # fmt: skip
    split = layer_split(rows, threshold=split_threshold)
    if test.size == 0:
        msg = f"no test rows: {rows.n_rows} rows of {np.unique(rows.event).size} events split {tuple(fractions)!r}; use more events"
        raise ConfigError(msg)
    border_cfg = BorderTrainingConfig.from_module(module_cfg, geometry.n_border)
    ckpt = {name: None if checkpoint_dir is None else Path(checkpoint_dir) / f"{name}.pt"
            for name in ("module_ae", *_CHECKPOINTS.values())}  # fmt: skip

    def hook(name: str) -> Callable[[EpochRecord], None] | None:
        return None if on_epoch is None else (lambda record: on_epoch(name, record))

    tc = np.asarray(rows.tc, dtype=np.float64)
    fits: dict[str, LoopResult] = {}
    if alone is None:
        alone, fits["alone"] = train_module_autoencoder(
            module_cfg, tc[train], tc[val], device=device, checkpoint=ckpt["module_ae"],
            on_epoch=hook("alone"), progress=progress,
        )  # fmt: skip
    border_models: dict[str, BorderAutoencoder] = {}
    histories: dict[str, Sequence[EpochRecord]] = {}
    for name, values in borders.items():
        if trained is not None and name in trained:
            border_models[name], histories[name] = trained[name]
            if border_models[name].config.n_border != geometry.n_border:
                msg = f"the given {name!r} border AE sees {border_models[name].config.n_border} border TCs, expected {geometry.n_border}"
                raise ConfigError(msg)
            continue
        border_models[name], fits[name] = train_border_autoencoder(
            border_cfg, tc[train], values[train], tc[val], values[val], device=device,
            checkpoint=ckpt[_CHECKPOINTS[name]], on_epoch=hook(name), progress=progress,
        )  # fmt: skip
        histories[name] = fits[name].history
        border_models[name].cpu()
    if "alone" in fits:
        histories["alone"] = fits["alone"].history
    models: dict[str, ModuleAutoencoder] = {"alone": alone.cpu(), **border_models}
    names = [name for name in MODELS if name in models]

    lsb = tc_lsb_mip(setup.lattice.name)
    reference = tc[test]
    decoded = {"alone": decode_modules(alone, reference, lsb=lsb, zero_suppress=zero_suppress)}
    for name, model in border_models.items():
        decoded[name] = decode_with_border(
            model, reference, borders[name][test], lsb=lsb, zero_suppress=zero_suppress
        )
    table, parts, emd_cm, row_split = neighbour_measures(
        rows, test, split, reference, decoded, setup
    )
    summary = {
        "study": "neighbour merging: module AE alone vs with neighbours' border TCs",
        "settings": {
            "geometry": setup.name,
            "latent_dim": latent_dim,
            "latent_bits": latent_bits,
            "latent_payload_bits": latent_dim * latent_bits,
            "epochs": epochs,
            "seed": seed,
            "loss": loss,
            "decoder_head": module_cfg.decoder_head,
            "batch_size": batch_size,
            "learning_rate": learning_rate,
            "fractions": list(fractions),
            "zero_suppress_mip": zero_suppress,
            "split_threshold": split.threshold,
            "border_distance_cm": geometry.max_distance_cm,
            "n_border": geometry.n_border,
            "control": bool(control),
            "tc_lsb_mip": lsb,
        },
        "rows": table,
        **parts,
        "training": {
            "rows": {"train": int(train.size), "validation": int(val.size), "test": int(test.size)},
            **{
                name: {
                    **(
                        _history(histories[name])
                        if name in histories
                        else {"trained_by": "the study"}
                    ),
                    "parameters": models[name].parameter_counts(),
                }
                for name in names
            },
        },
        "units": {"emd": "cm", "centroid_shift": "cm", "barycentre_shift": "mm", "charges": "MIP"},
        "notes": [
            "every measure compares decoded TCs with the uncompressed TCs of the same rows",
            "split: the hottest module of the event-layer holds < split_threshold of its charge; "
            "an event is split when its layer with the most charge is",
            "layer barycentre: charge-weighted over the modules of one event-layer; event "
            "barycentre: over all modules and layers, dE/dx-weighted",
            "comparison: mean of (with_neighbours - other model) over the same rows; negative: "
            "the border input helps; share_better: share of rows where with_neighbours is lower",
            "shuffled_border: control with border rows permuted across module rows",
        ],
    }
    return NeighbourStudyResult(
        rows=table,
        summary=_jsonable(summary),
        emd_cm=emd_cm,
        test_split=row_split,
        split=split,
        models=models,
    )
