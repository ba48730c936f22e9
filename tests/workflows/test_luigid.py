"""Scale-out: a real luigid on loopback, two worker processes, every task run exactly once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

HGCAL_AE = [sys.executable, "-m", "hgcal_ae.cli"]


def test_two_workers_share_a_scan_and_run_each_task_once(luigid, tmp_path, mnist_cache):
    out = tmp_path / "out"
    args = [
        "mnist-scan", "--latent-dims", "2,4,8", "--arch", "dense", "--epochs", "1", "--limit", "500",
        "--output-dir", str(out), "--scheduler-host", "127.0.0.1", "--scheduler-port", str(luigid),
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    workers = [
        subprocess.Popen(
            [*HGCAL_AE, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    results = [w.communicate(timeout=300) for w in workers]
    for w, (_stdout, stderr) in zip(workers, results, strict=True):
        assert w.returncode == 0, stderr[-2000:]

    runs = [json.loads(line) for line in (out / "task_runs.jsonl").read_text().splitlines()]
    counts = Counter(r["task_id"] for r in runs)
    assert counts and max(counts.values()) == 1, counts  # nothing ran twice
    families = Counter(task_id.split("_")[0] for task_id in counts)
    # 3 latent dims x (train, grids, cost, gif, latent, summary) + the scan itself
    assert families == Counter({"TrainAutoencoder": 3, "ReconstructionGrids": 3, "CostCurve": 3,
                                "TrainingAnimation": 3, "LatentSpace": 3, "MnistExample": 3, "LatentScan": 1})  # fmt: skip
    pids = {r["pid"] for r in runs}
    assert pids <= {w.pid for w in workers}
    scan = json.loads(next(out.glob("mnist/scan_*/summary.json")).read_text())
    assert {row["latent_dim"] for row in scan["table"]} == {2, 4, 8}
