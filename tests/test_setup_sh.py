"""setup.sh: the original study's environment and `SetupExampleModel <NDIM>`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _bash(script: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("OUTPUT_DIR", "WORKFLOW_DIR", "ROOT_SOURCE")
    }
    full_env["PATH"] = f"{Path(sys.executable).parent}:{full_env['PATH']}"
    full_env.update(env)
    return subprocess.run(["bash", "-c", script], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=300, check=False)  # fmt: skip


def test_sourcing_sets_the_variables(tmp_path):
    done = _bash(
        f"source {REPO}/setup.sh && echo $OUTPUT_DIR && echo $WORKFLOW_DIR && echo ROOT=$ROOT_SOURCE && type -t SetupExampleModel",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines == [str(tmp_path / "output"), str(REPO), "ROOT=", "function"]


def test_existing_values_are_kept(tmp_path):
    done = _bash(
        f"source {REPO}/setup.sh && echo $OUTPUT_DIR $ROOT_SOURCE",
        tmp_path,
        OUTPUT_DIR="/data/out",
        ROOT_SOURCE="/data/ntuples",
    )
    assert done.stdout.split() == ["/data/out", "/data/ntuples"]


def test_setup_example_model_rejects_bad_ndim(tmp_path):
    done = _bash(f"source {REPO}/setup.sh && SetupExampleModel 0", tmp_path)
    assert done.returncode == 2
    assert "latent dim must be in 1..784" in done.stderr


def test_setup_example_model_runs_the_example(tmp_path, mnist_cache):
    done = _bash(
        f"source {REPO}/setup.sh && SetupExampleModel 3 --arch dense --epochs 1 --limit 300",
        tmp_path,
        OMP_NUM_THREADS="1",
    )
    assert done.returncode == 0, done.stderr
    summary = tmp_path / "output" / "mnist" / "dense_latent3_bce_seed0_e1_n300" / "summary.json"
    assert json.loads(summary.read_text())["parameters"]["latent_dim"] == 3


@pytest.mark.parametrize("ndim", [""])
def test_setup_example_model_needs_an_argument(tmp_path, ndim):
    done = _bash(f"source {REPO}/setup.sh && SetupExampleModel {ndim}", tmp_path)
    assert done.returncode == 2 and "usage: SetupExampleModel <NDIM>" in done.stderr
