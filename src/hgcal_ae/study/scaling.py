"""The data-scaling study: does more training data close the autoencoder's gap?

Public API::

    training_subsets(event, train_rows, sizes, seed) -> dict[int, ndarray]
    equal_step_epochs(n_rows, n_largest, epochs, batch_size) -> int
    scaling_rows(modules, setup, models, ...) -> (rows, baselines)
    scaling_answer(rows, baselines) -> dict

The published module AEs were trained on 10^5-10^6 modules; the study's default preset trains
on about 1.6 x 10^4.  This study trains the same AE (the merging code size, 16 x 3 bits by
default) on nested subsets of one data set's training events, of about ``sizes`` modules
each, and judges every one on the same test modules at 2 e-links, beside Best Choice and
STC 2 x 2 on those modules.  Subsets are whole events, nested (each holds the smaller ones),
in an order drawn from ``seed``; the validation modules are the same for every size.

**Schedules.**  Under ``steps`` (the default) every size trains for the optimiser steps of
``epochs`` epochs over the largest set (:func:`equal_step_epochs`), so a smaller set is seen
more often and the sizes differ in their data only.  Under ``epochs`` every size trains
``epochs`` epochs, so a larger set also gets proportionally more steps: that confounds the
data with the training time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from hgcal_ae.datasets.module_rows import ModuleRows
from hgcal_ae.detector.setups import DetectorSetup
from hgcal_ae.detector.trigger_cells import tc_coords
from hgcal_ae.errors import ConfigError
from hgcal_ae.metrics.module_quality import module_quality
from hgcal_ae.models.module_ae import ModuleAutoencoder
from hgcal_ae.study.evaluate import algorithm_outputs, evaluate_output
from hgcal_ae.trigger.formats import DROPPED_LSBS

__all__ = [
    "BASELINES",
    "SCALING_ELINKS",
    "SCALING_VAL_MODULES",
    "SCHEDULES",
    "equal_step_epochs",
    "scaling_answer",
    "scaling_rows",
    "training_subsets",
]

#: The e-link setting the study is judged at (the tightest, where the AE must compress most).
SCALING_ELINKS = 2
#: The baselines drawn as lines: algorithm id -> the label of its row.
BASELINES = ("best_choice", "stc_2x2")

#: ``--schedule``: the same optimiser steps for every size, or the same epochs
SCHEDULES = ("steps", "epochs")
#: The validation loss of every training is taken on at most this many of the validation
#: modules (the first ones, the same for every size).  It is a record only (no early
#: stopping), and a small set under ``steps`` runs hundreds of epochs, each validated.
SCALING_VAL_MODULES = 20_000

IntArray = npt.NDArray[np.int64]


def equal_step_epochs(n_rows: int, n_largest: int, epochs: int, batch_size: int) -> int:
    """Epochs over ``n_rows`` modules that take about the optimiser steps of ``epochs`` epochs
    over ``n_largest`` modules, in batches of ``batch_size`` (at least one epoch; the steps
    agree within half an epoch of the smaller set).

    Raises
    ------
    ConfigError
        If a count or the batch size is not positive, or ``n_rows`` exceeds ``n_largest``.
    """
    for name, value in (("n_rows", n_rows), ("n_largest", n_largest), ("epochs", epochs),
                        ("batch_size", batch_size)):  # fmt: skip
        if int(value) <= 0:
            msg = f"equal_step_epochs: {name} must be > 0, got {value}"
            raise ConfigError(msg)
    if n_rows > n_largest:
        msg = f"equal_step_epochs: n_rows {n_rows:,} exceeds the largest set's {n_largest:,}"
        raise ConfigError(msg)
    steps = epochs * math.ceil(n_largest / batch_size)
    return max(1, round(steps / math.ceil(n_rows / batch_size)))


def training_subsets(
    event: npt.ArrayLike, train_rows: npt.ArrayLike, sizes: Sequence[int], seed: int
) -> dict[int, IntArray]:
    """Nested subsets of the training rows, whole events, of at least ``size`` rows each.

    Parameters
    ----------
    event : array_like, shape (N,)
        The event of every row of the data set.
    train_rows : array_like of int
        The training rows (indices into ``event``), as the study's split gives them.
    sizes
        Module counts wanted, each > 0 and at most the training rows' count.
    seed
        Seed of the events' order: the subset of ``n`` is the shortest prefix of that order
        holding ``n`` rows, so a smaller subset is part of every larger one.

    Raises
    ------
    ConfigError
        On a size <= 0 or above the training rows available (naming both).
    """
    rows = np.sort(np.asarray(train_rows, dtype=np.int64))
    events = np.asarray(event)[rows]
    for size in sizes:
        if not 0 < int(size) <= rows.size:
            msg = f"training-set size {size}: expected 1 to {rows.size:,} (the training modules of this data set); use a preset with more events"
            raise ConfigError(msg)
    unique, inverse = np.unique(events, return_inverse=True)
    order = np.random.default_rng(seed).permutation(unique.size)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    row_rank = rank[inverse]  # each row's event position in the drawn order
    by_rank = np.argsort(row_rank, kind="stable")
    per_event = np.bincount(row_rank, minlength=unique.size)
    cumulative = np.cumsum(per_event)
    out = {}
    for size in sizes:
        n_events = int(np.searchsorted(cumulative, int(size))) + 1  # shortest prefix >= size
        out[int(size)] = np.sort(rows[by_rank[: cumulative[n_events - 1]]])
    return out


def _emd_sem(
    modules: ModuleRows, reconstructed: npt.NDArray[np.float64], setup: DetectorSetup
) -> float:
    emd = module_quality(modules.tc, reconstructed, tc_coords(setup.lattice.name),
                         occupancy_threshold=1.0)["emd"]  # fmt: skip
    valid = emd[emd >= 0]
    return float(valid.std(ddof=1) / math.sqrt(valid.size)) if valid.size > 1 else math.nan


def scaling_rows(
    modules: ModuleRows,
    setup: DetectorSetup,
    models: Mapping[int, ModuleAutoencoder],
    *,
    lsb: float,
    zero_suppress: float = 0.0,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The AE trained on each number of modules (the keys of ``models``) and the baselines, on the same test ``modules`` at
    :data:`SCALING_ELINKS` e-links: study-table rows plus ``emd_sem_cm`` (standard error of
    the mean EMD over the modules) and, for the AEs, ``n_train_modules``.

    Returns the AE rows (by size) and the baseline rows (:data:`BASELINES`).
    """
    tc = np.asarray(modules.tc, dtype=np.float64)
    modules = modules.with_tc(tc)
    drop = DROPPED_LSBS.get(setup.lattice.name, 0)
    ae_rows = []
    baselines: list[dict[str, Any]] = []
    for n_train, model in sorted(models.items()):
        key = (model.config.latent_dim, model.config.latent_bits)
        outputs = algorithm_outputs(tc, SCALING_ELINKS, models={key: model}, thresholds=(), lsb=lsb,
                                    zero_suppress=zero_suppress, dropped_lsbs=drop)  # fmt: skip
        for output, extra in outputs:
            if output.name == "autoencoder":
                row = {**evaluate_output(output, modules, setup), **extra}
                row["emd_sem_cm"] = _emd_sem(modules, output.reconstructed, setup)
                ae_rows.append({"n_train_modules": n_train, **row})
            elif output.name in BASELINES and len(baselines) < len(BASELINES):
                row = evaluate_output(output, modules, setup)
                row["emd_sem_cm"] = _emd_sem(modules, output.reconstructed, setup)
                baselines.append(row)
    if not ae_rows:
        msg = f"no autoencoder fits {SCALING_ELINKS} e-links among the given models"
        raise ConfigError(msg)
    return ae_rows, baselines


def scaling_answer(
    rows: Sequence[Mapping[str, Any]], baselines: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """Whether more data closes the gap: the AE's mean EMD at the smallest and largest
    training set, its change, and the gap to each baseline at the largest (cm; positive:
    the AE is worse)."""
    first, last = rows[0], rows[-1]
    gain = first["emd_mean_cm"] - last["emd_mean_cm"]
    gaps = {b["algorithm"]: last["emd_mean_cm"] - b["emd_mean_cm"] for b in baselines}
    closes = {name: gap <= 0 for name, gap in gaps.items()}
    return {
        "smallest_n_train": first["n_train_modules"],
        "largest_n_train": last["n_train_modules"],
        "emd_mean_cm_smallest": first["emd_mean_cm"],
        "emd_mean_cm_largest": last["emd_mean_cm"],
        "emd_gain_cm": gain,
        "gap_to_baseline_cm": gaps,
        "reaches_baseline": closes,
    }
