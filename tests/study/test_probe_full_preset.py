"""benchmarks/probe_full_preset.py on the smoke preset's showers (copied from the session's
smoke study): a real run at reduced epochs, its parts' seconds from the run's task log, the
projection to the preset's epochs, and the docs block rendered from its JSON."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hgcal_ae.study.pages import RunSource, find_blocks, plan_pages

ROOT = Path(__file__).resolve().parents[2]


def test_the_probe_times_every_part_and_projects_the_training(
    tmp_path: Path, smoke_runs: Any
) -> None:
    out = tmp_path / "out"
    data = smoke_runs.study / "trigger_cells.h5"
    target = out / data.relative_to(smoke_runs.out)
    target.parent.mkdir(parents=True)
    shutil.copy2(data, target)
    json_path = out / "benchmarks" / "full_preset.json"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "probe_full_preset.py"), "--preset",
           "smoke", "--epochs", "1", "--output-dir", str(out), "--json", str(json_path)]  # fmt: skip
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    s = json.loads(json_path.read_text())
    assert (s["preset"], s["epochs"], s["preset_epochs"]) == ("smoke", 1, 3)
    assert s["n_autoencoders"] == 4 and s["grid_chunk"] == 4 and s["n_chunks"] == 1
    data_part, training, evaluation, report = s["parts"]
    assert data_part["seconds"] is None and not data_part["this_run"]  # copied, not made
    # the parts are the run's own task records
    records = [json.loads(line) for line in (out / "task_runs.jsonl").read_text().splitlines()]
    chunk = [r for r in records if r["task_id"].startswith("TrainModuleAEChunk_")]
    assert len(chunk) == 1 and training["seconds"] == pytest.approx(chunk[0]["seconds"])
    for part, name in ((evaluation, "EvaluateCompression_"), (report, "StudyReport_")):
        (record,) = [r for r in records if r["task_id"].startswith(name)]
        assert part["seconds"] == pytest.approx(record["seconds"])
    assert s["projected"]["training_seconds"] == pytest.approx(3 * training["seconds"])
    assert s["projected"]["total_seconds"] == pytest.approx(
        3 * training["seconds"] + evaluation["seconds"] + report["seconds"]
    )
    summary = json.loads(Path(s["report"]).read_text())
    assert summary["preset"]["epochs"] == 1 and s["n_test_modules"] == summary["n_test_modules"]
    assert "training, 1 epoch(s), 1 chunk(s)" in done.stdout

    (tmp_path / "docs" / "images").mkdir(parents=True)
    page = tmp_path / "docs" / "study.md"
    page.write_text(
        "# s\n\n<!-- begin generated: study-full-cost -->\n<!-- end generated: study-full-cost -->\n"
    )
    source = RunSource(json_path, "benchmarks/full_preset.json", "probe")
    plan = plan_pages([page], {"full_cost": source}, tmp_path / "docs" / "images", tmp_path)
    new = plan.pages[page][1]
    ((_, start, end),) = find_blocks(new, "docs/study.md")
    body = new[start:end]
    assert "| showers and trigger cells | – | – | there before this run, not timed |" in body
    projected = s["projected"]["training_seconds"]
    assert f"| training projected to 3 epochs | {projected:,.0f} | {projected / 60:,.1f} |" in body
    assert "`hgcal-ae study --preset smoke --epochs 1 --grid-chunk 4`" in body
    assert "4 AEs in 1 chunk(s)" in body
