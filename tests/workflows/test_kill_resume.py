"""A real kill: SIGKILL the command mid-training, rerun it, and get the uninterrupted result."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch

ARGS = ["mnist", "--arch", "dense", "--latent-dim", "4", "--epochs", "8", "--limit", "4000"]


def _cmd(out: Path) -> list[str]:
    return [sys.executable, "-m", "hgcal_ae.cli", *ARGS, "--output-dir", str(out)]


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1"}


def test_killed_run_resumes_at_last_finished_epoch(tmp_path, mnist_cache):
    killed = tmp_path / "killed"
    run_dir = killed / "mnist" / "dense_latent4_bce_seed0_e8_n4000"
    proc = subprocess.Popen(
        _cmd(killed), env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 120
    epoch = 0
    while time.time() < deadline and proc.poll() is None:
        checkpoint = run_dir / "checkpoint.pt"
        if checkpoint.exists():
            epoch = torch.load(checkpoint, weights_only=False)["epoch"]
            if epoch >= 2:
                proc.send_signal(signal.SIGKILL)
                break
        time.sleep(0.02)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    # nothing that looks complete was left behind
    assert not (run_dir / "model.pt").exists() and not (run_dir / "summary.json").exists()

    done = subprocess.run(
        _cmd(killed), env=_env(), capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    assert 2 <= summary["resumed_from_epoch"] < 8
    assert [h["epoch"] for h in summary["history"]] == list(range(1, 9))

    straight = tmp_path / "straight"
    done = subprocess.run(
        _cmd(straight), env=_env(), capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    ref_dir = straight / "mnist" / run_dir.name
    a = torch.load(run_dir / "model.pt", weights_only=False)
    b = torch.load(ref_dir / "model.pt", weights_only=False)
    assert a["resumed_from"] >= 2 and b["resumed_from"] == 0
    for key, tensor in b["state_dict"].items():
        assert torch.equal(a["state_dict"][key], tensor), key
    assert [h["val_loss"] for h in a["history"]] == [h["val_loss"] for h in b["history"]]
