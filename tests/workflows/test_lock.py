"""Runs that share an output folder run each task once.

With the embedded scheduler, one run at a time: a second run waits, then finds the work
done.  Under a luigid, no lock: the workers split the work and wait for each other.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from hgcal_ae.workflows.base import TASK_RUN_LOG
from hgcal_ae.workflows.runner import LOCK_FILE

WORKFLOW = Path(__file__).with_name("steps_workflow.py")


def _start(
    out: Path, *args: str, env: dict[str, str] | None = None, quiet: bool = True
) -> subprocess.Popen[str]:
    cmd = [sys.executable, str(WORKFLOW), "--output-dir", str(out), *args]
    cmd += ["--quiet"] if quiet else []
    env = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_holder(out: Path, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    """Until the lock file names ``proc`` (it holds the lock and is about to build)."""
    lock = out / LOCK_FILE
    deadline = time.time() + timeout
    while time.time() < deadline:
        if lock.exists() and lock.read_text().split()[:1] == [str(proc.pid)]:
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    pytest.fail(f"{lock} never named pid {proc.pid}")


def _runs(out: Path) -> Counter[str]:
    lines = (out / TASK_RUN_LOG).read_text().splitlines()
    return Counter(json.loads(line)["task_id"] for line in lines)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_second_run_waits_and_nothing_runs_twice(tmp_path, workers):
    out = tmp_path / "out"
    args = ("--steps", "2", "--seconds", "1", "--workers", workers)
    first = _start(out, *args)
    _wait_for_holder(out, first)
    second = _start(out, *args)
    (_, err1), (_, err2) = first.communicate(timeout=120), second.communicate(timeout=120)
    assert first.returncode == 0, err1
    assert second.returncode == 0, err2
    runs = _runs(out)
    assert len(runs) == 3 and set(runs.values()) == {1}, runs
    assert err2.strip().splitlines() == [
        f"hgcal-ae: {out.resolve() / LOCK_FILE} is held by another run "
        f"(pid {first.pid} on {socket.gethostname()}); this run waits for it to finish"
    ]
    assert "held by another run" not in err1


def test_the_lock_goes_with_a_killed_run(tmp_path):
    out = tmp_path / "out"
    killed = _start(out, "--steps", "1", "--seconds", "300")
    _wait_for_holder(out, killed)
    killed.send_signal(signal.SIGKILL)
    killed.communicate(timeout=30)
    after = _start(out, "--steps", "1", "--seconds", "0")
    _, err = after.communicate(timeout=60)
    assert after.returncode == 0, err
    assert "held by another run" not in err
    assert len(_runs(out)) == 2  # the step and the summary, by the second run


def test_no_lock_under_a_central_scheduler(tmp_path, luigid):
    """luigid gives each task to one worker and machines share the folder: no lock."""
    out = tmp_path / "out"
    run = _start(out, "--scheduler-host", "127.0.0.1", "--scheduler-port", str(luigid))
    _, err = run.communicate(timeout=60)
    assert run.returncode == 0, err
    assert len(_runs(out)) == 3
    assert not (out / LOCK_FILE).exists()


def test_a_worker_waits_for_the_task_another_worker_runs(tmp_path, luigid):
    """The first worker runs the step, then the slow summary; the second, with nothing left
    to start, stops early and must wait for the summary instead of reporting a failure."""
    out = tmp_path / "out"
    config = tmp_path / "luigi.cfg"  # poll the scheduler often: the second stops early
    config.write_text("[worker]\nwait_interval = 0.2\nwait_jitter = 0\n", encoding="utf-8")
    args = ("--steps", "1", "--seconds", "2", "--final-seconds", "4",
            "--scheduler-host", "127.0.0.1", "--scheduler-port", str(luigid))  # fmt: skip
    env = {"LUIGI_CONFIG_PATH": str(config)}
    first = _start(out, *args, env=env, quiet=False)
    assert "start SlowStep" in first.stderr.readline()  # the step is running
    second = _start(out, *args, env=env, quiet=False)
    (_, err1), (_, err2) = first.communicate(timeout=120), second.communicate(timeout=120)
    assert first.returncode == 0, err1
    assert second.returncode == 0, err2
    runs = _runs(out)
    assert len(runs) == 2 and set(runs.values()) == {1}, runs
