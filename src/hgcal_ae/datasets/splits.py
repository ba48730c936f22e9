"""The split rule: module rows into training, validation and test sets, by event.

Public API::

    split_rows(row_event, fractions=(0.6, 0.1, 0.3), *, seed=0) -> (train, validation, test)

Every study (the compression study, the merging study, the training of every autoencoder)
splits its rows with this one rule and the preset's fractions and seed, so that their test
modules are the same.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from hgcal_ae.errors import ConfigError

__all__ = ["DEFAULT_FRACTIONS", "split_rows"]

#: Train / validation / test shares of the events, as the study presets use them.
DEFAULT_FRACTIONS = (0.6, 0.1, 0.3)


def split_rows(
    row_event: npt.ArrayLike, fractions: Sequence[float] = DEFAULT_FRACTIONS, *, seed: int = 0
) -> tuple[npt.NDArray[np.int64], ...]:
    """Split rows into train / validation / test (one array per fraction) **by event**.

    The events (not the rows) are shuffled with ``seed`` and cut at the cumulative fractions,
    so all modules of a shower land in the same split: no shower is both trained and tested.

    Parameters
    ----------
    row_event
        Event of each row, shape (n_rows,) (e.g. ``ModuleRows.event``).
    fractions
        Non-negative fractions of the events, summing to 1.

    Returns
    -------
    tuple of int64 arrays of row indices, each sorted; together a partition of the rows.
    """
    event = np.asarray(row_event)
    if event.ndim != 1 or not (event.size == 0 or np.issubdtype(event.dtype, np.integer)):
        msg = f"row_event must be 1-D integer event indices, got dtype {event.dtype} and shape {event.shape}"
        raise ConfigError(msg)
    share = np.asarray(fractions, dtype=np.float64)
    if share.ndim != 1 or share.size == 0 or share.min() < 0 or abs(share.sum() - 1) > 1e-9:
        msg = f"fractions must be non-negative and sum to 1, got {tuple(fractions)!r}"
        raise ConfigError(msg)
    events = np.random.default_rng(seed).permutation(np.unique(event))
    cuts = np.round(np.cumsum(share) * events.size).astype(np.int64)
    parts = np.split(events, cuts[:-1])
    return tuple(np.flatnonzero(np.isin(event, part)).astype(np.int64) for part in parts)
