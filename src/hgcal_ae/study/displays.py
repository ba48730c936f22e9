"""What the study's event display shows: one shower layer before and after each algorithm.

Public API::

    display_layer(rows) -> (row indices, event, layer)       # the layer worth showing
    layer_positions(module, setup) -> (x, y)                  # TC centres of those rows [cm]
    compression_panels(tc, evaluation_rows, *, lsb, zero_suppress, load_model, n_elinks=2)
        -> {panel title: (M, 48) charges}

The display is the most energetic test event's layer with the most energy, as the input
trigger cells, the best autoencoder that fits ``n_elinks``, Best Choice and STC 2×2 at the
same setting.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from hgcal_ae.datasets.module_rows import ModuleRows
from hgcal_ae.detector.setups import DetectorSetup
from hgcal_ae.detector.trigger_cells import tc_coords
from hgcal_ae.errors import ConfigError
from hgcal_ae.models.module_ae import ModuleAutoencoder
from hgcal_ae.models.module_training import decode_modules
from hgcal_ae.trigger.baselines import best_choice, super_trigger_cells

__all__ = ["compression_panels", "display_layer", "layer_positions"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def display_layer(rows: ModuleRows) -> tuple[IntArray, int, int]:
    """Rows of the most energetic event's layer with the most charge: (rows, event, layer).

    Raises
    ------
    ConfigError
        If there are no rows.
    """
    if rows.n_rows == 0:
        msg = "no module rows to display"
        raise ConfigError(msg)
    with_rows = np.unique(rows.event)
    event = int(with_rows[np.argmax(rows.true_energy_gev[with_rows])])
    in_event = np.flatnonzero(rows.event == event)
    per_layer = np.bincount(rows.layer[in_event], weights=rows.module_sums()[in_event])
    layer = int(np.argmax(per_layer))
    return in_event[rows.layer[in_event] == layer], event, layer


def layer_positions(module: npt.ArrayLike, setup: DetectorSetup) -> tuple[FloatArray, FloatArray]:
    """Centres of the 48 TCs of every given module in the layer frame, flattened ``(48 M,)`` [cm]."""
    m = np.asarray(module, dtype=np.int64)
    coords = tc_coords(setup.lattice.name)
    x = setup.tiling.x_cm[m][:, None] + coords[None, :, 0]
    y = setup.tiling.y_cm[m][:, None] + coords[None, :, 1]
    return x.ravel(), y.ravel()


def compression_panels(
    tc: FloatArray,
    evaluation_rows: Sequence[Mapping[str, Any]],
    *,
    lsb: float,
    zero_suppress: float,
    load_model: Callable[[int, int], ModuleAutoencoder],
    n_elinks: int = 2,
    conditions: Mapping[str, npt.ArrayLike] | None = None,
) -> dict[str, FloatArray]:
    """The charges ``(M, 48)`` of the displayed modules as each algorithm delivers them.

    ``load_model(latent_dim, latent_bits)`` gives the trained AE; the best one (lowest mean
    EMD among the evaluation rows at ``n_elinks``) is shown.
    """
    panels = {"input (uncompressed)": tc}
    aes = [
        r
        for r in evaluation_rows
        if r["algorithm"] == "autoencoder"
        and r["n_elinks"] == n_elinks
        and r.get("emd_mean_cm") is not None
    ]
    if aes:
        best = min(aes, key=lambda r: r["emd_mean_cm"])
        model = load_model(best["latent_dim"], best["latent_bits"])
        panels[f"{best['label']}, {n_elinks} e-links"] = decode_modules(
            model, tc, lsb=lsb, zero_suppress=zero_suppress,
            conditions=conditions if model.config.conditions else None,
        )  # fmt: skip
    for output in (best_choice(tc, n_elinks, lsb=lsb), super_trigger_cells(tc, n_elinks, lsb=lsb)):
        panels[f"{output.label}, {n_elinks} e-links"] = output.reconstructed
    return panels
