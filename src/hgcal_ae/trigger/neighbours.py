"""Neighbouring modules: border trigger cells and how a shower's layer is split across modules.

Public API::

    border_geometry(setup, *, max_distance_cm=None) -> BorderGeometry   # "ld8", "hd8"
    border_charges(rows, setup_or_geometry) -> (M, B)                   # charges [MIP]
    layer_split(rows, *, threshold=SPLIT_THRESHOLD) -> LayerSplit

``rows`` is :class:`~hgcal_ae.datasets.module_rows.ModuleRows` (charges [MIP], any order).

**Adjacent modules.**  The wafers of a :func:`~hgcal_ae.detector.tiling.hex_tiling` all have
the same orientation and touch across flat sides with outward normals at 60 j degrees
(j = 0..5, counter-clockwise from +x).  ``adjacent[a, j]`` is the module whose centre is one
wafer spacing (flat-to-flat + gap) from a's in direction j, or -1 beyond the tiling's edge.

**Border TCs (this project's choice, not from a source).**  The border TCs of module a in its
neighbour b (direction j) are the TCs of b whose centre lies within ``max_distance_cm`` of
the side of a that faces b, measured perpendicular to that side.  The default is **3/4 of
a TC pitch**, 1.81 cm.  The TC pitch is 2.4168 cm: 2 x 1.2084 cm cells (LD), 3 x 0.8056 cm (HD).
It matches Ecoder's 2.4168015 between neighbouring TC centres (econt.md §5).  On both 8-inch
wafers this keeps exactly the row of **4 TCs along the shared side**; their centres lie
1.01-1.29 cm (LD) or 1.06-1.23 cm (HD) from a's side, gap included.  The next candidates are
the TCs at a wafer corner, 1.87 / 2.50 cm (LD) and 1.99 / 2.39 cm (HD) away on alternate
sides.  On LD the rule "within one TC pitch of a's outline" would therefore take 5 TCs on
three sides and 4 on the other three: the cell lattice has only the three-fold symmetry of the
TC map.  With 3/4 of a pitch every side gives the
same count, so a module has B = 6 x 4 = 24 border slots.  ``border_geometry`` refuses a
distance for which the sides differ.

**Slot order (deterministic, rotation-consistent).**  Slot ``k = K j + i``: side j (the
direction above), then i = 0..K-1 along that side, counter-clockwise as seen from a (by the
coordinate along the side's tangent, the normal turned by +90 degrees).  Rotating the layout
by 120 degrees about a module centre maps slot (j, i) onto slot (j + 2, i) exactly (the TC
map is three-fold symmetric).  By 60 degrees it maps onto (j + 1, i) within 1.3 cm, about
half a TC pitch: the TC rows of alternate sides are offset by half a TC along the side,
because the cell lattice is only three-fold symmetric.  Slots toward a missing neighbour (a module
at the edge of the tiling) are padding: module and TC index -1, charge 0.

**Split showers.**  :func:`layer_split` gives every row the fraction of its (event, layer)
energy that the module holds: the uncompressed TC sum of the row over the sum of all rows
of that event and layer.  An event-layer is *split* when its hottest module holds less than
``threshold`` of the layer's energy.  The default of 0.95 (5 % or more outside the hottest
module) is this project's choice, not a number from the sources.

Everything is vectorised: rows are matched through sorted packed keys
(event, layer, module) and ``searchsorted``, with no Python loop over rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hgcal_ae.datasets.module_rows import ModuleRows
from hgcal_ae.detector.hexagons import read_only_arrays
from hgcal_ae.detector.setups import DetectorSetup, detector_setup
from hgcal_ae.detector.trigger_cells import N_TRIGGER_CELLS, tc_pitch_cm, trigger_cell_map
from hgcal_ae.errors import ConfigError, DataError

__all__ = [
    "BORDER_DISTANCE_TC_PITCHES",
    "N_SIDES",
    "SPLIT_THRESHOLD",
    "BorderGeometry",
    "LayerSplit",
    "border_charges",
    "border_geometry",
    "layer_split",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

N_SIDES = 6  # sides of a hexagonal wafer
BORDER_DISTANCE_TC_PITCHES = 0.75  # default border distance, in TC pitches (module docstring)
SPLIT_THRESHOLD = 0.95  # hottest-module share below which a layer counts as split (own choice)
_LAYER_SPAN = 64  # packed-key span for layers (CE-E 1..28, CE-H up to 50)


@dataclass(frozen=True, eq=False)
class BorderGeometry:
    """Adjacent modules and border TCs of every module of a layer (arrays read-only).

    Attributes
    ----------
    setup_name : str
        The detector set-up (``"ld8"`` or ``"hd8"``).
    max_distance_cm : float
        Border distance from the shared side [cm] (module docstring).
    tc_x_cm, tc_y_cm : numpy.ndarray of float64, shape (n_modules, 48)
        Global TC centres in the layer frame [cm]: wafer centre + TC centre in the sensor frame.
    adjacent : numpy.ndarray of int64, shape (n_modules, 6)
        Neighbour of each module across side j (normal at 60 j degrees), -1 if none.
    side_tc : numpy.ndarray of int64, shape (6, K)
        TC ids of the neighbour across side j that border the module (the same for every module,
        since all wafers share one orientation), ordered counter-clockwise along the side.
    border_module, border_tc : numpy.ndarray of int64, shape (n_modules, B), B = 6 K
        Module and TC id of each border slot; -1 (both) for padding toward a missing neighbour.
    """

    setup_name: str
    max_distance_cm: float
    tc_x_cm: FloatArray
    tc_y_cm: FloatArray
    adjacent: IntArray
    side_tc: IntArray
    border_module: IntArray
    border_tc: IntArray

    def __post_init__(self) -> None:
        read_only_arrays(self)

    @property
    def n_modules(self) -> int:
        """Modules of the layer tiling."""
        return int(self.adjacent.shape[0])

    @property
    def n_border(self) -> int:
        """Border slots per module, B = 6 K."""
        return int(self.border_module.shape[1])

    def border_xy(self) -> FloatArray:
        """Global centres of every module's border TCs, shape (n_modules, B, 2) [cm]; nan for padding."""
        valid = self.border_module >= 0
        m, t = np.where(valid, self.border_module, 0), np.where(valid, self.border_tc, 0)
        xy = np.stack([self.tc_x_cm[m, t], self.tc_y_cm[m, t]], axis=-1)
        return np.where(valid[..., None], xy, np.nan)


def _resolve_setup(setup: DetectorSetup | str) -> DetectorSetup:
    if isinstance(setup, str):
        return detector_setup(setup)
    if not isinstance(setup, DetectorSetup):
        msg = f"setup must be a DetectorSetup or a geometry name such as 'ld8', got {type(setup).__name__}"
        raise ConfigError(msg)
    return setup


def border_geometry(
    setup: DetectorSetup | str, *, max_distance_cm: float | None = None
) -> BorderGeometry:
    """Adjacent modules and border TCs of a tiled 8-inch set-up (see the module docstring).

    Parameters
    ----------
    setup
        A :class:`~hgcal_ae.detector.setups.DetectorSetup` with a TC map, or its name
        (``"ld8"``, ``"hd8"``).
    max_distance_cm
        Largest distance of a border TC's centre from the shared side [cm]; default 3/4 of
        the TC pitch (1.81 cm).

    Raises
    ------
    ConfigError
        If the set-up has no TC map (the 6-inch beam-test sensor), the distance is not a
        positive number, or it selects different numbers of TCs on different sides.
    """
    setup = _resolve_setup(setup)
    tc_map = trigger_cell_map(setup.lattice.name)
    tiling = setup.tiling
    if max_distance_cm is None:
        max_distance_cm = BORDER_DISTANCE_TC_PITCHES * tc_pitch_cm(setup.lattice.name)
    if (
        isinstance(max_distance_cm, bool)
        or not isinstance(max_distance_cm, int | float | np.floating)
        or not (math.isfinite(max_distance_cm) and max_distance_cm > 0)
    ):
        msg = f"max_distance_cm must be a positive length [cm], got {max_distance_cm!r}"
        raise ConfigError(msg)
    angle = np.deg2rad(60.0 * np.arange(N_SIDES))
    normal = np.stack([np.cos(angle), np.sin(angle)], axis=1)  # (6, 2)
    tangent = np.stack([-normal[:, 1], normal[:, 0]], axis=1)

    # neighbour across each side: the module centred one spacing away in that direction
    centre = np.stack([tiling.x_cm, tiling.y_cm], axis=1)  # (n, 2)
    target = centre[:, None, :] + tiling.spacing_cm * normal[None]  # (n, 6, 2)
    dist = np.linalg.norm(target[:, :, None, :] - centre[None, None], axis=-1)  # (n, 6, n)
    found = dist.min(axis=-1) < 1e-6 * tiling.spacing_cm
    adjacent = np.where(found, dist.argmin(axis=-1), -1).astype(np.int64)

    # TCs of the neighbour across side j, in module a's frame (a at the origin)
    tc_xy = np.stack([tc_map.tc_x_cm, tc_map.tc_y_cm], axis=1)  # (48, 2)
    shifted = tc_xy[None] + tiling.spacing_cm * normal[:, None, :]  # (6, 48, 2)
    from_side = np.einsum("jtc,jc->jt", shifted, normal) - setup.lattice.wafer_flat_to_flat_cm / 2
    along = np.einsum("jtc,jc->jt", shifted, tangent)
    chosen = from_side <= max_distance_cm
    counts = chosen.sum(axis=1)
    if counts.min() != counts.max() or counts.min() == 0:
        msg = (
            f"max_distance_cm={max_distance_cm!r} selects {counts.tolist()} TCs on the six sides "
            f"of a {setup.name!r} module; a rotation-consistent border needs the same number "
            f"on every side (the default, {BORDER_DISTANCE_TC_PITCHES} TC pitch, gives 4)"
        )
        raise ConfigError(msg)
    k = int(counts[0])
    # order inside a side: counter-clockwise (tangent coordinate); the unchosen TCs go last
    order = np.lexsort((np.where(chosen, along, np.inf), ~chosen), axis=-1)
    side_tc = order[:, :k].astype(np.int64)  # (6, K)

    border_module = np.repeat(adjacent, k, axis=1)  # (n, 6 K)
    border_tc = np.where(
        border_module >= 0, np.tile(side_tc.reshape(-1), (adjacent.shape[0], 1)), -1
    )
    return BorderGeometry(
        setup_name=setup.name,
        max_distance_cm=float(max_distance_cm),
        tc_x_cm=tiling.x_cm[:, None] + tc_map.tc_x_cm[None, :],
        tc_y_cm=tiling.y_cm[:, None] + tc_map.tc_y_cm[None, :],
        adjacent=adjacent,
        side_tc=side_tc,
        border_module=border_module,
        border_tc=border_tc.astype(np.int64),
    )


def _event_layer_key(rows: ModuleRows) -> IntArray:
    """Packed (event, layer) key of every row, shape (M,)."""
    return rows.event * _LAYER_SPAN + rows.layer


def _check_rows(rows: object) -> ModuleRows:
    if not isinstance(rows, ModuleRows):
        msg = f"rows must be ModuleRows (hgcal_ae.datasets.module_rows), got {type(rows).__name__}"
        raise ConfigError(msg)
    if rows.n_tc != N_TRIGGER_CELLS:
        msg = f"module rows: 'tc' must have {N_TRIGGER_CELLS} TCs per row, got {rows.n_tc}"
        raise ConfigError(msg)
    return rows


def border_charges(rows: ModuleRows, setup: DetectorSetup | str | BorderGeometry) -> FloatArray:
    """Charges of every row's border TCs, taken from the other rows of its event and layer.

    Parameters
    ----------
    rows
        Module rows in any order; charges [MIP].
    setup
        The set-up (or its name) the rows belong to, or a :class:`BorderGeometry` from
        :func:`border_geometry` (to choose another border distance).

    Returns
    -------
    numpy.ndarray of float64, shape (M, B)
        ``out[r, k]`` is the charge of TC ``border_tc[module_r, k]`` of module
        ``border_module[module_r, k]`` in the same event and layer as row r, in the unit of
        ``tc``; 0 where that module has no row (no energy) or the slot is padding.

    Raises
    ------
    ConfigError
        On rows that are not ModuleRows of 48 TCs, a module outside the tiling, or a set-up
        without a TC map.
    DataError
        On two rows for the same (event, layer, module).
    """
    geometry = setup if isinstance(setup, BorderGeometry) else border_geometry(setup)
    r = _check_rows(rows)
    n_mod = geometry.n_modules
    if r.n_rows and r.module.max() >= n_mod:
        msg = f"module rows: 'module' must lie in 0..{n_mod - 1} (the tiling's modules), got {int(r.module.min())}..{int(r.module.max())}"
        raise ConfigError(msg)
    tc = np.asarray(r.tc, dtype=np.float64)
    key = _event_layer_key(r) * n_mod + r.module
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    if sorted_key.size > 1 and (np.diff(sorted_key) == 0).any():
        at = int(order[1:][np.diff(sorted_key) == 0][0])
        msg = (
            f"module rows: two rows for event {int(r.event[at])}, layer {int(r.layer[at])}, "
            f"module {int(r.module[at])}; each (event, layer, module) must appear once"
        )
        raise DataError(msg)
    slot_module = geometry.border_module[r.module]  # (M, B)
    slot_tc = geometry.border_tc[r.module]
    wanted = _event_layer_key(r)[:, None] * n_mod + slot_module
    pos = np.searchsorted(sorted_key, wanted)
    pos = np.minimum(pos, max(sorted_key.size - 1, 0))
    if sorted_key.size == 0:
        return np.zeros(slot_module.shape)
    hit = (slot_module >= 0) & (sorted_key[pos] == wanted)
    source = order[pos]
    return np.where(hit, tc[source, np.where(hit, slot_tc, 0)], 0.0)


@dataclass(frozen=True, eq=False)
class LayerSplit:
    """How each (event, layer) shares its energy among modules.

    Attributes
    ----------
    threshold : float
        Hottest-module share below which an event-layer is split.
    row_group : numpy.ndarray of int64, shape (M,)
        Event-layer group of each row (index into the per-group arrays).
    row_fraction : numpy.ndarray of float64, shape (M,)
        Share of its event-layer energy that the row's module holds; ``nan`` if the layer
        has no energy.  Sums to 1 over the rows of every group with energy.
    group_event, group_layer : numpy.ndarray of int64, shape (G,)
        Event and layer of each group, sorted by (event, layer).
    group_energy : numpy.ndarray of float64, shape (G,)
        Sum of the group's TC charges (unit of ``tc``).
    group_modules : numpy.ndarray of int64, shape (G,)
        Rows (modules) of each group.
    hottest_fraction : numpy.ndarray of float64, shape (G,)
        Largest ``row_fraction`` of each group (``nan`` without energy).
    split : numpy.ndarray of bool, shape (G,)
        ``hottest_fraction < threshold`` (False without energy).
    """

    threshold: float
    row_group: IntArray
    row_fraction: FloatArray
    group_event: IntArray
    group_layer: IntArray
    group_energy: FloatArray
    group_modules: IntArray
    hottest_fraction: FloatArray
    split: BoolArray

    @property
    def row_split(self) -> BoolArray:
        """Whether each row's event-layer is split, shape (M,)."""
        return self.split[self.row_group]


def layer_split(rows: ModuleRows, *, threshold: float = SPLIT_THRESHOLD) -> LayerSplit:
    """Share of each event-layer's energy held by each module, and which layers are split.

    Parameters
    ----------
    rows
        Module rows as for :func:`border_charges` (any order); uncompressed charges.
    threshold
        An event-layer is split when its hottest module holds less than this share of the
        layer's energy; in (0, 1], default 0.95.

    Raises
    ------
    ConfigError
        On rows that are not ModuleRows or a threshold outside (0, 1].
    """
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float | np.floating)
        or not 0 < threshold <= 1
    ):
        msg = f"threshold must be a share of the layer energy in (0, 1], got {threshold!r}"
        raise ConfigError(msg)
    r = _check_rows(rows)
    groups, row_group = np.unique(_event_layer_key(r), return_inverse=True)
    row_group = row_group.reshape(-1).astype(np.int64)
    row_energy = r.module_sums()
    # numpy's stub types bincount as intp even when float weights make it float64
    energy: FloatArray = np.bincount(row_group, weights=row_energy, minlength=groups.size)  # type: ignore[assignment]
    has = energy[row_group] > 0
    fraction = np.divide(row_energy, energy[row_group], out=np.full(r.n_rows, np.nan), where=has)
    hottest = np.full(groups.size, -np.inf)
    np.maximum.at(hottest, row_group, np.where(has, fraction, -np.inf))
    hottest = np.where(energy > 0, hottest, np.nan)
    split = np.zeros(groups.size, dtype=bool)
    np.less(hottest, threshold, out=split, where=energy > 0)
    event, layer = np.divmod(groups, _LAYER_SPAN)
    return LayerSplit(
        threshold=float(threshold),
        row_group=row_group,
        row_fraction=fraction,
        group_event=event.astype(np.int64),
        group_layer=layer.astype(np.int64),
        group_energy=energy,
        group_modules=np.bincount(row_group, minlength=groups.size).astype(np.int64),
        hottest_fraction=hottest,
        split=split,
    )
