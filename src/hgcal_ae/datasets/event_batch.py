"""A batch of shower events (simulated or beam-test) in memory: a structure of arrays.

An :class:`EventBatch` holds one entry per event, one entry per hit, and CSR offsets
(``hit_offsets``) saying which hits belong to which event: the hits of event ``i`` are
``[hit_offsets[i], hit_offsets[i + 1])``.  Field names and dtypes (:data:`EVENT_FIELDS`,
:data:`HIT_FIELDS`) are those of the events file (:mod:`hgcal_ae.datasets.events`).

Public API::

    EventBatch(...), EventBatch.from_counts(n_hits_per_event, ...), EventBatch.empty(),
    EventBatch.concatenate(batches), batch.select(events), batch.validate(), batch.equals(other)
    EVENT_FIELDS, HIT_FIELDS, OFFSETS_DTYPE
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, Self

import numpy as np
import numpy.typing as npt
from numpy.typing import NDArray

from hgcal_ae.errors import ConfigError, SchemaError

__all__ = ["EVENT_FIELDS", "HIT_FIELDS", "OFFSETS_DTYPE", "EventBatch"]

#: Per-event datasets (group ``events/``) and their dtypes; ``hit_offsets`` is kept apart.
EVENT_FIELDS: dict[str, np.dtype[Any]] = {
    "event_id": np.dtype(np.int64),
    "pdg": np.dtype(np.int32),
    "true_energy_gev": np.dtype(np.float64),
    "true_x_cm": np.dtype(np.float64),
    "true_y_cm": np.dtype(np.float64),
    "angle_x_rad": np.dtype(np.float64),
    "angle_y_rad": np.dtype(np.float64),
}
#: Per-hit datasets (group ``hits/``) and their dtypes.
HIT_FIELDS: dict[str, np.dtype[Any]] = {
    "layer": np.dtype(np.int16),
    "cell": np.dtype(np.int64),
    "x_cm": np.dtype(np.float32),
    "y_cm": np.dtype(np.float32),
    "z_cm": np.dtype(np.float32),
    "energy_mip": np.dtype(np.float32),
}
#: Dtype of ``hit_offsets``.
OFFSETS_DTYPE = np.dtype(np.int64)


@dataclass(frozen=True)
class EventBatch:
    """A batch of showers: per-event arrays, per-hit arrays and CSR hit offsets.

    Fields are coerced to the dtypes of :data:`EVENT_FIELDS` / :data:`HIT_FIELDS` on
    construction; lengths are checked by :meth:`validate` (called by the writer).
    """

    event_id: NDArray[np.int64]
    pdg: NDArray[np.int32]
    true_energy_gev: NDArray[np.float64]
    true_x_cm: NDArray[np.float64]
    true_y_cm: NDArray[np.float64]
    angle_x_rad: NDArray[np.float64]
    angle_y_rad: NDArray[np.float64]
    hit_offsets: NDArray[np.int64]
    layer: NDArray[np.int16]
    cell: NDArray[np.int64]
    x_cm: NDArray[np.float32]
    y_cm: NDArray[np.float32]
    z_cm: NDArray[np.float32]
    energy_mip: NDArray[np.float32]

    def __post_init__(self) -> None:
        for name, dtype in (
            *EVENT_FIELDS.items(),
            ("hit_offsets", OFFSETS_DTYPE),
            *HIT_FIELDS.items(),
        ):
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=dtype))

    # -- sizes ---------------------------------------------------------------------------
    @property
    def n_events(self) -> int:
        """Number of events."""
        return int(self.event_id.shape[0]) if self.event_id.ndim else 0

    @property
    def n_hits(self) -> int:
        """Number of hits of all events together."""
        return int(self.energy_mip.shape[0]) if self.energy_mip.ndim else 0

    def hits_per_event(self) -> NDArray[np.int64]:
        """Number of hits of each event, shape ``(n_events,)``."""
        return np.diff(self.hit_offsets)

    def event_index_of_hits(self) -> NDArray[np.int64]:
        """Index (0-based, within this batch) of the event of each hit, shape ``(n_hits,)``."""
        return np.repeat(np.arange(self.n_events, dtype=np.int64), self.hits_per_event())

    # -- checks --------------------------------------------------------------------------
    def validate(self, where: str = "event batch") -> Self:
        """Check shapes and offsets; return ``self`` so that calls chain.

        Parameters
        ----------
        where
            What to call the batch in messages (e.g. ``"events file 'x.h5'"``).

        Raises
        ------
        SchemaError
            Naming the field and what was expected vs got: a field that is not 1-D, a
            per-event or per-hit field of the wrong length, offsets of the wrong length,
            not starting at 0, not ending at ``n_hits`` or decreasing.
        """
        for name in (*EVENT_FIELDS, "hit_offsets", *HIT_FIELDS):
            if getattr(self, name).ndim != 1:
                msg = f"{where}: field {name!r} must be 1-D, got shape {getattr(self, name).shape}"
                raise SchemaError(msg)
        n_events, n_hits = self.n_events, self.n_hits
        for name in EVENT_FIELDS:
            _check_length(where, name, getattr(self, name).shape[0], n_events, "n_events")
        for name in HIT_FIELDS:
            _check_length(where, name, getattr(self, name).shape[0], n_hits, "n_hits")
        offsets = self.hit_offsets
        _check_length(where, "hit_offsets", offsets.shape[0], n_events + 1, "n_events + 1")
        if offsets[0] != 0:
            msg = f"{where}: field 'hit_offsets' must start at 0, got {int(offsets[0])}"
            raise SchemaError(msg)
        if offsets[-1] != n_hits:
            msg = f"{where}: field 'hit_offsets' must end at n_hits = {n_hits}, got {int(offsets[-1])}"
            raise SchemaError(msg)
        steps = np.diff(offsets)
        if steps.size and steps.min() < 0:
            bad = int(np.argmax(steps < 0))
            msg = f"{where}: field 'hit_offsets' must be non-decreasing, got {int(offsets[bad])} then {int(offsets[bad + 1])} at event {bad}"
            raise SchemaError(msg)
        return self

    # -- construction --------------------------------------------------------------------
    @classmethod
    def from_counts(
        cls,
        n_hits_per_event: npt.ArrayLike,
        *,
        event_id: npt.ArrayLike,
        true_energy_gev: npt.ArrayLike,
        layer: npt.ArrayLike,
        x_cm: npt.ArrayLike,
        y_cm: npt.ArrayLike,
        z_cm: npt.ArrayLike,
        energy_mip: npt.ArrayLike,
        pdg: npt.ArrayLike | None = None,
        true_x_cm: npt.ArrayLike | None = None,
        true_y_cm: npt.ArrayLike | None = None,
        angle_x_rad: npt.ArrayLike | None = None,
        angle_y_rad: npt.ArrayLike | None = None,
        cell: npt.ArrayLike | None = None,
    ) -> EventBatch:
        """Build a batch from the number of hits of each event instead of offsets.

        Unknown fields may be left out: ``pdg`` becomes 0, true position and angles NaN,
        ``cell`` -1.

        Raises
        ------
        SchemaError
            If a count is negative or the arrays do not fit the counts.
        """
        counts = np.asarray(n_hits_per_event, dtype=np.int64)
        if counts.ndim != 1 or (counts.size and counts.min() < 0):
            msg = f"n_hits_per_event must be a 1-D array of non-negative counts, got shape {counts.shape}"
            raise SchemaError(msg)
        n_events = counts.shape[0]
        n_hits = np.asarray(energy_mip).shape[0] if np.ndim(energy_mip) else 0
        offsets = np.zeros(n_events + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])

        def _or(value: npt.ArrayLike | None, fill: float, size: int) -> npt.ArrayLike:
            return np.full(size, fill) if value is None else value

        # coerced to the field dtypes by __post_init__
        columns: dict[str, Any] = {
            "event_id": event_id,
            "pdg": _or(pdg, 0, n_events),
            "true_energy_gev": true_energy_gev,
            "true_x_cm": _or(true_x_cm, np.nan, n_events),
            "true_y_cm": _or(true_y_cm, np.nan, n_events),
            "angle_x_rad": _or(angle_x_rad, np.nan, n_events),
            "angle_y_rad": _or(angle_y_rad, np.nan, n_events),
            "layer": layer,
            "cell": _or(cell, -1, n_hits),
            "x_cm": x_cm,
            "y_cm": y_cm,
            "z_cm": z_cm,
            "energy_mip": energy_mip,
        }
        batch = cls(hit_offsets=offsets, **columns)
        return batch.validate("EventBatch.from_counts")

    @classmethod
    def empty(cls) -> EventBatch:
        """A batch of zero events."""
        return cls.from_counts(
            np.zeros(0, np.int64),
            event_id=[],
            true_energy_gev=[],
            layer=[],
            x_cm=[],
            y_cm=[],
            z_cm=[],
            energy_mip=[],
        )

    @classmethod
    def concatenate(cls, batches: Sequence[EventBatch]) -> EventBatch:
        """Join batches event-wise (hit offsets are shifted); an empty sequence gives an empty batch."""
        if not batches:
            return cls.empty()
        counts = np.concatenate([b.hits_per_event() for b in batches])
        offsets = np.zeros(counts.shape[0] + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        columns = {
            name: np.concatenate([getattr(b, name) for b in batches])
            for name in (*EVENT_FIELDS, *HIT_FIELDS)
        }
        return cls(hit_offsets=offsets, **columns)

    def select(self, events: npt.ArrayLike) -> EventBatch:
        """Return a new batch of the chosen events (and only their hits).

        Parameters
        ----------
        events
            A boolean mask of shape ``(n_events,)`` or integer indices (any order, repeats
            and negative indices allowed).

        Raises
        ------
        ConfigError
            If the mask has the wrong length or an index is out of range.
        """
        choice = np.asarray(events)
        counts = self.hits_per_event()
        if choice.dtype == np.bool_:
            if choice.shape != (self.n_events,):
                msg = f"event mask must have shape ({self.n_events},), got {choice.shape}"
                raise ConfigError(msg)
            hit_choice: NDArray[Any] = np.repeat(choice, counts)
            event_choice: NDArray[Any] = choice
            new_counts = counts[choice]
        else:
            if choice.size == 0:
                choice = choice.astype(np.int64)
            if choice.ndim != 1 or not np.issubdtype(choice.dtype, np.integer):
                msg = f"events must be a boolean mask or 1-D integer indices, got dtype {choice.dtype} and shape {choice.shape}"
                raise ConfigError(msg)
            if choice.size and (choice.min() < -self.n_events or choice.max() >= self.n_events):
                msg = f"event index out of range: expected -{self.n_events} <= index < {self.n_events}, got {int(choice.min())}..{int(choice.max())}"
                raise ConfigError(msg)
            event_choice = np.where(choice < 0, choice + self.n_events, choice).astype(np.int64)
            new_counts = counts[event_choice]
            # Hit j of the k-th chosen event sits at offsets[event] + j: gather, in the chosen order.
            starts = np.cumsum(new_counts) - new_counts
            hit_choice = np.repeat(self.hit_offsets[event_choice] - starts, new_counts) + np.arange(
                int(new_counts.sum()), dtype=np.int64
            )
        offsets = np.zeros(new_counts.shape[0] + 1, dtype=np.int64)
        np.cumsum(new_counts, out=offsets[1:])
        columns = {name: getattr(self, name)[event_choice] for name in EVENT_FIELDS}
        columns |= {name: getattr(self, name)[hit_choice] for name in HIT_FIELDS}
        return type(self)(hit_offsets=offsets, **columns)

    def equals(self, other: EventBatch) -> bool:
        """True if every field has the same dtype and values (NaN equal to NaN)."""
        return all(
            getattr(self, f.name).dtype == getattr(other, f.name).dtype
            and np.array_equal(getattr(self, f.name), getattr(other, f.name), equal_nan=True)
            for f in fields(self)
        )


def _check_length(where: str, name: str, got: int, expected: int, what: str) -> None:
    if got != expected:
        msg = f"{where}: field {name!r} has length {got}, expected {expected} ({what})"
        raise SchemaError(msg)
