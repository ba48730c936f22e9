"""Validate the shower simulation against the issue's targets, with real statistics.

Runs ``hgcal-ae validate-simulation`` (all ten 2018 beam energies, 5000 positrons each by
default) and checks the fitted numbers in its summary.json against the targets of
:data:`hgcal_ae.metrics.validation.VALIDATION_TARGETS` (S, C, linearity, the shower-maximum
slope against ln E, the 90 % containment radius).

Nothing in the simulation is tuned to these targets (see docs/simulation.md).
Usage: python validation/validate_simulation.py [--events 5000] [--output-dir $OUTPUT_DIR or output] [--workers 2]
Exit status 0 when every target is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from hgcal_ae.metrics.validation import VALIDATION_TARGETS, check_targets, target_values


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--output-dir", default=os.environ.get("OUTPUT_DIR") or "output")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--geometry", default="tb2018")
    args = parser.parse_args()
    cmd = [sys.executable, "-m", "hgcal_ae.cli", "validate-simulation", "--events", str(args.events),
           "--output-dir", args.output_dir, "--workers", str(args.workers), "--geometry", args.geometry]  # fmt: skip
    subprocess.run(cmd, check=True)
    run = Path(args.output_dir) / "validation" / args.geometry / f"e+_n{args.events}_seed0"
    summary = json.loads((run / "summary.json").read_text())

    values = target_values(summary)
    met = check_targets(summary)
    print(f"\nvalidation of {args.events} e+ per energy ({args.geometry}), {run}")
    for key, target in VALIDATION_TARGETS.items():
        low, high = min(values[key]), max(values[key])
        shown = f"{low:.3f}" if low == high else f"{low:.3f}–{high:.3f}"
        print(
            f"  {'PASS' if met[key] else 'MISS'}  {target.quantity:40s} {shown:>16s}   target {target.text()}"
        )
    return 0 if all(met.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
