"""Progress lines: one per task start and end, counting up to the tasks the run has to do."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from hgcal_ae.workflows.study import TriggerCellData

WORKFLOW = Path(__file__).with_name("steps_workflow.py")
LINE = re.compile(r"^\[(\d+)/(\d+)\] (start|done) (\w+)\((.*)\)(?: in (\d+\.\d) s)?$")


def _run(out: Path, *args: str) -> list[str]:
    cmd = [sys.executable, str(WORKFLOW), "--output-dir", str(out), *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stderr.splitlines()


def test_lines_count_up_to_the_total_and_name_the_tasks(tmp_path):
    lines = _run(tmp_path, "--steps", "3", "--seconds", "0.5", "--workers", "2")
    parsed = [LINE.match(line) for line in lines]
    assert all(parsed), lines
    starts = [m for m in parsed if m[3] == "start"]
    dones = [m for m in parsed if m[3] == "done"]
    assert {int(m[2]) for m in parsed} == {4}  # 3 steps and the summary
    assert [int(m[1]) for m in dones] == [1, 2, 3, 4]
    assert len(starts) == 4 and all(int(m[1]) < 4 for m in starts)
    steps = sorted(m[5] for m in dones if m[4] == "SlowStep")
    assert steps == ["step=0, seconds=0.5", "step=1, seconds=0.5", "step=2, seconds=0.5"]
    assert dones[-1][4] == "AllSteps" and dones[-1][5] == "steps=3, seconds=0.5"
    assert all(float(m[6]) >= 0.5 for m in dones if m[4] == "SlowStep")
    assert not any(str(tmp_path) in line for line in lines)  # output_dir is left out


def test_total_counts_only_what_is_left_to_do(tmp_path):
    _run(tmp_path, "--steps", "3")
    assert _run(tmp_path, "--steps", "3") == []  # all complete: nothing starts
    (tmp_path / "steps" / "step_1.txt").unlink()
    lines = _run(tmp_path, "--steps", "3")
    assert [line.split(" in ")[0] for line in lines if " done " in line] == [
        "[1/2] done SlowStep(step=1)",
        "[2/2] done AllSteps(steps=3)",
    ]


def test_quiet_prints_nothing(tmp_path):
    assert _run(tmp_path, "--steps", "2", "--quiet") == []
    assert (tmp_path / "steps" / "all.txt").read_text() == "step 0\nstep 1\n"


def test_report_outside_a_worker_is_a_no_op(tmp_path):
    # luigi gives a task its progress callbacks only inside a worker; a task whose run() is
    # called by hand (a notebook, a debugger) must not fail on its first progress report
    task = TriggerCellData(output_dir=str(tmp_path))  # any task: HgcalTask itself is abstract (law)
    task.report(0.5, "half way")
    assert list(tmp_path.iterdir()) == []
