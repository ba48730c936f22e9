"""The simulation validation's pictures and ``summary.json``, from its fits.

Public API::

    VALIDATION_PLOTS                                   # the six figures, by name
    validation_figures(result, x0_cumulative, paths)   # draw them
    validation_event_display(setup, event, path, *, particle, energy_gev)
    validation_summary(result, setup, *, parameters, inputs, outputs)

The fits are :func:`hgcal_ae.metrics.validation.validation_fits`; each figure is one of
:mod:`hgcal_ae.plots.validation`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hgcal_ae import __version__
from hgcal_ae.datasets.event_batch import EventBatch
from hgcal_ae.detector.setups import DetectorSetup
from hgcal_ae.errors import ConfigError
from hgcal_ae.metrics.validation import ValidationResult
from hgcal_ae.plots.event_display import hexagonal_event_display
from hgcal_ae.plots.validation import (
    containment_plot,
    linearity_plot,
    longitudinal_profiles_plot,
    multiplicity_plot,
    resolution_plot,
    shower_max_plot,
)

__all__ = [
    "VALIDATION_PLOTS",
    "validation_event_display",
    "validation_figures",
    "validation_summary",
]

PathLike = str | os.PathLike[str]

VALIDATION_PLOTS = (
    "resolution",
    "linearity",
    "longitudinal_profiles",
    "shower_max",
    "containment",
    "multiplicity",
)
"""The figures of :func:`validation_figures`, each saved as ``<name>.png``."""


def validation_figures(
    result: ValidationResult, x0_cumulative: npt.ArrayLike, paths: Mapping[str, PathLike]
) -> dict[str, Path]:
    """Draw the six validation figures of ``result``.

    Parameters
    ----------
    result
        The fits across beam energies (at least three points).
    x0_cumulative
        Depth of each layer [X0], shape ``(n_layers,)``: the profiles' x axis.
    paths
        Destination of each figure, keyed by the names in :data:`VALIDATION_PLOTS`.

    Returns
    -------
    dict
        The written figures by name.
    """
    missing = [name for name in VALIDATION_PLOTS if name not in paths]
    if missing:
        msg = f"validation_figures needs a path for every figure; missing {missing}"
        raise ConfigError(msg)
    points = result.points
    energy = [p.beam_energy_gev for p in points]
    return {
        "resolution": resolution_plot(
            energy, [p.rel_sigma for p in points], [p.rel_sigma_err for p in points],
            result.resolution, paths["resolution"],
        ),
        "linearity": linearity_plot(
            energy, [p.reco.values["mean"] for p in points], [p.reco.errors["mean"] for p in points],
            result.linearity, paths["linearity"],
        ),
        "longitudinal_profiles": longitudinal_profiles_plot(
            np.asarray(x0_cumulative, dtype=np.float64),
            {p.beam_energy_gev: p.mean_profile_gev for p in points},
            paths["longitudinal_profiles"],
        ),
        "shower_max": shower_max_plot(
            energy, [p.t_max.values["t_max"] for p in points], [p.t_max.errors["t_max"] for p in points],
            result.shower_max, paths["shower_max"],
        ),
        "containment": containment_plot(
            energy, [p.r90_mean_cm for p in points], [p.r90_err_cm for p in points],
            paths["containment"],
        ),
        "multiplicity": multiplicity_plot(
            {p.beam_energy_gev: p.multiplicity for p in points}, paths["multiplicity"]
        ),
    }  # fmt: skip


def validation_event_display(
    setup: DetectorSetup, event: EventBatch, path: PathLike, *, particle: str, energy_gev: float
) -> Path:
    """Draw the first event of ``event`` layer by layer, titled with its beam and geometry."""
    title = f"{particle} {energy_gev:g} GeV, event {int(event.event_id[0])} ({setup.name})"
    return hexagonal_event_display(
        setup.lattice, setup.tiling, event.layer, event.cell, event.energy_mip, path, title=title
    )


def validation_summary(
    result: ValidationResult,
    setup: DetectorSetup,
    *,
    parameters: Mapping[str, Any],
    inputs: Mapping[str, PathLike],
    outputs: Mapping[str, PathLike],
) -> dict[str, Any]:
    """The content of the validation's ``summary.json``: parameters, detector, fits, files."""
    return {
        "workflow": "validate-simulation",
        "hgcal_ae_version": __version__,
        "parameters": dict(parameters),
        "detector": setup.describe(),
        **result.as_dict(),
        "inputs": {name: os.fspath(path) for name, path in inputs.items()},
        "outputs": {name: os.fspath(path) for name, path in outputs.items()},
    }
