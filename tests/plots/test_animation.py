"""Tests of the training GIF."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from hgcal_ae.errors import ConfigError
from hgcal_ae.plots import training_gif


def write_frames(folder: Path, count: int, shape: tuple[int, ...] = (30, 40, 4)) -> list[Path]:
    """Write ``count`` distinct opaque PNG frames, like matplotlib's RGBA output."""
    paths = []
    for k in range(count):
        frame = np.full(shape, 255, dtype=np.uint8)
        frame[..., 0] = 40 * k  # distinct frames: pillow merges identical neighbours
        frame[k : k + 5, :10, 1] = 0
        path = folder / f"epoch_{k:03d}.png"
        iio.imwrite(path, frame)
        paths.append(path)
    return paths


def test_gif_has_every_frame_loops_and_holds_the_last(tmp_path: Path) -> None:
    frames = write_frames(tmp_path, 4)
    out = training_gif(frames, tmp_path / "training.gif", seconds_per_frame=0.5, final_pause=3)
    assert out == tmp_path / "training.gif"
    movie = iio.imread(out, index=None)
    assert movie.shape == (4, 30, 40, 3)
    assert iio.immeta(out, index=0)["loop"] == 0
    durations = [iio.immeta(out, index=k)["duration"] for k in range(4)]
    assert durations == [500, 500, 500, 1500]
    assert not list(tmp_path.glob(".tmp-*"))


def test_single_frame_gif(tmp_path: Path) -> None:
    frames = write_frames(tmp_path, 1, shape=(20, 20, 3))
    assert iio.imread(training_gif(frames, tmp_path / "one.gif"), index=None).shape == (
        1,
        20,
        20,
        3,
    )


def test_mismatched_frame_sizes_name_the_frame(tmp_path: Path) -> None:
    frames = write_frames(tmp_path, 2)
    (tmp_path / "odd").mkdir()
    odd = write_frames(tmp_path / "odd", 1, shape=(31, 40, 4))
    with pytest.raises(ConfigError, match=r"frame .*odd.*epoch_000\.png.* has shape \(31, 40, 3\)"):
        training_gif([*frames, *odd], tmp_path / "bad.gif")
    assert not (tmp_path / "bad.gif").exists()
    assert not list(tmp_path.glob(".tmp-*"))


def test_empty_frame_list(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="at least one frame"):
        training_gif([], tmp_path / "empty.gif")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("seconds", "pause"), [(0.0, 3), (0.5, 0)])
def test_bad_timing(tmp_path: Path, seconds: float, pause: int) -> None:
    frames = write_frames(tmp_path, 2)
    with pytest.raises(ConfigError, match="seconds_per_frame > 0 and final_pause >= 1"):
        training_gif(frames, tmp_path / "t.gif", seconds_per_frame=seconds, final_pause=pause)


class _FramePath:
    """A path-like that is neither ``str`` nor ``pathlib.Path`` (e.g. a remote-mount wrapper)."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def __fspath__(self) -> str:
        return str(self._path)


def test_frames_given_as_any_path_like(tmp_path: Path) -> None:
    # the signature promises os.PathLike; imageio only understands str and pathlib.Path
    frames = [_FramePath(path) for path in write_frames(tmp_path, 2)]
    movie = iio.imread(training_gif(frames, tmp_path / "pathlike.gif"), index=None)
    assert movie.shape == (2, 30, 40, 3)
