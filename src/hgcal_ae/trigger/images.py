"""The ECON-T autoencoder input images of a module's 48 trigger cells (econt.md section 2).

Public API::

    to_image_8x8(tc) -> (..., 8, 8)        from_image_8x8(img) -> (..., 48)
    to_4x4x3(tc) -> (..., 4, 4, 3)         from_4x4x3(img) -> (..., 48)
    IMAGE_MASK_8X8                         # (8, 8) bool, the 48 populated pixels

TC ids follow :mod:`hgcal_ae.trigger.cells`: id = 16 rhombus + 4 row + col, with (row, col)
0..3 the TC position inside its rhombus.

``8x8`` (the default layout of Ecoder, OW:networks.py ``arrange_dict``): three 4 x 4 blocks,
one per rhombus.  TC (row r, col c) of rhombus 0 (TC 0-15) goes to pixel (r, c), of rhombus 1
(TC 16-31) to (r, 4 + c), of rhombus 2 (TC 32-47) to (4 + r, c); the lower-right 4 x 4
quarter is 0.  So image rows 0-3 hold TC 0-31 and rows 4-7 hold TC 32-47 in the left half and
0 in the right half, as drawn in the comment of SR:``AEinputUtil.h`` (CMSSW).  TC 0 is at
(0, 0), TC 16 at (0, 4), TC 32 at (4, 0).  Only this block layout is taken from the sources:
Ecoder's ``arrange8x8`` also permutes TCs inside the blocks, in its ECON-T MUX (CALQ)
numbering, which this project's TC ids do not reproduce.

``4x4x3``: channel = rhombus, pixel (r, c) of channel j is TC 16 j + 4 r + c, i.e. the flat
order ``[0, 16, 32, 1, 17, 33, ...]`` of Ecoder's ``arrange443`` (econt.md section 2).

Every function takes a numpy array or a torch tensor of any leading shape and returns the
same kind (torch: same dtype and device, differentiable), using only indexing and reshapes.
"""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from hgcal_ae.detector.trigger_cells import N_TRIGGER_CELLS as N_TC
from hgcal_ae.errors import ConfigError

__all__ = ["IMAGE_MASK_8X8", "from_4x4x3", "from_image_8x8", "to_4x4x3", "to_image_8x8"]


ArrayT = TypeVar("ArrayT")  # numpy.ndarray or torch.Tensor


def _layout_8x8() -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """TC id at each of the 64 pixels (0 where empty) and the mask of populated pixels."""
    tc = np.arange(N_TC)
    rhombus, row, col = tc // 16, (tc % 16) // 4, tc % 4
    pixel_row = row + 4 * (rhombus == 2)
    pixel_col = col + 4 * (rhombus == 1)
    pixel = 8 * pixel_row + pixel_col
    index = np.zeros(64, dtype=np.int64)
    index[pixel] = tc
    mask = np.zeros(64, dtype=np.bool_)
    mask[pixel] = True
    return index, mask


_PIXEL_TC_8X8, _MASK_FLAT = _layout_8x8()
#: Populated pixels of the 8x8 image: every pixel but the lower-right 4x4 quarter.
IMAGE_MASK_8X8: npt.NDArray[np.bool_] = _MASK_FLAT.reshape(8, 8)
IMAGE_MASK_8X8.flags.writeable = False
_TC_PIXEL_8X8 = np.flatnonzero(_MASK_FLAT)[np.argsort(_PIXEL_TC_8X8[_MASK_FLAT])]
# 4x4x3: flat position 3 (4 r + c) + j holds TC 16 j + 4 r + c (Ecoder arrange443)
_TC_4X4X3 = (16 * np.arange(3)[None, :] + np.arange(16)[:, None]).reshape(-1)
_FLAT_4X4X3 = np.argsort(_TC_4X4X3)


def _is_torch(x: object) -> bool:
    return type(x).__module__.split(".")[0] == "torch"


def _as_array(x: Any) -> Any:
    """Torch tensors pass through; anything else becomes a numpy array."""
    return x if _is_torch(x) else np.asarray(x)


def _take(x: Any, index: npt.NDArray[np.int64]) -> Any:
    """``x[..., index]`` for numpy arrays and torch tensors (index moved to x's device)."""
    if _is_torch(x):
        import torch

        return x[..., torch.as_tensor(index, device=x.device)]
    return x[..., index]


def _check_shape(x: Any, trailing: tuple[int, ...], what: str) -> tuple[int, ...]:
    shape = tuple(x.shape)
    n = len(trailing)
    if len(shape) < n or shape[len(shape) - n :] != trailing:
        expected = "(..., " + ", ".join(str(s) for s in trailing) + ")"
        msg = f"{what} must have shape {expected}, got {shape}"
        raise ConfigError(msg)
    return shape[: len(shape) - n]


def to_image_8x8(tc: ArrayT) -> ArrayT:
    """Arrange 48 TCs into the 8x8 ECON-T image (layout in the module docstring).

    Parameters
    ----------
    tc
        TC values, shape (..., 48), numpy or torch.

    Returns
    -------
    Same kind and dtype, shape (..., 8, 8); the lower-right 4x4 quarter is 0.

    Raises
    ------
    ConfigError
        If the last axis is not 48 long.
    """
    x = _as_array(tc)
    lead = _check_shape(x, (N_TC,), "trigger cells")
    flat = _take(x, _PIXEL_TC_8X8)
    if _is_torch(flat):
        import torch

        mask = torch.as_tensor(_MASK_FLAT, device=flat.device)
        flat = torch.where(mask, flat, torch.zeros((), dtype=flat.dtype, device=flat.device))
    else:
        flat = np.where(_MASK_FLAT, flat, np.zeros((), dtype=flat.dtype))
    arranged: ArrayT = flat.reshape(*lead, 8, 8)  # numpy or torch, as the caller gave
    return arranged


def from_image_8x8(image: ArrayT) -> ArrayT:
    """The 48 TCs of an 8x8 image (inverse of :func:`to_image_8x8`; the empty quarter is ignored).

    Parameters
    ----------
    image
        Shape (..., 8, 8), numpy or torch.

    Returns
    -------
    Same kind and dtype, shape (..., 48).

    Raises
    ------
    ConfigError
        If the last two axes are not (8, 8).
    """
    x = _as_array(image)
    lead = _check_shape(x, (8, 8), "8x8 image")
    cells: ArrayT = _take(x.reshape(*lead, 64), _TC_PIXEL_8X8)
    return cells


def to_4x4x3(tc: ArrayT) -> ArrayT:
    """Arrange 48 TCs into a 4x4 image of 3 channels, channel = rhombus (Ecoder ``arrange443``).

    ``tc`` is as in :func:`to_image_8x8` (shape (..., 48), numpy or torch; ConfigError if
    the last axis is not 48 long).

    Returns
    -------
    Same kind and dtype, shape (..., 4, 4, 3) (channels last, as in Ecoder and the CMSSW
    ``encoderShape=(1,4,4,3)``): ``out[..., r, c, j]`` is TC 16 j + 4 r + c.
    """
    x = _as_array(tc)
    lead = _check_shape(x, (N_TC,), "trigger cells")
    arranged: ArrayT = _take(x, _TC_4X4X3).reshape(*lead, 4, 4, 3)
    return arranged


def from_4x4x3(image: ArrayT) -> ArrayT:
    """The 48 TCs of a (..., 4, 4, 3) image (inverse of :func:`to_4x4x3`).

    Raises
    ------
    ConfigError
        If the last three axes are not (4, 4, 3).
    """
    x = _as_array(image)
    lead = _check_shape(x, (4, 4, 3), "4x4x3 image")
    cells: ArrayT = _take(x.reshape(*lead, 48), _FLAT_4X4X3)
    return cells
