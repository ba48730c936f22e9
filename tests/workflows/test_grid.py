"""The AE grid as a law workflow: options, HTCondor submit files, and `law run`.

The grid on a real Slurm is in test_slurm.py (``make test-slurm``).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from luigi.task import flatten

from hgcal_ae.workflows.grid import TrainGrid, check_workflow, law_command_line
from hgcal_ae.workflows.study import StudyReport, TrainModuleAE, TriggerCellData


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("hgcal-ae: error:")]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--workflow", "pbs"], "unknown workflow 'pbs'; expected one of local, slurm, htcondor"),
        (["--workflow", "local", "--tasks-per-job", "0"], "--tasks-per-job must be >= 1, got 0"),
        (["--workflow", "local", "--retries", "-1"], "--retries must be >= 0, got -1"),
        (["--workflow", "local", "--poll-interval", "0"], "--poll-interval must be > 0 seconds"),
    ],
)
@pytest.mark.parametrize("command", ["study", "merging", "mnist-scan"])
def test_bad_batch_options_get_one_line_and_write_nothing(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
    options: list[str],
    expected: str,
) -> None:
    from hgcal_ae.cli import main

    out = tmp_path / "out"
    preset = ["--preset", "smoke"] if command != "mnist-scan" else ["--latent-dims", "2"]
    assert main([command, *preset, *options, "--output-dir", str(out)]) == 2
    stderr = capsys.readouterr().err
    assert _error_lines(stderr) == [stderr.strip().splitlines()[-1]]
    assert expected in stderr
    assert not out.exists()


def test_a_bad_grid_chunk_gets_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hgcal_ae.cli import main

    out = tmp_path / "out"
    assert main(["study", "--preset", "smoke", "--grid-chunk", "0", "--output-dir", str(out)]) == 2
    stderr = capsys.readouterr().err
    assert _error_lines(stderr) == ["hgcal-ae: error: --grid-chunk must be >= 1, got 0"]
    assert not out.exists()


def test_a_negative_epochs_gets_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hgcal_ae.cli import main

    out = tmp_path / "out"
    assert main(["study", "--preset", "smoke", "--epochs", "-2", "--output-dir", str(out)]) == 2
    stderr = capsys.readouterr().err
    assert _error_lines(stderr) == [
        "hgcal-ae: error: --epochs must be >= 0 (0: the preset's), got -2"
    ]
    assert not out.exists()


def test_slurm_where_sbatch_is_missing_is_refused_before_anything_runs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    empty = tmp_path / "bin"
    empty.mkdir()
    run = subprocess.run(
        [sys.executable, "-m", "hgcal_ae.cli", "study", "--preset", "smoke",
         "--workflow", "slurm", "--output-dir", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "PATH": str(empty)},
    )  # fmt: skip
    assert run.returncode == 2
    assert _error_lines(run.stderr) == [
        "hgcal-ae: error: --workflow slurm submits with 'sbatch', which is not on PATH; "
        "run where slurm is installed, or use --workflow local"
    ]
    assert not out.exists()
    if any(Path(p, "sbatch").exists() for p in os.environ.get("PATH", "").split(os.pathsep)):
        assert check_workflow("slurm") == "slurm"  # and where it is, the check passes


def test_the_grid_has_one_branch_per_grid_point_writing_the_study_models(tmp_path: Path) -> None:
    grid = TrainGrid(preset="smoke", output_dir=str(tmp_path), workflow="local")
    points = grid.spec().ae_grid()
    assert len(grid.get_branch_map()) == len(points)
    for branch, (dim, bits) in enumerate(points):
        task = grid.req(grid, branch=branch)
        point = TrainModuleAE(
            preset="smoke", output_dir=str(tmp_path), latent_dim=dim, latent_bits=bits
        )
        assert task.point().task_id == point.task_id == grid.get_branch_map()[branch]
        assert (
            task.output().path
            == point.output().path
            == str(grid.study_dir / "autoencoders" / f"latent{dim}_bits{bits}" / "model.pt")
        )
    # what the points need is made before any job: the workflow requires the trigger cells
    needs = [t.task_id for t in flatten(grid.workflow_requires())]
    assert needs == [TriggerCellData(preset="smoke", output_dir=str(tmp_path)).task_id]
    assert not grid.complete()


def test_htcondor_submit_files_run_law_from_this_environment(tmp_path: Path) -> None:
    """HTCondor is not installed here: the submit file law would hand to condor_submit is
    generated and read, not submitted."""
    from law.job.dashboard import NoJobDashboard

    grid = TrainGrid(preset="smoke", output_dir=str(tmp_path), workflow="htcondor", tasks_per_job=2)
    proxy = grid.workflow_proxy
    proxy.job_file_factory = proxy.create_job_file_factory()  # what law's run() sets up first
    proxy.dashboard = NoJobDashboard()
    with law_command_line("TrainGrid"):
        made = proxy.create_job_file({1: [0, 1], 2: [2, 3]})  # two jobs of two grid points
    jobs_dir = grid.study_dir / "jobs" / "htcondor"
    jdl = Path(made["job"])
    assert jdl.parent == jobs_dir / "files"
    text = jdl.read_text()
    lines = {k.strip(): v.strip() for k, _, v in (ln.partition(" = ") for ln in text.splitlines())}
    assert lines["universe"] == "vanilla"
    assert lines["getenv"] == "true"  # the venv and $OUTPUT_DIR of the submitting shell
    assert lines["initialdir"] == str(jobs_dir)
    assert lines["log"] == "condor$(law_job_postfix).log"
    assert "_0To2, _0To2" in text and "_2To4, _2To4" in text  # one queue entry per job
    wrapper = (jdl.parent / lines["executable"]).read_text()
    # each job runs law's job script for this task family with its own branches
    job_args = re.findall(r"\['(\d)'\]=\"hgcal_ae.workflows.grid TrainGrid (\S+) (\S+) ", wrapper)
    assert [(n, base64.b64decode(b).decode()) for n, _, b in job_args] == [
        ("1", "0 1"),
        ("2", "2 3"),
    ]
    params = base64.b64decode(job_args[0][1]).decode()
    assert f"--output-dir={tmp_path}" in params and "--preset=smoke" in params
    assert "--local-scheduler=True" in params
    render = json.loads(base64.b64decode(re.search(r'render_variables="([^"]+)"', wrapper)[1]))
    bindir = Path(sys.executable).parent
    assert render["law_exe"] == str(bindir / "law")
    assert render["bootstrap_command"] == f"export PATH={bindir}:$PATH"


def test_law_run_reaches_the_study_tasks(smoke_runs: object, tmp_path: Path) -> None:
    """`law run` finds the tasks by family (through `law index` and the package's law.cfg)
    and sees the smoke study complete: it runs nothing."""
    out: Path = smoke_runs.out  # type: ignore[attr-defined]
    env = {**os.environ, "LAW_HOME": str(tmp_path / "law-home")}
    law = str(Path(sys.executable).with_name("law"))
    index = subprocess.run(
        [law, "index"], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    assert index.returncode == 0, index.stderr
    before = (out / "task_runs.jsonl").read_text()
    common = ["--preset", "smoke", "--output-dir", str(out), "--local-scheduler"]
    for task in (["StudyReport"], ["TrainGrid", "--workflow", "local"]):
        run = subprocess.run(
            [law, "run", *task, *common], capture_output=True, text=True, env=env, timeout=300,
            check=False,
        )  # fmt: skip
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
        assert "complete ones were encountered" in run.stdout + run.stderr
        assert "ran successfully" not in run.stdout + run.stderr
    assert (out / "task_runs.jsonl").read_text() == before
    report = StudyReport(preset="smoke", output_dir=str(out)).output()["summary.json"]
    summary = json.loads(Path(report.path).read_text())
    assert summary["workflow"] == "study"
    shown = subprocess.run(
        [law, "run", "StudyReport", *common, "--print-output", "0"], capture_output=True,
        text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert shown.returncode == 0 and report.path in shown.stdout.splitlines(), shown.stderr[-2000:]


def test_mnist_scan_trains_its_grid_as_laws_local_workflow(
    tmp_path: Path, mnist_cache: Path, run_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    """The scan's training is a branch of TrainScanGrid, run by law's local workflow; the
    scan then finds it complete and trains nothing again."""
    out = tmp_path / "out"
    run = run_cli(out, "mnist-scan", "--latent-dims", "2", "--limit", "300", "--epochs", "1",
                  "--workflow", "local")  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    ids = [
        json.loads(line)["task_id"] for line in (out / "task_runs.jsonl").read_text().splitlines()
    ]
    # the branch and the workflow (law's workflow is a task too); no TrainAutoencoder of its own
    assert len([i for i in ids if i.startswith("TrainScanGrid_")]) == 2
    assert not [i for i in ids if i.startswith("TrainAutoencoder_")]
    summaries = list(out.glob("mnist/scan_*/summary.json"))
    assert len(summaries) == 1
    assert [r["latent_dim"] for r in json.loads(summaries[0].read_text())["table"]] == [2]


def test_merging_trains_its_border_autoencoders_as_laws_local_workflow(
    tmp_path: Path, smoke_runs: Any, run_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    """``merging --workflow local``: the border AEs are branches of MergingGrid (the study's
    module AE, complete, is not trained again); the numbers equal the plain luigi run's."""
    out = tmp_path / "out"
    shutil.copytree(smoke_runs.out / "study", out / "study")
    # --workers 2 as the session's run: one torch thread per task, the same sums in training
    run = run_cli(out, "merging", "--preset", "smoke", "--workflow", "local", "--workers", "2")
    assert run.returncode == 0, run.stderr[-3000:]
    ids = [
        json.loads(line)["task_id"] for line in (out / "task_runs.jsonl").read_text().splitlines()
    ]
    assert len([i for i in ids if i.startswith("MergingGrid_")]) == 3  # 2 branches + workflow
    assert not [i for i in ids if i.startswith(("TrainBorderAE_", "TrainModuleAE_"))]
    merging = out / "merging" / "smoke" / smoke_runs.study.name
    ours = json.loads((merging / "neighbours.json").read_text())
    theirs = json.loads((smoke_runs.merging / "neighbours.json").read_text())
    assert ours["rows"] == theirs["rows"]
    assert sorted(p.parent.name for p in merging.glob("border_autoencoders/*/model.pt")) == [
        "shuffled_border", "with_neighbours"
    ]  # fmt: skip


def test_the_study_grid_trained_in_chunks_gives_the_plain_runs_numbers(
    tmp_path: Path, smoke_runs: Any, run_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    """``study --grid-chunk 4``: the smoke grid's four AEs as one vectorised model (one task),
    written where the evaluation finds them; the report equals the plain run's within float
    tolerance (the stacked model sums in another order)."""
    out = tmp_path / "out"
    data = smoke_runs.study / "trigger_cells.h5"
    target = out / data.relative_to(smoke_runs.out)
    target.parent.mkdir(parents=True)
    shutil.copy2(data, target)
    run = run_cli(out, "study", "--preset", "smoke", "--grid-chunk", "4")
    assert run.returncode == 0, run.stderr[-3000:]
    ids = [
        json.loads(line)["task_id"] for line in (out / "task_runs.jsonl").read_text().splitlines()
    ]
    assert len([i for i in ids if i.startswith("TrainModuleAEChunk_")]) == 1
    assert not [i for i in ids if i.startswith(("TrainModuleAE_", "TriggerCellData_"))]
    ours = json.loads(
        (out / smoke_runs.study_report.relative_to(smoke_runs.out) / "summary.json").read_text()
    )
    theirs = json.loads((smoke_runs.study_report / "summary.json").read_text())
    for a, b in zip(ours["rows"], theirs["rows"], strict=True):
        assert (a["label"], a["setting"]) == (b["label"], b["setting"])
        assert a["emd_mean_cm"] == pytest.approx(b["emd_mean_cm"], rel=1e-3), a["label"]
    assert not list(out.glob("study/smoke/*/autoencoders/*/checkpoint.pt"))


def test_the_study_with_other_epochs_is_another_configuration_on_the_same_showers(
    tmp_path: Path, smoke_runs: Any, run_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    """``study --epochs 1``: another config folder beside the plain run's, the same showers
    (read, not simulated again), every AE trained one epoch."""
    out = tmp_path / "out"
    data = smoke_runs.study / "trigger_cells.h5"
    target = out / data.relative_to(smoke_runs.out)
    target.parent.mkdir(parents=True)
    shutil.copy2(data, target)
    run = run_cli(out, "study", "--preset", "smoke", "--epochs", "1", "--grid-chunk", "4")
    assert run.returncode == 0, run.stderr[-3000:]
    (summary_path,) = out.glob("study/smoke/*/report/summary.json")
    assert summary_path.parent.parent.name != smoke_runs.study.name  # another config id
    summary = json.loads(summary_path.read_text())
    assert summary["preset"]["epochs"] == 1
    ids = [
        json.loads(line)["task_id"] for line in (out / "task_runs.jsonl").read_text().splitlines()
    ]
    assert not [i for i in ids if i.startswith("TriggerCellData_")]
    models = list(summary_path.parent.parent.glob("autoencoders/*/model.pt"))
    assert len(models) == 4
    for model in models:
        assert len(torch.load(model, weights_only=False)["history"]) == 1
