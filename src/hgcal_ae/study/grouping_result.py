"""The result of the trigger-cell grouping study: per-event layer quantities and their summaries.

Public API::

    GroupingResult(...)             # made by hgcal_ae.study.grouping.grouping_study
    .layer_resolution_mm(name, against="truth"), .shower_max_resolution_mm(...),
    .event_resolution_mm(...), .layer_width_ratio(name), .shower_max_width_ratio(name),
    .bits_per_module(name), .elinks_per_module(name)
    .rows() / .layer_rows() / .energy_rows() / .to_json()

The definitions of the measures are in :mod:`hgcal_ae.study.grouping`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from hgcal_ae.errors import ConfigError
from hgcal_ae.study.grouping_config import GEOMETRY, GRANULARITIES, REFERENCE, GroupingConfig
from hgcal_ae.trigger.bandwidth import elinks_needed
from hgcal_ae.trigger.formats import TC_4E3M

__all__ = ["MM_PER_CM", "GroupingResult"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MM_PER_CM = 10.0  #: the result's lengths are quoted in mm


def _rms_per_axis(dx: FloatArray, dy: FloatArray) -> float:
    """sqrt(<dx^2 + dy^2> / 2) over the finite entries [same unit]; nan if none."""
    d2 = dx**2 + dy**2
    d2 = d2[np.isfinite(d2)]
    return float(np.sqrt(d2.mean() / 2.0)) if d2.size else math.nan


def _ratio_of_means(num: FloatArray, den: FloatArray) -> float:
    ok = np.isfinite(num) & np.isfinite(den)
    total = den[ok].sum()
    return float(num[ok].sum() / total) if ok.any() and total > 0 else math.nan


def _plain(value: Any) -> Any:
    """Python floats/ints for JSON: numpy scalars converted, nan and inf as None."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return value


@dataclass(frozen=True, eq=False)
class GroupingResult:
    """Per-event layer quantities of every granularity, and the summaries drawn from them.

    Arrays of shape (n_events, n_layers) are indexed by event (all energies, in the order of
    ``config.energies_gev``) and kept layer (``layers``); the dicts are keyed by granularity
    name (:data:`GRANULARITIES`).  Barycentres and widths are nan where a layer has no energy.

    Attributes
    ----------
    config : GroupingConfig
    layers : numpy.ndarray of int64, shape (n_layers,)
        Kept CE-E layers (the odd ones, 1..27).
    true_energy_gev : numpy.ndarray, shape (n_events,)
        Shower energy [GeV].
    true_x_cm, true_y_cm : numpy.ndarray, shape (n_events, n_layers)
        True shower axis at each layer [cm].
    shower_max : numpy.ndarray of bool, shape (n_events, n_layers)
        The shower-maximum window of each event (from the cells).
    layer_energy_mip, layer_x_cm, layer_y_cm, layer_width_cm : dict of numpy.ndarray
        Per granularity, shape (n_events, n_layers): layer energy [MIP], barycentre [cm],
        RMS radius [cm].
    units_per_module : dict of int
        432 / 108 / 48.
    hottest_fraction, occupancy_per_module : dict of float
        Module-energy-weighted fraction in the hottest unit; mean units >= threshold per
        module with energy.
    n_module_rows : dict of int
        Number of (event, layer, module) with energy.
    """

    config: GroupingConfig
    layers: IntArray
    true_energy_gev: FloatArray
    true_x_cm: FloatArray
    true_y_cm: FloatArray
    shower_max: npt.NDArray[np.bool_]
    layer_energy_mip: dict[str, FloatArray]
    layer_x_cm: dict[str, FloatArray]
    layer_y_cm: dict[str, FloatArray]
    layer_width_cm: dict[str, FloatArray]
    units_per_module: dict[str, int]
    hottest_fraction: dict[str, float]
    occupancy_per_module: dict[str, float]
    n_module_rows: dict[str, int]

    @property
    def granularities(self) -> tuple[str, ...]:
        return tuple(self.layer_energy_mip)

    @property
    def n_events(self) -> int:
        return int(self.true_energy_gev.size)

    def bits_per_module(self, name: str) -> int:
        """Bits per module per bunch crossing to send every unit as 7-bit 4E3M (no header)."""
        return self.units_per_module[name] * TC_4E3M.bits

    def elinks_per_module(self, name: str) -> int:
        """E-links (32 bits per bunch crossing each) for :meth:`bits_per_module`."""
        return int(elinks_needed(self.bits_per_module(name)))

    # -- residuals ---------------------------------------------------------------------------

    def _residual(self, name: str, against: str) -> tuple[FloatArray, FloatArray]:
        """(dx, dy) [cm] of the layer barycentres against the truth or another granularity."""
        if against == "truth":
            ref_x, ref_y = self.true_x_cm, self.true_y_cm
        else:
            ref_x, ref_y = self.layer_x_cm[against], self.layer_y_cm[against]
        return self.layer_x_cm[name] - ref_x, self.layer_y_cm[name] - ref_y

    def _event_residual(
        self, name: str, against: str, events: npt.NDArray[np.bool_] | slice = slice(None)
    ) -> tuple[FloatArray, FloatArray]:
        """(dx, dy) [cm] of the event barycentre (all kept layers) against the reference."""
        e = self.layer_energy_mip[name][events]
        total = e.sum(axis=1)

        def bary(x: FloatArray) -> FloatArray:  # energy-weighted mean over the layers
            with np.errstate(invalid="ignore", divide="ignore"):
                mean: FloatArray = np.where(e > 0, x[events] * e, 0.0).sum(axis=1) / total
            return mean

        if against == "truth":
            ref_x, ref_y = bary(self.true_x_cm), bary(self.true_y_cm)
        else:
            ref_x, ref_y = bary(self.layer_x_cm[against]), bary(self.layer_y_cm[against])
        return bary(self.layer_x_cm[name]) - ref_x, bary(self.layer_y_cm[name]) - ref_y

    def layer_resolution_mm(self, name: str, against: str = "truth") -> FloatArray:
        """RMS per axis [mm] of each layer's barycentre residual, shape (n_layers,).

        ``against`` is ``"truth"`` (the true axis at the layer) or a granularity name (the
        shift from its barycentre, e.g. ``"cells"``).
        """
        dx, dy = self._residual(name, against)
        return np.array([_rms_per_axis(dx[:, i], dy[:, i]) for i in range(self.layers.size)])

    def shower_max_resolution_mm(
        self, name: str, against: str = "truth", energy_gev: float | None = None
    ) -> float:
        """RMS per axis [mm] of the layer residuals in the shower-maximum windows."""
        dx, dy = self._residual(name, against)
        window = self.shower_max & self._events(energy_gev)[:, None]
        return _rms_per_axis(dx[window], dy[window]) * MM_PER_CM

    def event_resolution_mm(
        self, name: str, against: str = "truth", energy_gev: float | None = None
    ) -> float:
        """RMS per axis [mm] of the event barycentre residual (all kept layers)."""
        dx, dy = self._event_residual(name, against, self._events(energy_gev))
        return _rms_per_axis(dx, dy) * MM_PER_CM

    def _events(self, energy_gev: float | None) -> npt.NDArray[np.bool_]:
        if energy_gev is None:
            return np.ones(self.n_events, dtype=bool)
        index = np.repeat(np.arange(len(self.config.energies_gev)), self.config.events_per_energy)
        if float(energy_gev) not in self.config.energies_gev:
            msg = f"energy {energy_gev!r} GeV was not simulated; expected one of {self.config.energies_gev}"
            raise ConfigError(msg)
        chosen: npt.NDArray[np.bool_] = index == self.config.energies_gev.index(float(energy_gev))
        return chosen

    # -- widths ------------------------------------------------------------------------------

    def layer_width_ratio(self, name: str) -> FloatArray:
        """mean(width) / mean(width of cells) per layer, shape (n_layers,)."""
        w, ref = self.layer_width_cm[name], self.layer_width_cm[REFERENCE]
        return np.array([_ratio_of_means(w[:, i], ref[:, i]) for i in range(self.layers.size)])

    def shower_max_width_ratio(self, name: str) -> float:
        """mean(width) / mean(width of cells) over the shower-maximum windows."""
        window = self.shower_max
        return _ratio_of_means(
            self.layer_width_cm[name][window], self.layer_width_cm[REFERENCE][window]
        )

    # -- tables ------------------------------------------------------------------------------

    def rows(self) -> list[dict[str, Any]]:
        """One summary row per granularity (plain Python values; nan where undefined)."""
        rows = []
        for name in self.granularities:
            k = GRANULARITIES[name]
            units = self.units_per_module[name]
            rows.append(
                {
                    "granularity": name,
                    "cells_per_unit": k * k,
                    "units_per_module": units,
                    "event_resolution_mm": self.event_resolution_mm(name),
                    "shower_max_resolution_mm": self.shower_max_resolution_mm(name),
                    "event_shift_mm": self.event_resolution_mm(name, REFERENCE),
                    "shower_max_shift_mm": self.shower_max_resolution_mm(name, REFERENCE),
                    "shower_max_width_ratio": self.shower_max_width_ratio(name),
                    "shower_max_width_mm": float(
                        np.nanmean(self.layer_width_cm[name][self.shower_max]) * MM_PER_CM
                    ),
                    "hottest_fraction": self.hottest_fraction[name],
                    "occupancy_per_module": self.occupancy_per_module[name],
                    "occupancy_fraction": self.occupancy_per_module[name] / units,
                    "total_energy_mip": float(self.layer_energy_mip[name].sum()),
                    "bits_per_module": self.bits_per_module(name),
                    "elinks_per_module": self.elinks_per_module(name),
                }
            )
        return [_plain(row) for row in rows]

    def layer_rows(self) -> list[dict[str, Any]]:
        """One row per (granularity, layer): resolution, shift [mm], width ratio, entries."""
        rows = []
        for name in self.granularities:
            resolution = self.layer_resolution_mm(name) * MM_PER_CM
            shift = self.layer_resolution_mm(name, REFERENCE) * MM_PER_CM
            ratio = self.layer_width_ratio(name)
            entries = (self.layer_energy_mip[name] > 0).sum(axis=0)
            for i, layer in enumerate(self.layers):
                rows.append(
                    {
                        "granularity": name,
                        "layer": int(layer),
                        "resolution_mm": resolution[i],
                        "shift_mm": shift[i],
                        "width_ratio": ratio[i],
                        "n_events": int(entries[i]),
                    }
                )
        return [_plain(row) for row in rows]

    def energy_rows(self) -> list[dict[str, Any]]:
        """One row per (granularity, beam energy): event and shower-max resolutions [mm]."""
        rows = [
            {
                "granularity": name,
                "energy_gev": energy,
                "event_resolution_mm": self.event_resolution_mm(name, energy_gev=energy),
                "shower_max_resolution_mm": self.shower_max_resolution_mm(name, energy_gev=energy),
            }
            for name in self.granularities
            for energy in self.config.energies_gev
        ]
        return [_plain(row) for row in rows]

    def to_json(self) -> dict[str, Any]:
        """Everything as plain JSON values (floats, ints, strings, lists; nan as None)."""
        table: dict[str, Any] = _plain(
            {
                "geometry": GEOMETRY,
                "config": asdict(self.config),
                "n_events": self.n_events,
                "layers": self.layers.tolist(),
                "units": {
                    "resolution": "mm, RMS per axis",
                    "width": "mm, energy-weighted RMS radius",
                    "energy": "MIP",
                    "bits": "per module per bunch crossing, 7-bit 4E3M per unit, no header",
                },
                "summary": self.rows(),
                "per_layer": self.layer_rows(),
                "per_energy": self.energy_rows(),
            }
        )
        return table
