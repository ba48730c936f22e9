"""Validate the shower simulation against the issue's targets, with real statistics.

Runs ``hgcal-ae validate-simulation`` (all ten 2018 beam energies, 5000 positrons each by
default) and checks the fitted numbers in its summary.json against the targets:

* stochastic term S between 18 and 26 %·√GeV, constant term C at most 1.5 %;
* response linear within 1 % (largest relative residual of the linear fit);
* shower maximum rising with ln E with a slope of 0.8–1.2 X0;
* 90 % transverse containment radius between 1.5 and 4 cm at every energy.

Nothing in the simulation is tuned to these targets (see the README, "Simulation model").
Usage: python validation/validate_simulation.py [--events 5000] [--output-dir output] [--workers 2]
Exit status 0 when every target is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--output-dir", default="output")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--geometry", default="tb2018")
    args = parser.parse_args()
    cmd = [sys.executable, "-m", "hgcal_ae.cli", "validate-simulation", "--events", str(args.events),
           "--output-dir", args.output_dir, "--workers", str(args.workers), "--geometry", args.geometry]  # fmt: skip
    subprocess.run(cmd, check=True)
    run = Path(args.output_dir) / "validation" / args.geometry / f"e+_n{args.events}_seed0"
    summary = json.loads((run / "summary.json").read_text())

    res = summary["resolution_fit"]
    s, s_err = 100 * res["values"]["S"], 100 * res["errors"]["S"]
    c, c_err = 100 * res["values"]["C"], 100 * res["errors"]["C"]
    lin = 100 * summary["max_abs_linearity_residual"]
    slope = summary["shower_max_fit"]["values"]["slope"]
    slope_err = summary["shower_max_fit"]["errors"]["slope"]
    r90 = [p["r90_mean_cm"] for p in summary["points"]]
    checks = [
        ("stochastic term S [%·√GeV]", f"{s:.1f} ± {s_err:.1f}", 18 <= s <= 26, "18–26"),
        ("constant term C [%]", f"{c:.2f} ± {c_err:.2f}", c <= 1.5, "≤ 1.5"),
        ("linearity, max |residual| [%]", f"{lin:.2f}", lin <= 1.0, "≤ 1"),
        (
            "t_max slope vs ln E [X0]",
            f"{slope:.3f} ± {slope_err:.3f}",
            0.8 <= slope <= 1.2,
            "0.8–1.2",
        ),
        (
            "90 % containment radius [cm]",
            f"{min(r90):.2f}–{max(r90):.2f}",
            all(1.5 <= r <= 4 for r in r90),
            "1.5–4",
        ),
    ]
    print(f"\nvalidation of {args.events} e+ per energy ({args.geometry}), {run}")
    for name, value, ok, target in checks:
        print(f"  {'PASS' if ok else 'MISS'}  {name:32s} {value:>16s}   target {target}")
    return 0 if all(ok for *_, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
