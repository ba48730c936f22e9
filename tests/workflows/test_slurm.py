"""The AE grid on a real Slurm: munged, slurmctld and slurmd started on localhost.

``make test-slurm`` runs these (marker ``slurm``; not in ``make test``).  It installs
Debian's ``slurm-wlm`` and ``munge`` when it runs as root; elsewhere the tests skip with
the reason.  The daemons run from a configuration generated in a temporary folder, on free
loopback ports, and are stopped after the module.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hgcal_ae.workflows.study import StudyReport

SMOKE_DIR = StudyReport(preset="smoke", output_dir="").study_dir  # study/smoke/<config id>

pytestmark = pytest.mark.slurm

DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "sinfo", "scancel")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _slurm_conf(root: Path, host: str) -> str:
    return "\n".join([
        "ClusterName=hgcalae",
        f"SlurmctldHost={host}(127.0.0.1)",
        f"SlurmctldPort={_free_port()}",
        f"SlurmdPort={_free_port()}",
        "SlurmUser=root",
        "AuthType=auth/munge",
        "CredType=cred/munge",
        f"AuthInfo=socket={root}/run/munge.sock",
        f"StateSaveLocation={root}/state",
        f"SlurmdSpoolDir={root}/spool",
        f"SlurmctldPidFile={root}/run/slurmctld.pid",
        f"SlurmdPidFile={root}/run/slurmd.pid",
        f"SlurmctldLogFile={root}/log/slurmctld.log",
        f"SlurmdLogFile={root}/log/slurmd.log",
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "JobAcctGatherType=jobacct_gather/none",
        "AccountingStorageType=accounting_storage/none",  # law reads squeue (see law.cfg)
        "JobCompType=jobcomp/none",
        "SchedulerType=sched/builtin",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_Core",
        "MpiDefault=none",
        "ReturnToService=2",
        "MinJobAge=600",
        "KillWait=5",
        f"NodeName={host} NodeAddr=127.0.0.1 CPUs={os.cpu_count() or 1} State=UNKNOWN",
        f"PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP",
        "",
    ])  # fmt: skip


def _stop(pid_file: Path) -> None:
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.time() + 15
    while time.time() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def slurm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A one-node Slurm on localhost; the environment that points its clients at it."""
    missing = [name for name in DAEMONS + CLIENTS if shutil.which(name) is None
               and not Path("/usr/sbin", name).exists()]  # fmt: skip
    if missing:
        pytest.skip(f"Slurm is not installed here (missing {', '.join(missing)}); "
                    "`make test-slurm` installs slurm-wlm and munge when run as root")  # fmt: skip
    if os.geteuid() != 0:
        pytest.skip("slurmd and munged need root to start; run `make test-slurm` as root")
    # A short folder: the munge socket path must stay below the 108 characters of sun_path.
    root = Path(tmp_path_factory.mktemp("slurm", numbered=True))
    for sub in ("run", "state", "spool", "log"):
        (root / sub).mkdir(mode=0o755)
    key = root / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    conf = root / "slurm.conf"
    conf.write_text(_slurm_conf(root, socket.gethostname().split(".")[0]))
    env = {**os.environ, "SLURM_CONF": str(conf)}
    sbin = "/usr/sbin"
    try:
        subprocess.run([shutil.which("munged") or f"{sbin}/munged", "--force",
                        f"--key-file={key}", f"--socket={root}/run/munge.sock",
                        f"--pid-file={root}/run/munged.pid", f"--log-file={root}/log/munged.log",
                        f"--seed-file={root}/run/munge.seed"], check=True, env=env)  # fmt: skip
        for daemon in ("slurmctld", "slurmd"):
            subprocess.run([shutil.which(daemon) or f"{sbin}/{daemon}", "-f", str(conf)],
                           check=True, env=env)  # fmt: skip
        deadline = time.time() + 60
        state = ""
        while time.time() < deadline:
            state = subprocess.run(["sinfo", "--noheader", "--format=%T"], env=env,
                                   capture_output=True, text=True, check=False).stdout.strip()  # fmt: skip
            if state == "idle":
                break
            time.sleep(0.5)
        assert state == "idle", f"the Slurm node did not come up (state {state!r}); see {root}/log"
        yield {"SLURM_CONF": str(conf)}
    finally:
        for name in ("slurmd", "slurmctld", "munged"):
            _stop(root / "run" / f"{name}.pid")


def _records(out: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (out / "task_runs.jsonl").read_text().splitlines()]


def _law_jobs(out: Path) -> dict[str, dict[str, object]]:
    jobs: dict[str, dict[str, object]] = {}
    for record in (out / SMOKE_DIR / "jobs" / "slurm").glob("slurm_jobs_*.json"):
        jobs.update(json.loads(record.read_text())["jobs"])
    return jobs


def test_the_smoke_grid_runs_as_slurm_jobs_and_gives_the_local_numbers(
    slurm: dict[str, str],
    smoke_runs: object,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    run_cli: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    for name, value in slurm.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "out"
    run = run_cli(out, "study", "--preset", "smoke", "--workers", "2",
                  "--workflow", "slurm", "--poll-interval", "1")  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]

    records = _records(out)
    branches = [
        r for r in records if str(r["task_id"]).startswith("TrainGrid_") and "slurm_job_id" in r
    ]
    jobs = _law_jobs(out)
    grid_size = 4  # the smoke preset: latent dims (4, 16) x bits (3, 5)
    # every branch once, each in the Slurm job law submitted for it
    assert len(branches) == grid_size
    assert len({r["task_id"] for r in branches}) == grid_size
    # Slurm itself knows these jobs: completed, under the names law gave them
    ids = ",".join(str(r["slurm_job_id"]) for r in branches)
    listing = subprocess.run(
        ["squeue", "--states=all", "--noheader", "--Format=JobID:12,State:12,Name:80", f"--jobs={ids}"],
        capture_output=True, text=True, env={**os.environ, **slurm}, check=True,
    ).stdout.split()  # fmt: skip
    states = dict(zip(listing[0::3], listing[1::3], strict=True))
    names = listing[2::3]
    assert sorted(states) == sorted(str(r["slurm_job_id"]) for r in branches)
    assert set(states.values()) == {"COMPLETED"}
    assert all(name.startswith("TrainGrid") for name in names)
    # law's record: every job finished (law then keeps no job id: Slurm's are above)
    assert len(jobs) == grid_size
    assert all(job["status"] == "finished" for job in jobs.values())
    # nothing trained again outside the jobs
    assert not [r for r in records if str(r["task_id"]).startswith("TrainModuleAE_")]

    local = json.loads((smoke_runs.study_report / "summary.json").read_text())  # type: ignore[attr-defined]
    batch = json.loads((out / SMOKE_DIR / "report" / "summary.json").read_text())
    assert len(batch["rows"]) == len(local["rows"])
    for ours, theirs in zip(batch["rows"], local["rows"], strict=True):
        assert ours["label"] == theirs["label"] and ours["setting"] == theirs["setting"]
        numbers = [k for k, v in theirs.items() if isinstance(v, float)]
        assert "emd_mean_cm" in numbers
        for key in numbers:
            assert ours[key] == pytest.approx(theirs[key], rel=1e-6, abs=1e-9), (ours["label"], key)


def test_a_failing_job_is_retried_then_named_with_its_log(
    slurm: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    run_cli: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    for name, value in slurm.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "out"
    # A file where the 16x5 model's folder must go: that branch fails on the node every time.
    blocked = out / SMOKE_DIR / "autoencoders" / "latent16_bits5"
    blocked.parent.mkdir(parents=True)
    blocked.write_text("not a folder\n")
    run = run_cli(out, "study", "--preset", "smoke", "--workflow", "slurm",
                  "--poll-interval", "1", "--retries", "1")  # fmt: skip
    assert run.returncode == 1
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("hgcal-ae: error: slurm job ")
    assert "failed 2 time(s)" in last  # the first submission and one retry
    log = Path(last.split("its log: ")[1].split(" (law's record")[0])
    assert log.is_file() and "latent16_bits5" in log.read_text(errors="replace")
    jobs = _law_jobs(out)
    failed = [job for job in jobs.values() if job["status"] == "failed"]
    assert len(failed) == 1 and f"slurm job {failed[0]['job_id']} " in last
    # the report was not made
    assert not (out / SMOKE_DIR / "report" / "summary.json").exists()


def test_a_killed_submitter_is_rerun_without_submitting_the_grid_again(
    slurm: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    env = {**os.environ, **slurm, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "hgcal_ae.cli", "study", "--preset", "smoke", "--workflow",
           "slurm", "--poll-interval", "1", "--output-dir", str(out)]  # fmt: skip
    first = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)  # fmt: skip
    record = out / SMOKE_DIR / "jobs" / "slurm"
    deadline = time.time() + 600
    while not list(record.glob("slurm_jobs_*.json")) and first.poll() is None:
        assert time.time() < deadline, "law wrote no submission record in 10 minutes"
        time.sleep(0.5)
    os.killpg(first.pid, signal.SIGKILL)  # the submitter dies; its jobs stay with Slurm
    first.wait()
    submitted = {str(job["job_id"]) for job in _law_jobs(out).values()}
    assert len(submitted) == 4

    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1200, check=False)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    branches = [r for r in _records(out) if "slurm_job_id" in r]
    # every grid point trained once, by the jobs the killed run submitted
    assert len(branches) == 4 and len({r["task_id"] for r in branches}) == 4
    assert {str(r["slurm_job_id"]) for r in branches} == submitted
    assert (out / SMOKE_DIR / "report" / "summary.json").is_file()
