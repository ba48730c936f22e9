"""Atomic outputs: permissions that follow the umask, nothing half-written, disk-full detection.

The disk-full cases on a real full disk are in ``test_disk_full.py``; here the detection's
reading of exception chains is checked with the exceptions libraries actually raise.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import h5py
import numpy as np
import pytest

from hgcal_ae.atomic import atomic_path, disk_full, write_csv, write_json


@pytest.fixture
def umask() -> Iterator[None]:
    """Restore the process's umask after a test that sets it."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(
    ("mask", "expected"),
    [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600), (0o000, 0o666)],
    ids=["umask-022", "umask-002", "umask-077", "umask-000"],
)
@pytest.mark.usefixtures("umask")
def test_outputs_follow_the_umask(tmp_path: Path, mask: int, expected: int) -> None:
    os.umask(mask)
    json_file = write_json(tmp_path / "summary.json", {"a": 1})
    csv_file = write_csv(tmp_path / "table.csv", [{"a": 1}])
    with atomic_path(tmp_path / "data.h5") as tmp, h5py.File(tmp, "w") as h5:
        h5["x"] = np.arange(3)
    assert _mode(json_file) == expected
    assert _mode(csv_file) == expected
    assert _mode(tmp_path / "data.h5") == expected


def test_temporary_file_keeps_the_suffix_and_is_gone_after(tmp_path: Path) -> None:
    with atomic_path(tmp_path / "plot.png") as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".png"
        assert tmp.name.startswith(".tmp-plot.png-")
        tmp.write_bytes(b"png")
    with atomic_path(tmp_path / "movie.gif", suffix=".tmp.gif") as tmp:
        assert tmp.name.endswith(".tmp.gif")
        tmp.write_bytes(b"gif")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["movie.gif", "plot.png"]


def test_error_in_the_block_leaves_nothing_and_propagates(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="bad value"), atomic_path(tmp_path / "x.json") as tmp:
        tmp.write_text("{half")
        raise ValueError("bad value")
    assert list(tmp_path.iterdir()) == []


def _raised(error: BaseException, wrapper: type[Exception] | None, how: str) -> BaseException:
    """``error``, or a ``wrapper`` raised from it (``how``: 'cause' or 'context')."""
    if wrapper is None:
        return error
    try:
        try:
            raise error
        except BaseException as inner:
            if how == "cause":
                raise wrapper(
                    "[enforce fail at inline_container.cc:672] . unexpected pos"
                ) from inner
            raise wrapper("[enforce fail at inline_container.cc:672] . unexpected pos")  # noqa: B904
    except wrapper as outer:
        return outer
    raise AssertionError


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
@pytest.mark.parametrize(
    ("wrapper", "how"), [(None, ""), (RuntimeError, "cause"), (RuntimeError, "context")]
)
def test_disk_full_finds_the_errno_in_the_chain(
    tmp_path: Path, code: int, wrapper: type[Exception] | None, how: str
) -> None:
    error = OSError(code, os.strerror(code))
    assert disk_full(_raised(error, wrapper, how), tmp_path)


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.EACCES, "Permission denied"),
        ValueError("bad"),
        RuntimeError("unexpected pos"),  # no errno, and this folder has free space
        OSError("Driver write request failed"),  # h5py without errno, free space here
    ],
)
def test_other_errors_are_not_disk_full(tmp_path: Path, error: BaseException) -> None:
    assert not disk_full(error, tmp_path)
