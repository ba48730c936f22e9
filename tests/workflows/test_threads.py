"""Each task process gets cores // workers torch threads, whichever task instance luigi runs."""

from __future__ import annotations

import os

import luigi
import pytest

from hgcal_ae.workflows.base import THREADS_ENV, HgcalTask
from hgcal_ae.workflows.runner import run_tasks


class ReportThreads(HgcalTask):
    name = luigi.Parameter()

    def output(self) -> luigi.LocalTarget:
        return self.local_target(f"{self.name}.txt")

    def run(self) -> None:
        import torch

        with self.output().open("w") as fh:
            fh.write(f"{torch.get_num_threads()} {os.getpid()}")


@pytest.mark.parametrize("workers", [1, 2])
def test_task_processes_share_the_cores(tmp_path, workers, monkeypatch):
    import torch

    monkeypatch.delenv(THREADS_ENV, raising=False)
    before = torch.get_num_threads()
    tasks = [ReportThreads(output_dir=str(tmp_path), name=f"t{i}") for i in range(2)]
    try:
        run_tasks(tasks, workers=workers)
    finally:
        torch.set_num_threads(before)
    found = [(tmp_path / f"t{i}.txt").read_text().split() for i in range(2)]
    expected = max(1, (os.cpu_count() or 1) // workers)
    assert [int(n) for n, _ in found] == [expected, expected]
    if workers > 1:  # really ran in other processes
        assert all(int(pid) != os.getpid() for _, pid in found)
    assert THREADS_ENV not in os.environ


def test_the_users_thread_count_wins(tmp_path, monkeypatch):
    import torch

    monkeypatch.setenv(THREADS_ENV, "3")
    before = torch.get_num_threads()
    try:
        run_tasks([ReportThreads(output_dir=str(tmp_path), name="mine")], workers=2)
    finally:
        torch.set_num_threads(before)
    assert (tmp_path / "mine.txt").read_text().split()[0] == "3"
    assert os.environ[THREADS_ENV] == "3"
