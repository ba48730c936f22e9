"""law's local workflow against the plain luigi run: the smoke study, timed both ways in one run.

Both runs start from the same trigger-cell file (made once, copied into each output folder)
and then train the grid, evaluate and write the report: ``hgcal-ae study --preset smoke``
and the same with ``--workflow local`` (the grid as law's local workflow, then the rest).
The runs alternate (plain, law, law, plain, ... for ``--repeat``), so slow drifts of a
shared machine hit both alike.  Prints the wall times and the ratio law / plain (goal:
at most 1.05, i.e. 5 % overhead).

Usage: python benchmarks/bench_law.py [--repeat 1] [--json PATH]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hgcal_ae import __version__
from hgcal_ae.atomic import write_json

GOAL = 1.05


def _study(out: Path, *extra: str) -> float:
    cmd = [sys.executable, "-m", "hgcal_ae.cli", "study", "--preset", "smoke", "--quiet",
           "--output-dir", str(out), *extra]  # fmt: skip
    t0 = time.perf_counter()
    subprocess.run(
        cmd, check=True, stdout=subprocess.DEVNULL, env={**os.environ, "OMP_NUM_THREADS": "1"}
    )
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="pairs of runs (default 1)")
    parser.add_argument("--json", default=None, help="also write the measured numbers to this file")
    args = parser.parse_args()
    times: dict[str, list[float]] = {"plain": [], "law": []}
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-law-") as tmp:
        data = Path(tmp, "data")
        # the trigger cells once: from a first run's data step (the study's first task)
        subprocess.run([sys.executable, "-m", "luigi", "--module", "hgcal_ae.workflows.study",
                        "TriggerCellData", "--preset", "smoke", "--output-dir", str(data),
                        "--local-scheduler", "--log-level", "WARNING"], check=True)  # fmt: skip
        cells = data / "study" / "smoke" / "trigger_cells.h5"
        # pairs in turn: (plain, law), (law, plain), ...
        order = [k for p in range(args.repeat) for k in (("plain", "law"), ("law", "plain"))[p % 2]]
        for i, kind in enumerate(order):
            out = Path(tmp, f"{kind}{i}")
            (out / "study" / "smoke").mkdir(parents=True)
            shutil.copy2(cells, out / "study" / "smoke" / "trigger_cells.h5")
            extra = ("--workflow", "local") if kind == "law" else ()
            times[kind].append(_study(out, *extra))
            print(f"{kind:5s} run {len(times[kind])}: {times[kind][-1]:.1f} s", flush=True)
    plain, law = sum(times["plain"]), sum(times["law"])
    ratio = law / plain
    print(f"smoke study, grid + evaluation + report: plain luigi {plain:.1f} s, law local workflow "
          f"{law:.1f} s -> law / plain = {ratio:.3f} (goal <= {GOAL}: {'met' if ratio <= GOAL else 'MISSED'})")  # fmt: skip
    if args.json:
        write_json(args.json, {"benchmark": "law", "hgcal_ae_version": __version__,
                               "cpu_count": os.cpu_count(), "seconds": times, "ratio": ratio,
                               "load_average": [load_before, os.getloadavg()[0]],
                               "goal": GOAL, "met": ratio <= GOAL})  # fmt: skip


if __name__ == "__main__":
    main()
