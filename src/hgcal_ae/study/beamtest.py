"""The autoencoder on beam-test showers: load, split, train, decode, judge, answer.

Public API::

    BeamtestStudyConfig(...)                          # what the study scans and how it judges
    load_events(paths) -> BeamtestData               # events files -> events and cells
    check_split(true_energy_gev, config) -> (train, validation, test)
    train_and_evaluate(data, config, family, latent_dim, *, checkpoint, on_epoch, group_size)
        -> (training, entry)
    judge(data, config, test, decoded) -> (quality, worst, meets)   # decoded test events
    answers(entries, config) -> dict                 # smallest latent dim per family
    beamtest_summary(entries, data, config, ...) -> dict

The steps as plain functions (the luigi tasks of :mod:`hgcal_ae.workflows.beamtest` only
wire them): the events (simulated with the ``tb2018`` geometry, or ingested beam-test
ntuples) become ``(n_events, 28, 109)`` cell arrays (:mod:`hgcal_ae.study.beamtest_data`),
are split **by event** with the package's one split rule, and each autoencoder
(:mod:`hgcal_ae.models.beamtest_ae`) is trained with the shared loop on the training events,
then decodes the test events, which are judged per beam energy against the originals
(:mod:`hgcal_ae.study.beamtest_quality`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hgcal_ae import __version__
from hgcal_ae.datasets.event_batch import EventBatch
from hgcal_ae.datasets.events import read_events
from hgcal_ae.datasets.splits import DEFAULT_FRACTIONS
from hgcal_ae.detector.layers import N_LAYERS, ce_e_stack
from hgcal_ae.detector.sensor_groups import cell_groups
from hgcal_ae.errors import ConfigError, DataError
from hgcal_ae.models.beamtest_ae import (
    FAMILIES,
    BeamtestAEConfig,
    BeamtestTraining,
    decode_cells,
    train_beamtest_ae,
)
from hgcal_ae.models.training import EpochRecord
from hgcal_ae.study.beamtest_data import (
    BEAMTEST_SENSOR,
    cells_to_events,
    event_cells,
    split_events,
)
from hgcal_ae.study.beamtest_quality import compare_energies, worst

__all__ = [
    "DEFAULT_LATENT_DIMS",
    "BeamtestData",
    "BeamtestStudyConfig",
    "answers",
    "beamtest_summary",
    "check_split",
    "judge",
    "load_events",
    "train_and_evaluate",
]

DEFAULT_LATENT_DIMS = (2, 4, 8, 16, 32, 64)
MIN_TEST_EVENTS = 10  # metrics.validation.analyse_energy_point's minimum per energy
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class BeamtestStudyConfig:
    """The scan and its judgement.

    Attributes
    ----------
    families, latent_dims, latent_bits
        The autoencoders trained: every family at every latent dim, ``latent_bits`` per value.
    epochs, batch_size
        Per family (``per_layer``, ``per_shower``): a batch is layers or showers.
    learning_rate, seed, fractions
        Training rate, the seed of weights, batches and split, and the split's shares.
    decoded_threshold_mip
        Decoded cells below this are dropped before the measures (0: the decoded
        distribution as it is, as the ECON-T study judges decoded trigger cells).
    emd_events
        Test events per energy whose cell EMD per layer is computed.
    max_resolution_deviation, max_shower_max_shift_x0, max_barycentre_shift_mm
        The criterion: at every energy the resolution degradation ``sqrt(1 + (RMS of the
        per-event relative energy error / (σ/E))^2) − 1``, the RMS of the
        per-event shower-maximum shift and the RMS of the per-event barycentre shift stay
        at or below these.
    """

    families: tuple[str, ...] = FAMILIES
    latent_dims: tuple[int, ...] = DEFAULT_LATENT_DIMS
    latent_bits: int = 8
    epochs: dict[str, int] = field(default_factory=lambda: {"per_layer": 4, "per_shower": 15})
    batch_size: dict[str, int] = field(default_factory=lambda: {"per_layer": 256, "per_shower": 32})
    learning_rate: float = 2e-3
    seed: int = 0
    fractions: tuple[float, float, float] = DEFAULT_FRACTIONS
    decoded_threshold_mip: float = 0.0
    emd_events: int = 20
    max_resolution_deviation: float = 0.05
    max_shower_max_shift_x0: float = 0.1
    max_barycentre_shift_mm: float = 1.0

    def __post_init__(self) -> None:
        for family in self.families:
            if family not in FAMILIES:
                msg = (
                    f"unknown autoencoder family {family!r}; expected one of {', '.join(FAMILIES)}"
                )
                raise ConfigError(msg)
        if not self.latent_dims:
            msg = "latent dims need at least one value"
            raise ConfigError(msg)
        for family in self.families:  # every dim must fit the family's input
            for dim in self.latent_dims:
                self.model_config(family, dim)
        if not self.decoded_threshold_mip >= 0:
            msg = f"decoded threshold must be >= 0 MIP, got {self.decoded_threshold_mip!r}"
            raise ConfigError(msg)

    def model_config(self, family: str, latent_dim: int) -> BeamtestAEConfig:
        """The autoencoder configuration of one point of the scan."""
        return BeamtestAEConfig(
            family=family,
            latent_dim=latent_dim,
            latent_bits=self.latent_bits,
            epochs=self.epochs.get(family, 10),
            batch_size=self.batch_size.get(family, 64),
            learning_rate=self.learning_rate,
            seed=self.seed,
        )

    def criterion(self) -> str:
        """The criterion of the answers, in words."""
        return (
            f"at every beam energy: energy resolution within {100 * self.max_resolution_deviation:g} % "
            f"of the uncompressed events' (the per-event energy error of the compression added "
            f"in quadrature), shower-maximum shift below {self.max_shower_max_shift_x0:g} X0 RMS "
            f"and barycentre shift below {self.max_barycentre_shift_mm:g} mm RMS (per event)"
        )


@dataclass(frozen=True)
class BeamtestData:
    """The events of a study, with their cells and split."""

    batch: EventBatch
    cells: FloatArray  # (n_events, 28, 109) [MIP]
    sources: list[str]
    n_hits_off_sensor: int

    def split(self, config: BeamtestStudyConfig) -> tuple[npt.NDArray[np.int64], ...]:
        """Training, validation and test event indices.

        Raises
        ------
        ConfigError
            If a split would hold no event, or a beam energy fewer than
            :data:`MIN_TEST_EVENTS` test events (the quality measures' minimum).
        """
        return check_split(self.batch.true_energy_gev, config)


def check_split(
    true_energy_gev: npt.ArrayLike, config: BeamtestStudyConfig
) -> tuple[npt.NDArray[np.int64], ...]:
    """The split of events of these beam energies, checked (see :meth:`BeamtestData.split`).

    Needs only the events' energies, so a command can check its options before any run.
    """
    energy = np.asarray(true_energy_gev, dtype=np.float64)
    parts = split_events(energy.size, config.fractions, seed=config.seed)
    for e in np.unique(energy):
        n_test = int(np.sum(energy[parts[2]] == e))
        if n_test < MIN_TEST_EVENTS:
            msg = (
                f"beam energy {e:g} GeV has {n_test} test events of {int(np.sum(energy == e))}; "
                f"expected at least {MIN_TEST_EVENTS} per energy: give more events"
            )
            raise ConfigError(msg)
    return parts


def load_events(paths: Sequence[str | os.PathLike[str]]) -> BeamtestData:
    """Read events files (any number, e.g. one per energy) into one :class:`BeamtestData`.

    Raises
    ------
    DataError, SchemaError
        A file that is missing, not an events file, lacks a field, or holds events of
        another geometry (named, with what was expected).
    """
    if not paths:
        msg = "the beam-test study needs at least one events file"
        raise ConfigError(msg)
    batches, all_cells, off = [], [], 0
    for path in paths:
        if not Path(path).is_file():
            msg = f"events file {str(path)!r} does not exist"
            raise DataError(msg)
        batch, metadata = read_events(path)
        cells, lost = event_cells(batch, metadata, f"events file {str(path)!r}")
        batches.append(batch)
        all_cells.append(cells)
        off += lost
    batch = EventBatch.concatenate(batches)
    if not np.isfinite(batch.true_energy_gev).all():
        msg = f"events file {str(paths[0])!r}: every event needs its beam energy (true_energy_gev), got NaN"
        raise DataError(msg)
    return BeamtestData(batch, np.concatenate(all_cells), [str(p) for p in paths], off)


def _events(cells: FloatArray, template: EventBatch, threshold: float) -> EventBatch:
    return cells_to_events(cells, template, threshold, ce_e_stack())


def judge(
    data: BeamtestData,
    config: BeamtestStudyConfig,
    test: npt.NDArray[np.int64],
    decoded: FloatArray,
) -> tuple[dict[str, Any], dict[str, float], bool]:
    """The quality of decoded test events against the originals (the cells, not a grouping).

    Parameters
    ----------
    test
        The test events' indices in ``data``.
    decoded
        Their decoded cell energies ``(n_test, 28, 109)`` [MIP].

    Returns
    -------
    quality, worst, meets
        Per energy and the fits (:func:`~hgcal_ae.study.beamtest_quality.compare_energies`),
        the worst energy's value of each criterion's measure, and whether it meets the criterion.
    """
    test_cells = data.cells[test]
    template = data.batch.select(test)
    original = _events(test_cells, template, 0.0)
    threshold = config.decoded_threshold_mip
    decoded_cells = np.where(decoded >= threshold, decoded, 0.0) if threshold > 0 else decoded
    quality = compare_energies(
        original,
        _events(decoded_cells, template, threshold),
        test_cells,
        decoded_cells,
        ce_e_stack(),
        config.emd_events,
    )
    worst_values = worst(quality["points"])
    return quality, worst_values, _meets(worst_values, config)


def train_and_evaluate(
    data: BeamtestData,
    config: BeamtestStudyConfig,
    family: str,
    latent_dim: int,
    *,
    checkpoint: Path | None = None,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    group_size: int = 1,
) -> tuple[BeamtestTraining, dict[str, Any]]:
    """Train one autoencoder on the training events and judge it on the test events.

    With ``group_size`` 2, 3 or 7 the autoencoder sees (and learns to give back) the cells as a
    receiver of their hexagonal cluster sums sees them (:mod:`hgcal_ae.detector.sensor_groups`:
    each cell its cluster's sum / size); the decoded events are still judged against the
    original cells.

    Returns the training (model, history) and the model's summary entry (configuration, bits, training
    history, quality per energy and the fits, worst values, whether it meets the criterion).
    """
    model_config = config.model_config(family, latent_dim)
    groups = cell_groups(group_size, BEAMTEST_SENSOR)
    train, val, test = data.split(config)
    cells = data.cells if group_size == 1 else groups.grouped(data.cells)
    training = train_beamtest_ae(
        model_config, cells[train], cells[val], checkpoint=checkpoint, on_epoch=on_epoch
    )
    test_cells = data.cells[test]
    decoded = decode_cells(training.model, cells[test])
    quality, worst_values, meets = judge(data, config, test, decoded)
    layers_sent = float((test_cells.sum(axis=2) > 0).sum(axis=1).mean())
    per_code = model_config.bits_per_code
    bits_event = per_code * layers_sent if family == "per_layer" else float(per_code)
    entry = {
        "family": family,
        "latent_dim": latent_dim,
        "latent_bits": model_config.latent_bits,
        "group_size": group_size,
        "label": model_config.label + (f", {group_size}-cell sums" if group_size > 1 else ""),
        "bits_per_event": bits_event,
        "bits_per_layer": bits_event / N_LAYERS,
        "layers_with_energy_mean": layers_sent,
        "config": asdict(model_config),
        "training": {
            "n_train_events": int(train.size),
            "n_validation_events": int(val.size),
            "n_test_events": int(test.size),
            "n_train_rows": training.n_train_rows,
            "seconds": float(sum(r.seconds for r in training.history)),
            "resumed_from_epoch": training.resumed_from,
            "history": [asdict(r) for r in training.history],
        },
        "quality": quality,
        "worst": worst_values,
        "meets_criterion": meets,
    }
    return training, entry


def _meets(values: dict[str, float], config: BeamtestStudyConfig) -> bool:
    return bool(
        values["resolution_deviation"] <= config.max_resolution_deviation
        and values["shower_max_shift_rms_x0"] <= config.max_shower_max_shift_x0
        and values["barycentre_shift_rms_mm"] <= config.max_barycentre_shift_mm
    )


def answers(entries: Sequence[dict[str, Any]], config: BeamtestStudyConfig) -> dict[str, Any]:
    """The smallest latent dim per family meeting the criterion (``None``: no dim does).

    Where no dim meets it, ``breaks`` says which measure fails at the largest dim scanned.
    """
    out: dict[str, Any] = {"criterion": config.criterion()}
    for family in config.families:
        rows = sorted((e for e in entries if e["family"] == family), key=lambda e: e["latent_dim"])
        passing = [e for e in rows if e["meets_criterion"]]
        answer: dict[str, Any] = {
            "smallest_latent_dim": passing[0]["latent_dim"] if passing else None,
            "latent_dims_scanned": [e["latent_dim"] for e in rows],
            "bits_per_event": passing[0]["bits_per_event"] if passing else None,
        }
        if not passing and rows:
            largest = rows[-1]
            answer["breaks"] = {
                "latent_dim": largest["latent_dim"],
                **largest["worst"],
                "worst_energy_gev": max(
                    largest["quality"]["points"], key=lambda p: p["resolution_degradation"]
                )["beam_energy_gev"],
            }
        out[family] = answer
    shower = [e for e in entries if e["family"] == "per_shower" and e["latent_dim"] <= 32]
    if shower:
        good = [
            e
            for e in shower
            if e["worst"]["resolution_deviation"] <= config.max_resolution_deviation
        ]
        out["per_shower_resolution_within_5pct_at_latent_le_32"] = {
            "met": bool(good),
            "smallest_latent_dim": min(e["latent_dim"] for e in good) if good else None,
        }
    return out


def beamtest_summary(
    entries: Sequence[dict[str, Any]],
    data: BeamtestData,
    config: BeamtestStudyConfig,
    *,
    source: dict[str, Any],
    outputs: dict[str, str],
) -> dict[str, Any]:
    """The ``summary.json`` of a beam-test study run."""
    energies = sorted({float(e) for e in np.unique(data.batch.true_energy_gev)})
    train, val, test = data.split(config)
    return {
        "workflow": "beamtest",
        "hgcal_ae_version": __version__,
        "source": source,
        "events": {
            "n_events": data.batch.n_events,
            "energies_gev": energies,
            "n_train": int(train.size),
            "n_validation": int(val.size),
            "n_test": int(test.size),
            "split": "by event, datasets.splits.split_rows",
            "n_hits_off_sensor": data.n_hits_off_sensor,
            "files": data.sources,
        },
        "config": {
            **{k: v for k, v in asdict(config).items() if k not in ("families", "latent_dims")},
            "families": list(config.families),
            "latent_dims": list(config.latent_dims),
        },
        "answers": answers(entries, config),
        "models": list(entries),
        "outputs": outputs,
    }
