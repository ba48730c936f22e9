"""Reruns never lie: a task whose upstream must run again runs again in the same build.

Three real tasks, ChainStart -> ChainMiddle -> ChainEnd, each writing through
``local_target``; runs are counted from ``task_runs.jsonl``.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from pathlib import Path

import luigi
import pytest

from hgcal_ae.workflows.base import TASK_RUN_LOG, HgcalTask


class ChainStart(HgcalTask):
    def output(self):
        return self.local_target("chain", "start.json")

    def run(self):
        with self.output().open("w") as fh:
            json.dump({"value": f"{time.time_ns()}-{os.getpid()}"}, fh)


class ChainMiddle(HgcalTask):
    def requires(self):
        return self.clone(ChainStart)

    def output(self):
        return self.local_target("chain", "middle.json")

    def run(self):
        value = json.loads(Path(self.input().path).read_text(encoding="utf-8"))["value"]
        with self.output().open("w") as fh:
            json.dump({"from_start": value}, fh)


class ChainEnd(HgcalTask):
    def requires(self):
        return self.clone(ChainMiddle)

    def output(self):
        return self.local_target("chain", "end.txt")

    def run(self):
        value = json.loads(Path(self.input().path).read_text(encoding="utf-8"))["from_start"]
        with self.output().open("w") as fh:
            fh.write(f"built from {value}\n")


def _build(out, workers=1):
    assert luigi.build(
        [ChainEnd(output_dir=str(out))],
        workers=workers,
        local_scheduler=True,
        log_level="CRITICAL",
    )


def _runs(out):
    log = out / TASK_RUN_LOG
    lines = log.read_text().splitlines() if log.exists() else []
    return Counter(json.loads(line)["task_id"].split("_")[0] for line in lines)


def _start_value(out):
    return json.loads((out / "chain" / "start.json").read_text())["value"]


def _break(path, how):
    if how == "delete":
        path.unlink()
    else:  # cut in half: the file is there but not whole
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("how", ["delete", "truncate"])
def test_downstream_reruns_in_the_same_build(tmp_path, workers, how):
    _build(tmp_path, workers)
    assert _runs(tmp_path) == {"ChainStart": 1, "ChainMiddle": 1, "ChainEnd": 1}
    first = _start_value(tmp_path)
    _break(tmp_path / "chain" / "start.json", how)
    _build(tmp_path, workers)  # once
    assert _runs(tmp_path) == {"ChainStart": 2, "ChainMiddle": 2, "ChainEnd": 2}
    second = _start_value(tmp_path)
    assert second != first
    assert (tmp_path / "chain" / "end.txt").read_text() == f"built from {second}\n"


def test_nothing_reruns_when_everything_is_complete(tmp_path):
    _build(tmp_path)
    before = (tmp_path / TASK_RUN_LOG).read_text()
    _build(tmp_path)
    _build(tmp_path, workers=2)
    assert (tmp_path / TASK_RUN_LOG).read_text() == before


def test_a_newer_input_alone_reruns_nothing(tmp_path):
    """law's rule: a whole output is this configuration's result, whatever the file times
    (a file rewritten by hand upstream does not rebuild the chain below it)."""
    _build(tmp_path)
    middle = tmp_path / "chain" / "middle.json"
    later = (tmp_path / "chain" / "end.txt").stat().st_mtime_ns + 1_000_000_000
    os.utime(middle, ns=(later, later))
    _build(tmp_path)
    assert _runs(tmp_path) == {"ChainStart": 1, "ChainMiddle": 1, "ChainEnd": 1}


def test_completeness_is_not_remembered_between_calls(tmp_path):
    _build(tmp_path)
    end = ChainEnd(output_dir=str(tmp_path))
    assert end.complete()
    _break(tmp_path / "chain" / "start.json", "truncate")
    assert not end.complete()
    assert not ChainMiddle(output_dir=str(tmp_path)).complete()
