"""Modules to verify an exported encoder on: a study's trigger cells, or generated ones.

Public API::

    generated_modules(n, seed=0) -> (n, 48) charges      # shower-like, seeded
    file_modules(path, n) -> (≤ n, 48) charges           # the non-empty modules of a study file
    files_modules(paths, n) -> ((≤ n, 48), counts)       # of several files, in turn
    verification_images(n, *, modules=None, seed=0) -> ((N, 1, 8, 8) float32, source)

Either way the modules go through the ECON-T input chain
(:func:`hgcal_ae.trigger.transmission.encoder_inputs`: sumlog2 normalisation, 8-bit
inputs), so the images lie on the chip's input grid.
"""

from __future__ import annotations

import os

import numpy as np
import numpy.typing as npt

from hgcal_ae.datasets.trigger_cells import read_trigger_cells
from hgcal_ae.detector.trigger_cells import N_TRIGGER_CELLS, tc_coords, tc_pitch_cm
from hgcal_ae.errors import ConfigError, DataError
from hgcal_ae.trigger.transmission import encoder_inputs

__all__ = ["file_modules", "files_modules", "generated_modules", "verification_images"]


def generated_modules(n: int, seed: int = 0) -> npt.NDArray[np.float64]:
    """``n`` shower-like modules ``(n, 48)`` [MIP]: a Gaussian core at a random place, of random
    width (0.3-2 TC pitches) and energy (1-1000 MIP, log-uniform), plus sparse noise hits."""
    rng = np.random.default_rng(seed)
    xy = tc_coords("ld8")
    pitch = tc_pitch_cm("ld8")
    low, high = xy.min(axis=0), xy.max(axis=0)
    centre = rng.uniform(low, high, size=(n, 2))
    width = pitch * rng.uniform(0.3, 2.0, size=(n, 1))
    energy = 10.0 ** rng.uniform(0.0, 3.0, size=(n, 1))
    d2 = ((xy[None, :, :] - centre[:, None, :]) ** 2).sum(axis=2)
    core = np.exp(-0.5 * d2 / width**2)
    core *= energy / core.sum(axis=1, keepdims=True)
    noise = rng.exponential(0.5, size=(n, N_TRIGGER_CELLS)) * (
        rng.random((n, N_TRIGGER_CELLS)) < 0.2
    )
    modules: npt.NDArray[np.float64] = core + noise
    return modules


def file_modules(path: str | os.PathLike[str], n: int) -> npt.NDArray[np.float64]:
    """The first ``n`` non-empty modules ``(≤ n, 48)`` of a trigger-cell file (a study's
    ``trigger_cells.h5``).

    Raises
    ------
    DataError
        If the file cannot be read as a trigger-cell file, or holds no non-empty module.
    """
    rows, _ = read_trigger_cells(path)
    tc = np.asarray(rows.tc, dtype=np.float64)
    tc = tc[tc.sum(axis=1) > 0][:n]
    if len(tc) == 0:
        msg = f"trigger-cell file {str(path)!r} holds no non-empty module to verify on"
        raise DataError(msg)
    kept: npt.NDArray[np.float64] = tc
    return kept


def files_modules(
    paths: list[str | os.PathLike[str]], n: int
) -> tuple[npt.NDArray[np.float64], list[int]]:
    """The non-empty modules of ``paths`` in turn, up to ``n`` in all, and how many each gave
    (a study's data sets together: signal, pile-up and ``pu200`` showers)."""
    parts: list[npt.NDArray[np.float64]] = []
    left = n
    for path in paths:
        if left <= 0:
            break
        parts.append(file_modules(path, left))
        left -= len(parts[-1])
    return np.concatenate(parts), [len(p) for p in parts]


def verification_images(
    n: int, *, modules: str | os.PathLike[str] | None = None, seed: int = 0
) -> tuple[npt.NDArray[np.float32], str]:
    """Encoder inputs ``(N, 1, 8, 8)`` of ``n`` modules and a phrase naming where they came from.

    ``modules``: a trigger-cell file, or several separated by commas, read in turn until
    ``n`` non-empty modules are found; None: ``n`` generated modules.

    Raises
    ------
    ConfigError
        If ``n`` is not a positive integer.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        msg = f"--verify needs a positive number of modules, got {n!r}"
        raise ConfigError(msg)
    if modules is None:
        tc, source = generated_modules(n, seed), f"{n} generated modules (seed {seed})"
    else:
        paths: list[str | os.PathLike[str]] = (
            [p.strip() for p in modules.split(",") if p.strip()]
            if isinstance(modules, str)
            else [modules]
        )
        tc, counts = files_modules(paths, n)
        if len(counts) == 1:
            source = f"the first {len(tc)} non-empty modules of {str(paths[0])!r}"
        else:
            each = ", ".join(f"{k} of {str(p)!r}" for k, p in zip(counts, paths, strict=False))
            source = f"{len(tc)} non-empty modules: {each}"
    images, _ = encoder_inputs(tc)
    return images[:, None, :, :], source
