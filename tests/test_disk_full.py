"""A full disk, for real: small tmpfs mounts (root only), the CLI in real processes.

Every writer must say "no space left on device" naming the file, exit 1 from the CLI with
one line, and leave nothing behind (neither the file nor a temporary one) — never crash.
Writing HDF5 onto a full disk used to end in a segmentation fault (exit 139, nothing on
stderr): see :mod:`hgcal_ae.datasets.hdf5_writer`.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from hgcal_ae.atomic import atomic_path, write_json
from hgcal_ae.errors import OutputError
from hgcal_ae.models.training import save_torch

HGCAL_AE = Path(sys.executable).with_name("hgcal-ae")

Mount = Callable[[int], Path]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Mount]:
    """``small_disk(kib)`` mounts a fresh tmpfs of ``kib`` KiB and returns it; unmounted after."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mounted: list[Path] = []

    def mount(kib: int) -> Path:
        point = tmp_path / f"disk{len(mounted)}"
        point.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={kib}k,mode=0755", "tmpfs", str(point)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounted.append(point)
        return point

    try:
        yield mount
    finally:
        for point in reversed(mounted):
            if subprocess.run(["umount", str(point)], check=False).returncode != 0:
                gc.collect()  # a file object of a failed test, still open, keeps it busy
                if subprocess.run(["umount", str(point)], check=False).returncode != 0:
                    subprocess.run(["umount", "--lazy", str(point)], check=True)


def _free_bytes(folder: Path) -> int:
    stats = os.statvfs(folder)
    return stats.f_bavail * stats.f_frsize


def _fill(disk: Path, leave: int) -> None:
    """Fill ``disk`` up to ``leave`` free bytes with a real file."""
    with (disk / "filler").open("wb") as fh:
        fh.write(b"\1" * max(0, _free_bytes(disk) - leave))


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def _assert_one_line(done: subprocess.CompletedProcess[str], name: str) -> str:
    """Exit 1 and one error line, the last (progress lines of the run may come before it)."""
    assert done.returncode == 1, (done.returncode, done.stderr[-2000:])
    lines = done.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("hgcal-ae: error: ")]
    assert errors == lines[-1:], done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert name in errors[0] and "no space left on device" in errors[0], errors[0]
    return errors[0]


def test_simulate_on_a_full_disk_says_so_and_leaves_nothing(small_disk: Mount) -> None:
    disk = small_disk(256)  # 100 showers of 100 GeV take about 560 kB
    argv = ["simulate", "--energies", "100", "--events", "100", "--geometry", "tb2018"]
    done = subprocess.run(
        [str(HGCAL_AE), *argv, "--output-dir", str(disk / "out")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    _assert_one_line(done, "events.h5")
    assert not [name for name in _files(disk) if name.endswith(".h5") or ".tmp-" in name]


def test_study_on_a_full_disk_says_so_and_leaves_nothing(small_disk: Mount) -> None:
    """The study's trigger-cell writer (hdf5_output): one line naming the file, no file left."""
    disk = small_disk(96)  # the smoke preset's trigger-cell file alone takes about 300 kB
    argv = ["study", "--preset", "smoke", "--quiet", "--output-dir", str(disk / "out")]
    done = subprocess.run([str(HGCAL_AE), *argv], capture_output=True, text=True, timeout=300,
                          check=False)  # fmt: skip
    _assert_one_line(done, "trigger_cells.h5")
    assert not [name for name in _files(disk) if name.endswith(".h5") or ".tmp-" in name]


# Runs in its own process, so that a crash is a failed assertion here, not a dead test run.
# It streams events into an EventWriter on a disk left with `leave` free bytes, in batches
# small enough to stay in HDF5's chunk cache (the disk fills when the file is closed) or
# large enough to fill it while appending, and reports what happened as JSON.
_WRITER_SCRIPT = """
import json, os, sys
import numpy as np
from hgcal_ae.datasets.event_batch import EventBatch
from hgcal_ae.datasets.events import EventWriter
from hgcal_ae.errors import OutputError

disk, leave, n_events = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(5)
def free():
    s = os.statvfs(disk)
    return s.f_bavail * s.f_frsize
with open(os.path.join(disk, "filler"), "wb") as fh:
    fh.write(b"1" * max(0, free() - leave))
before = free()
counts = rng.poisson(200, n_events)
n = int(counts.sum())
batch = EventBatch.from_counts(counts, event_id=np.arange(n_events),
    true_energy_gev=rng.uniform(10, 300, n_events), layer=rng.integers(1, 29, n),
    x_cm=rng.normal(0, 3, n), y_cm=rng.normal(0, 3, n), z_cm=rng.uniform(0, 30, n),
    energy_mip=rng.exponential(5, n))
result = {"error": None}
try:
    with EventWriter(os.path.join(disk, "out", "events.h5"), {"test": True}) as writer:
        for _ in range(4):
            writer.append(batch)
except OutputError as exc:
    result["error"] = str(exc)
result["left"] = sorted(os.listdir(os.path.join(disk, "out")))
result["freed"] = free() == before
print(json.dumps(result))
"""


@pytest.mark.parametrize(
    ("leave", "n_events"),
    [(0, 20), (4096, 20), (64 * 1024, 20), (64 * 1024, 2000), (512 * 1024, 2000)],
    ids=["full-small", "4k-small", "64k-small-fails-at-close", "64k-large", "512k-large"],
)
def test_event_writer_on_a_full_disk(small_disk: Mount, leave: int, n_events: int) -> None:
    disk = small_disk(2048)
    done = subprocess.run(
        [sys.executable, "-c", _WRITER_SCRIPT, str(disk), str(leave), str(n_events)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, (done.returncode, done.stderr[-3000:])
    assert done.stderr == ""
    result = json.loads(done.stdout)
    assert result["error"] is not None, "the file fitted; the test needs a fuller disk"
    assert result["error"].startswith("no space left on device writing '")
    assert repr(str(disk / "out" / "events.h5")) in result["error"]
    assert result["left"] == []
    assert result["freed"], "the temporary file still holds disk space (left open?)"


def test_atomic_json_on_a_full_disk(small_disk: Mount) -> None:
    disk = small_disk(64)
    payload = {"values": list(range(100_000))}  # about 1 MB of JSON
    with pytest.raises(OutputError, match=r"no space left on device writing '.*summary\.json'"):
        write_json(disk / "out" / "summary.json", payload)
    assert _files(disk) == []


def test_checkpoint_on_a_full_disk(small_disk: Mount) -> None:
    disk = small_disk(64)
    state = {"weights": torch.zeros(100_000)}  # 400 kB
    with pytest.raises(OutputError, match=r"no space left on device writing '.*checkpoint\.pt'"):
        save_torch(disk / "checkpoint.pt", state)
    assert _files(disk) == []


def test_torch_save_to_a_path_on_a_full_disk(small_disk: Mount) -> None:
    """torch writing by itself raises a RuntimeError without errno: judged by free space."""
    disk = small_disk(64)
    with (
        pytest.raises(OutputError, match=r"no space left on device writing '.*model\.pt'"),
        atomic_path(disk / "model.pt") as tmp,
    ):
        torch.save({"weights": torch.zeros(100_000)}, tmp)
    assert _files(disk) == []


def test_other_errors_on_a_full_disk_are_not_disk_full(small_disk: Mount) -> None:
    """An error that is not a write failure is not reported as a full disk."""
    disk = small_disk(64)
    _fill(disk, 0)
    with pytest.raises(ValueError, match="not a disk problem"), atomic_path(disk / "x.json"):
        raise ValueError("not a disk problem")
    assert _files(disk) == ["filler"]


def test_mnist_training_on_a_full_disk(small_disk: Mount, mnist_cache: Path) -> None:
    disk = small_disk(256)  # the epoch checkpoint of this run is about 400 kB
    argv = ["mnist", "--latent-dim", "4", "--epochs", "1", "--limit", "200"]
    done = subprocess.run(
        [str(HGCAL_AE), *argv, "--output-dir", str(disk / "out")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "HGCAL_AE_CACHE": str(mnist_cache.parent), "HGCAL_AE_OFFLINE": "1"},
    )
    _assert_one_line(done, "checkpoint.pt")
    assert not [name for name in _files(disk) if name.endswith(".pt") or ".tmp-" in name]


def test_hdf5_array_too_big_for_the_disk_leaves_no_space_used(small_disk: Mount) -> None:
    """The HDF5 writer in-process: the error, nothing left, and the space given back."""
    from hgcal_ae.datasets.hdf5 import DatasetSpec, FileSchema
    from hgcal_ae.datasets.hdf5_writer import append, create_datasets, hdf5_output

    disk = small_disk(256)
    schema = FileSchema(
        "test/rows", 1, "test file", (DatasetSpec("rows/tc", np.float32, "rows", shape=(48,)),)
    )
    before = _free_bytes(disk)
    rng = np.random.default_rng(1)
    with (
        pytest.raises(OutputError, match=r"no space left on device writing '.*rows\.h5'"),
        hdf5_output(disk / "rows.h5", schema, {}) as h5,
    ):
        tc = create_datasets(h5, schema)["rows/tc"]
        # 30 chunks of 786 kB: more than HDF5 keeps in its chunk cache (8 MiB), so chunks are
        # written, the disk fills, and append() stops the loop.
        for _ in range(30):
            append(tc, rng.normal(size=(4096, 48)).astype(np.float32))
        pytest.fail("append() should stop at the batch that filled the disk")
    assert _files(disk) == []
    assert _free_bytes(disk) == before
