"""The ``full`` preset's study end to end, timed part by part (issue 10): what it costs here.

Runs ``hgcal-ae study --preset P --epochs E --grid-chunk C`` in ``--output-dir`` (default
``$OUTPUT_DIR``): the preset's showers, its whole AE grid (the ``full`` preset: 63 AEs on
483,324 training modules) trained together in chunks of C AEs for E epochs instead of the
preset's, the evaluation on every test module and the report.  Each part's seconds come from
the run's own ``task_runs.jsonl``: the trigger cells, each training chunk, the evaluation
and the report (a part done before, by an earlier run in the same folder, keeps that run's
record, and ``this_run`` says so; with no record its seconds are null).  The training is then projected to the preset's epochs: an epoch costs what the
one before it cost (each is a pass over the same modules plus the validation loss), so the
training seconds scale by ``preset epochs / E``; the other parts run once.  The AEs of this run
are trained E epochs, so its report's quality numbers are not the preset's: only its costs are.

Usage: python benchmarks/probe_full_preset.py [--preset full] [--epochs 1] [--grid-chunk 63]
                                              [--output-dir DIR] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def _seconds(log: Path, task_ids: list[str]) -> list[float | None]:
    """Each task's seconds in ``task_runs.jsonl`` (its last record; None if it has none)."""
    found: dict[str, float] = {}
    if log.is_file():
        for line in log.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            found[record["task_id"]] = float(record["seconds"])
    return [found.get(i) for i in task_ids]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="full")
    parser.add_argument("--epochs", type=int, default=1, help="training epochs of this run")
    parser.add_argument("--grid-chunk", type=int, default=0,
                        help="AEs trained together per chunk (default 0: the whole grid)")  # fmt: skip
    parser.add_argument("--output-dir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    from hgcal_ae import __version__
    from hgcal_ae.atomic import write_json
    from hgcal_ae.datasets.splits import split_rows
    from hgcal_ae.datasets.trigger_cells import read_trigger_cells
    from hgcal_ae.study.presets import study_preset
    from hgcal_ae.workflows.base import TASK_RUN_LOG, default_output_dir
    from hgcal_ae.workflows.grid import TrainGrid
    from hgcal_ae.workflows.study import EvaluateCompression, StudyReport, TriggerCellData

    preset = study_preset(args.preset)
    if args.epochs < 1:
        print(f"probe_full_preset: --epochs must be >= 1, got {args.epochs}", file=sys.stderr)
        return 2
    chunk = args.grid_chunk or len(preset.ae_grid())
    out = (args.output_dir or Path(default_output_dir())).resolve()
    common = {"output_dir": str(out), "preset": preset.name, "train_epochs": args.epochs}
    data = TriggerCellData(output_dir=str(out), preset=preset.name)
    chunks = TrainGrid(**common, grid_chunk=chunk).points()
    evaluate, report = EvaluateCompression(**common), StudyReport(**common)
    # a part done before this run (e.g. by an earlier, stopped one) keeps its logged seconds
    before = {t.task_id: t.complete() for t in (data, *chunks, evaluate, report)}
    command = ["hgcal-ae", "study", "--preset", preset.name, "--epochs", str(args.epochs),
               "--grid-chunk", str(chunk), "--output-dir", str(out)]  # fmt: skip
    load_start = os.getloadavg()[0]
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "hgcal_ae.cli", *command[1:]], check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        print(f"probe_full_preset: the study failed (exit {done.returncode})", file=sys.stderr)
        return 1
    load_end = os.getloadavg()[0]

    log = out / TASK_RUN_LOG
    (data_s,) = _seconds(log, [data.task_id])
    chunk_s = _seconds(log, [c.task_id for c in chunks])
    evaluate_s, report_s = _seconds(log, [evaluate.task_id, report.task_id])
    if None in chunk_s or evaluate_s is None or report_s is None:
        print(f"probe_full_preset: {log} lacks a record of this run's tasks", file=sys.stderr)
        return 1
    training = float(sum(s for s in chunk_s if s is not None))
    summary_path = Path(report.output()["summary.json"].path)
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    rows, _ = read_trigger_cells(data.output().path)
    train, val, _ = split_rows(rows.event, preset.split, seed=preset.seed)
    projected_training = training * preset.epochs / args.epochs
    once = (data_s or 0.0) + evaluate_s + report_s
    result: dict[str, Any] = {
        "probe": "full_preset", "hgcal_ae_version": __version__, "preset": preset.name,
        "command": " ".join(command[:-2]), "epochs": args.epochs, "preset_epochs": preset.epochs,
        "n_autoencoders": len(preset.ae_grid()), "grid_chunk": chunk, "n_chunks": len(chunks),
        "n_train_modules": int(train.size), "n_val_modules": int(val.size),
        "n_test_modules": summary["n_test_modules"], "cpu_count": os.cpu_count(),
        "load_average_start": load_start, "load_average_end": load_end,
        "wall_seconds": wall,
        "parts": [
            {"part": "showers and trigger cells", "seconds": data_s,
             "this_run": not before[data.task_id]},
            {"part": f"training, {args.epochs} epoch(s), {len(chunks)} chunk(s)",
             "seconds": training, "this_run": not any(before[c.task_id] for c in chunks)},
            {"part": "evaluation of every algorithm on the test modules", "seconds": evaluate_s,
             "this_run": not before[evaluate.task_id]},
            {"part": "report: tables, figures, summary", "seconds": report_s,
             "this_run": not before[report.task_id]},
        ],
        "seconds_per_epoch": training / args.epochs,
        "projected": {"epochs": preset.epochs, "training_seconds": projected_training,
                      "total_seconds": projected_training + once,
                      "core_hours": (projected_training + once) * (os.cpu_count() or 1) / 3600},
        "report": str(summary_path),
    }  # fmt: skip
    print(f"{preset.name}: {result['n_autoencoders']} AEs, {result['n_train_modules']:,} training "
          f"modules, {len(chunks)} chunk(s); run of {args.epochs} epoch(s): {wall:.0f} s")  # fmt: skip
    for part in result["parts"]:
        seconds = "–" if part["seconds"] is None else f"{part['seconds']:.0f} s"
        print(f"  {part['part']}: {seconds}")
    print(f"  projected to {preset.epochs} epochs: training {projected_training / 3600:.1f} h, "
          f"all {result['projected']['total_seconds'] / 3600:.1f} h on {os.cpu_count()} cores")  # fmt: skip
    if args.json is not None:
        write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
