"""Animated GIF of the per-epoch reconstruction grids."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import imageio.v3 as iio
import numpy as np
import numpy.typing as npt

from hgcal_ae.atomic import atomic_path
from hgcal_ae.errors import ConfigError

__all__ = ["training_gif"]


def training_gif(
    frame_paths: Sequence[str | os.PathLike[str]],
    path: str | os.PathLike[str],
    *,
    seconds_per_frame: float = 0.6,
    final_pause: int = 3,
) -> Path:
    """Join image frames (e.g. one reconstruction grid per epoch) into a looping GIF.

    Parameters
    ----------
    frame_paths
        Frame images in display order (PNG), all of the same pixel size.
    path
        Destination GIF, written atomically.
    seconds_per_frame
        Display time of each frame in seconds.
    final_pause
        The last frame is shown ``final_pause`` times as long as the others, as if
        repeated, so the final state can be read before the loop restarts.

    Returns
    -------
    Path
        ``path``.  The GIF loops forever.  GIF stores times in 10 ms steps, and pillow
        merges consecutive identical frames into one (adding their times).

    Raises
    ------
    ConfigError
        If there are no frames, the frames differ in shape, or a timing is not positive.
    """
    if seconds_per_frame <= 0 or final_pause < 1:
        msg = (
            "expected seconds_per_frame > 0 and final_pause >= 1, "
            f"got {seconds_per_frame!r} and {final_pause!r}"
        )
        raise ConfigError(msg)
    if len(frame_paths) == 0:
        msg = "expected at least one frame for the GIF, got an empty list"
        raise ConfigError(msg)
    frames: list[npt.NDArray[Any]] = []
    for frame_path in frame_paths:
        frame = iio.imread(Path(frame_path))  # imageio takes str and Path, not any os.PathLike
        if frame.ndim == 3 and frame.shape[2] == 4:
            frame = frame[..., :3]  # matplotlib's PNGs are opaque RGBA; GIF has no alpha
        if frames and frame.shape != frames[0].shape:
            msg = (
                f"frame {str(frame_path)!r} has shape {frame.shape}, expected "
                f"{frames[0].shape} like {str(frame_paths[0])!r}; all frames must be the same size"
            )
            raise ConfigError(msg)
        frames.append(frame)
    step_ms = 1000.0 * seconds_per_frame
    durations = [step_ms] * (len(frames) - 1) + [step_ms * final_pause]
    # pillow's single-frame writer takes one number, its multi-frame writer a list
    duration: float | list[float] = durations if len(frames) > 1 else durations[0]
    final = Path(path)
    with atomic_path(final) as tmp:
        iio.imwrite(
            tmp, np.stack(frames), extension=".gif", is_batch=True, duration=duration, loop=0
        )
    return final
