"""Module rows: the one type that carries trigger cells from the trigger stage to the report.

Public API::

    ModuleRows(event, layer, module, tc, event_id, pdg, true_energy_gev, true_x_cm, true_y_cm,
               angle_x_rad, angle_y_rad, cell_energy_gev_total)
    ModuleRows.build(event, layer, module, tc, n_events=None, **per_event) -> ModuleRows
    rows.select_rows(rows) / rows.select_events(events) / rows.with_tc(tc) / rows.with_truth(...)
    rows.n_rows, rows.n_events, rows.module_sums(), rows.event_offsets()
    EVENT_TRUTH                               # the per-event fields and their dtypes

A *module row* is one (event, layer, module) with its trigger-cell charges.  Everything that
works on modules (the trigger-cell file, the ECON-T algorithms' inputs, the autoencoders'
training data, the neighbour study, the event-level quality measures) takes or gives this
type, so it is checked once, here.

Per row (shape ``(M,)``):

* ``event``: 0-based index of the row's event into the per-event arrays below;
* ``layer``: CE-E layer 1..28 (:data:`~hgcal_ae.detector.layers.N_LAYERS`);
* ``module``: wafer index within the layer's tiling (0 = central);
* ``tc``: ``(M, n_tc)`` charges [MIP], finite and >= 0; ``n_tc`` is
  :data:`~hgcal_ae.detector.trigger_cells.N_TRIGGER_CELLS` (48) for the detector's map, or
  another count for the grouping study's maps.  float32 (as stored) or float64.

Per event (shape ``(n_events,)``, :data:`EVENT_TRUTH`): ``event_id``, ``pdg``,
``true_energy_gev``, ``true_x_cm``, ``true_y_cm``, ``angle_x_rad``, ``angle_y_rad`` (as in
the events file, NaN where unknown) and ``cell_energy_gev_total``: the dE/dx-weighted energy
of all hits of the selected layers [GeV], the uncompressed reference.

Rows are kept in the order given; the producers (:func:`hgcal_ae.trigger.cells.module_trigger_cells`
and the trigger-cell file) sort them by (event, layer, module).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Self

import numpy as np
import numpy.typing as npt

from hgcal_ae.detector.layers import N_LAYERS
from hgcal_ae.errors import ConfigError, DataError

__all__ = ["EVENT_TRUTH", "ROW_FIELDS", "ModuleRows"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.floating[Any]]

#: Per-row index fields and their dtypes in memory.
ROW_FIELDS: dict[str, np.dtype[Any]] = {
    "event": np.dtype(np.int64),
    "layer": np.dtype(np.int64),
    "module": np.dtype(np.int64),
}
#: Per-event truth fields and their dtypes, with the value used where a producer has none.
EVENT_TRUTH: dict[str, tuple[np.dtype[Any], float]] = {
    "event_id": (np.dtype(np.int64), -1),
    "pdg": (np.dtype(np.int32), 0),
    "true_energy_gev": (np.dtype(np.float64), np.nan),
    "true_x_cm": (np.dtype(np.float64), np.nan),
    "true_y_cm": (np.dtype(np.float64), np.nan),
    "angle_x_rad": (np.dtype(np.float64), np.nan),
    "angle_y_rad": (np.dtype(np.float64), np.nan),
    "cell_energy_gev_total": (np.dtype(np.float64), np.nan),
}


@dataclass(frozen=True, eq=False)
class ModuleRows:
    """Module rows of a set of events and the events' truth (see the module docstring).

    Every field is converted to its dtype and checked on construction: wrong shapes or
    index ranges raise :class:`~hgcal_ae.errors.ConfigError`, NaN, infinite or negative
    charges :class:`~hgcal_ae.errors.DataError` with the number of bad rows; none is dropped.
    """

    event: IntArray
    layer: IntArray
    module: IntArray
    tc: FloatArray
    event_id: IntArray
    pdg: npt.NDArray[np.int32]
    true_energy_gev: npt.NDArray[np.float64]
    true_x_cm: npt.NDArray[np.float64]
    true_y_cm: npt.NDArray[np.float64]
    angle_x_rad: npt.NDArray[np.float64]
    angle_y_rad: npt.NDArray[np.float64]
    cell_energy_gev_total: npt.NDArray[np.float64]

    def __post_init__(self) -> None:
        tc = np.asarray(self.tc)
        if not np.issubdtype(tc.dtype, np.floating):
            tc = tc.astype(np.float64)
        if tc.ndim != 2 or tc.shape[1] < 1:
            msg = f"module rows: 'tc' must have shape (M, n_tc) (one row of TC charges per module), got {tc.shape}"
            raise ConfigError(msg)
        m = tc.shape[0]
        object.__setattr__(self, "tc", tc)
        for name, dtype in ROW_FIELDS.items():
            object.__setattr__(self, name, _integers(getattr(self, name), name, (m,), dtype))
        n = np.shape(self.event_id)[0] if np.ndim(self.event_id) == 1 else -1
        for name, (dtype, _) in EVENT_TRUTH.items():
            values = np.asarray(getattr(self, name))
            if values.shape != (n,):
                msg = f"module rows: per-event field {name!r} must have shape ({n},) like 'event_id', got {values.shape}"
                raise ConfigError(msg)
            object.__setattr__(self, name, values.astype(dtype, copy=False))
        _check_range(self.event, "event", 0, n - 1, "an index into the per-event arrays")
        _check_range(self.layer, "layer", 1, N_LAYERS, "a CE-E layer")
        _check_range(self.module, "module", 0, np.iinfo(np.int16).max, "a wafer index")
        bad = ~np.isfinite(tc).all(axis=1)
        if bad.any():
            msg = f"module rows: 'tc' holds NaN or infinite charges in {int(bad.sum())} of {m} rows (first: row {int(np.argmax(bad))}); refusing them rather than dropping them"
            raise DataError(msg)
        if m and tc.min() < 0:
            negative = int((tc < 0).any(axis=1).sum())
            msg = f"module rows: 'tc' must hold charges >= 0 [MIP], got negative ones in {negative} rows (minimum {float(tc.min())!r})"
            raise DataError(msg)

    @classmethod
    def build(
        cls,
        event: npt.ArrayLike,
        layer: npt.ArrayLike,
        module: npt.ArrayLike,
        tc: npt.ArrayLike,
        n_events: int | None = None,
        **per_event: npt.ArrayLike,
    ) -> ModuleRows:
        """Rows with the per-event fields that are known; the others get their fill value.

        ``n_events`` defaults to the length of a given per-event field, else to
        ``max(event) + 1``.
        """
        unknown = sorted(set(per_event) - set(EVENT_TRUTH))
        if unknown:
            msg = f"unknown per-event fields {unknown}; expected some of {list(EVENT_TRUTH)}"
            raise ConfigError(msg)
        if n_events is None:
            given = [np.shape(v)[0] for v in per_event.values() if np.ndim(v) == 1]
            ev = np.asarray(event)
            n_events = given[0] if given else (int(ev.max()) + 1 if ev.size else 0)
        truth = {
            name: per_event.get(name, np.full(n_events, fill, dtype))
            for name, (dtype, fill) in EVENT_TRUTH.items()
        }
        return cls(event=event, layer=layer, module=module, tc=tc, **truth)  # type: ignore[arg-type]

    # -- sizes ---------------------------------------------------------------------------
    @property
    def n_rows(self) -> int:
        """Number of module rows M."""
        return int(self.tc.shape[0])

    @property
    def n_events(self) -> int:
        """Number of events (of the per-event arrays, with or without rows)."""
        return int(self.event_id.shape[0])

    @property
    def n_tc(self) -> int:
        """Trigger cells per row (48 for the detector's map)."""
        return int(self.tc.shape[1])

    def module_sums(self) -> npt.NDArray[np.float64]:
        """Sum of the TC charges of every row, shape (M,) [MIP]."""
        sums: npt.NDArray[np.float64] = np.asarray(self.tc, dtype=np.float64).sum(axis=1)
        return sums

    def event_offsets(self) -> IntArray:
        """CSR offsets ``(n_events + 1,)``: rows of event i are ``[o[i], o[i+1])``.

        Raises
        ------
        ConfigError
            If the rows are not sorted by event.
        """
        if self.n_rows and np.any(np.diff(self.event) < 0):
            msg = "module rows are not sorted by event; offsets need rows grouped by event"
            raise ConfigError(msg)
        counts = np.bincount(self.event, minlength=self.n_events)
        return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    # -- selections ----------------------------------------------------------------------
    def with_truth(self, **per_event: npt.ArrayLike) -> ModuleRows:
        """The same rows with some per-event fields replaced (each of shape (n_events,))."""
        unknown = sorted(set(per_event) - set(EVENT_TRUTH))
        if unknown:
            msg = f"unknown per-event fields {unknown}; expected some of {list(EVENT_TRUTH)}"
            raise ConfigError(msg)
        return replace(self, **per_event)  # type: ignore[arg-type]

    def with_tc(self, tc: npt.ArrayLike) -> ModuleRows:
        """The same rows and events with other charges (e.g. decoded), shape (M, n_tc')."""
        values = np.asarray(tc)
        if values.ndim != 2 or values.shape[0] != self.n_rows:
            msg = f"with_tc: expected charges of shape ({self.n_rows}, n_tc), got {values.shape}"
            raise ConfigError(msg)
        return replace(self, tc=values)

    def select_rows(self, rows: npt.ArrayLike) -> Self:
        """The rows ``rows`` (indices or a mask), with their events renumbered 0..k-1.

        Only the events that keep a row stay, in increasing order of their index here.
        """
        index = _row_index(rows, self.n_rows)
        events, local = np.unique(self.event[index], return_inverse=True)
        return self._subset(index, events, local)

    def select_events(self, events: npt.ArrayLike) -> Self:
        """The events ``events`` (indices in increasing order, or a mask) and all their rows."""
        chosen = _row_index(events, self.n_events)
        if chosen.size and np.any(np.diff(chosen) <= 0):
            msg = "select_events: event indices must be increasing and unique"
            raise ConfigError(msg)
        keep = np.isin(self.event, chosen)
        index = np.flatnonzero(keep)
        return self._subset(index, chosen, np.searchsorted(chosen, self.event[index]))

    def _subset(self, index: IntArray, events: IntArray, local: IntArray) -> Self:
        per_event = {name: getattr(self, name)[events] for name in EVENT_TRUTH}
        per_row = {name: getattr(self, name)[index] for name in ("layer", "module", "tc")}
        return type(self)(event=local, **per_row, **per_event)

    def equals(self, other: ModuleRows) -> bool:
        """True if every field has the same values (NaN equal to NaN) and dtype."""
        return all(
            getattr(self, f.name).dtype == getattr(other, f.name).dtype
            and np.array_equal(getattr(self, f.name), getattr(other, f.name), equal_nan=True)
            for f in fields(self)
        )


def _integers(values: Any, name: str, shape: tuple[int, ...], dtype: np.dtype[Any]) -> IntArray:
    arr = np.asarray(values)
    if arr.shape != shape:
        msg = f"module rows: {name!r} must have shape {shape} (one entry per row), got {arr.shape}"
        raise ConfigError(msg)
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        msg = f"module rows: {name!r} must hold integers, got dtype {arr.dtype}"
        raise ConfigError(msg)
    return arr.astype(dtype, copy=False)


def _check_range(values: IntArray, name: str, low: int, high: int, what: str) -> None:
    if values.size and (values.min() < low or values.max() > high):
        msg = f"module rows: {name!r} must lie in {low}..{high} ({what}), got {int(values.min())}..{int(values.max())}"
        raise ConfigError(msg)


def _row_index(selection: npt.ArrayLike, n: int) -> IntArray:
    choice = np.asarray(selection)
    if choice.dtype == np.bool_:
        if choice.shape != (n,):
            msg = f"selection mask must have shape ({n},), got {choice.shape}"
            raise ConfigError(msg)
        return np.flatnonzero(choice)
    if choice.size == 0:
        return np.zeros(0, np.int64)
    if choice.ndim != 1 or not np.issubdtype(choice.dtype, np.integer):
        msg = f"selection must be a mask or 1-D integer indices, got dtype {choice.dtype} and shape {choice.shape}"
        raise ConfigError(msg)
    if choice.min() < 0 or choice.max() >= n:
        msg = (
            f"selection index out of range 0..{n - 1}: got {int(choice.min())}..{int(choice.max())}"
        )
        raise ConfigError(msg)
    return choice.astype(np.int64)
