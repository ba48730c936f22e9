"""Shared fixtures: a private data cache, no network, and one smoke run of the studies."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

# Set before the package is imported anywhere: the cache location and offline mode are read at
# call time, but luigi parameters take OUTPUT_DIR as their default at import time.
_SESSION_CACHE = Path(tempfile.mkdtemp(prefix="hgcal-ae-test-cache-"))
os.environ["HGCAL_AE_CACHE"] = str(_SESSION_CACHE)
os.environ["HGCAL_AE_OFFLINE"] = "1"
os.environ.pop("MNIST_DIR", None)
os.environ["OUTPUT_DIR"] = str(_SESSION_CACHE / "default-output")


@pytest.fixture(scope="session")
def mnist_cache() -> Path:
    """The verified MNIST cache, built once per session from the installed registry copy."""
    from hgcal_ae.datasets.mnist import prepare_cache

    return prepare_cache("mnist")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261127)


@dataclass(frozen=True)
class SmokeRuns:
    """``hgcal-ae study`` and ``hgcal-ae merging`` with the smoke preset, as a user runs them."""

    out: Path  # the output folder of both (do not change it: copy it first)
    study_stdout: str
    merging_stdout: str

    @property
    def study(self) -> Path:
        """``study/smoke/<config id>``: the smoke study's run folder."""
        from hgcal_ae.workflows.study import StudyReport

        return StudyReport(preset="smoke", output_dir=str(self.out)).study_dir

    @property
    def merging(self) -> Path:
        """``merging/smoke/<config id>``: the smoke merging study's run folder."""
        return self.out / "merging" / "smoke" / self.study.name

    @property
    def study_report(self) -> Path:
        return self.study / "report"


def _run_cli(out: Path, *args: str, timeout: int = 1200) -> subprocess.CompletedProcess[str]:
    """``python -m hgcal_ae.cli ARGS --output-dir OUT`` in a subprocess (two forked workers
    must not inherit a torch or numba thread pool: OMP_NUM_THREADS=1)."""
    cmd = [sys.executable, "-m", "hgcal_ae.cli", *args, "--output-dir", str(out)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})  # fmt: skip


@pytest.fixture(scope="session")
def smoke_runs(tmp_path_factory: pytest.TempPathFactory) -> SmokeRuns:
    """One smoke study and merging study per session, shared by the tests that read them."""
    out = tmp_path_factory.mktemp("smoke-runs")
    study = _run_cli(out, "study", "--preset", "smoke", "--workers", "2")
    assert study.returncode == 0, study.stderr[-3000:]
    merging = _run_cli(out, "merging", "--preset", "smoke", "--workers", "2")
    assert merging.returncode == 0, merging.stderr[-3000:]
    return SmokeRuns(out, study.stdout, merging.stdout)


@pytest.fixture(scope="session")
def run_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``run_cli(out, *args)``: the CLI in a subprocess, writing to ``out``."""
    return _run_cli


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def luigid(tmp_path: Path) -> Iterator[int]:
    """A real luigid on loopback, stopped after the test; its port."""
    port = _free_port()
    (tmp_path / "luigid-log").mkdir()
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("luigid")), "--address", "127.0.0.1",
         "--port", str(port), "--logdir", str(tmp_path / "luigid-log"),
         "--state-path", str(tmp_path / "luigid.pickle")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.time() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                pytest.fail("luigid did not start")
            time.sleep(0.1)
    yield port
    proc.terminate()
    proc.wait(timeout=10)
