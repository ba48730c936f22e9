"""Shower-simulation speed against the random-number floor, and flat memory when streaming.

1. Speed (one core): 100 GeV positrons in the 2018 CE-E (``tb2018``), simulated down to
   digitised cells, against drawing only the random numbers the same crossings ("spots")
   need: three float32 uniforms per crossing (radius, azimuth, Landau deposit), the
   strict floor.  Goal: at most 3x the floor.  The looser floor of GFlash's own spot loop,
   four float64 uniforms per spot, is printed too.
2. Memory: ``simulate_to_file`` streams 10^5 and then 10^6 showers (1 GeV, so that a million
   fit in minutes) into an HDF5 file, each in a fresh process; the peak resident memory of
   the two runs is compared.

With ``--json PATH`` the measured numbers are also written to PATH (``hgcal-ae docs`` makes
the benchmark table of docs/benchmarks.md from it).

Usage: python benchmarks/bench_simulation.py [--showers 1000] [--skip-memory] [--json PATH]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core, before numpy is imported
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

from hgcal_ae.simulation.digitisation import digitise
from hgcal_ae.simulation.run import shower_model
from hgcal_ae.simulation.showers import BeamConfig, simulate_deposits

BATCH = 200
GOAL_RATIO = 3.0  # at most 3x the random-number floor


def speed(n_showers: int) -> dict[str, float]:
    model = shower_model("tb2018")
    _ = model.locator  # built once per set-up, not part of the per-shower cost
    beam = BeamConfig(energy_gev=100.0)
    rng = np.random.default_rng(1)
    simulate_deposits(beam, 20, model, rng)  # warm caches
    sim_s, floor_s, gflash_floor_s, spots, hits = 0.0, 0.0, 0.0, 0, 0
    for _ in range(n_showers // BATCH):
        t0 = time.perf_counter()
        deposits = simulate_deposits(beam, BATCH, model, rng)
        batch = digitise(deposits, model, rng, pdg=beam.pdg)
        t1 = time.perf_counter()
        rng.random(3 * deposits.n_crossings, dtype=np.float32)
        t2 = time.perf_counter()
        rng.random(4 * deposits.n_crossings)
        t3 = time.perf_counter()
        sim_s += t1 - t0
        floor_s += t2 - t1
        gflash_floor_s += t3 - t2
        spots += deposits.n_crossings
        hits += batch.n_hits
    n = (n_showers // BATCH) * BATCH
    print(
        f"speed: {n} showers of 100 GeV e+, {spots / n:.0f} silicon crossings and {hits / n:.0f} hits per shower"
    )
    print(f"  simulation + digitisation: {sim_s:.2f} s = {n / sim_s:.0f} showers/s on one core")
    print(f"  floor (3 float32 uniforms per crossing): {floor_s:.3f} s")
    print(f"  ratio {sim_s / floor_s:.1f}x the floor (goal <= {GOAL_RATIO:g}x)")
    print(f"  (against GFlash's 4 float64 uniforms per spot -- core/tail, radius, azimuth, deposit: "
          f"{gflash_floor_s:.3f} s, ratio {sim_s / gflash_floor_s:.1f}x)")  # fmt: skip
    return {
        "showers": n, "energy_gev": beam.energy_gev, "crossings_per_shower": spots / n,
        "hits_per_shower": hits / n, "showers_per_s": n / sim_s, "ratio_to_floor": sim_s / floor_s,
        "ratio_to_gflash_floor": sim_s / gflash_floor_s, "goal_ratio": GOAL_RATIO,
    }  # fmt: skip


def memory_child(n_events: int, path: str) -> None:
    from hgcal_ae.simulation.run import simulate_to_file

    t0 = time.perf_counter()
    summary = simulate_to_file(path, BeamConfig(energy_gev=1.0), n_events, noise_mip=0.0)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{n_events} {summary['n_hits']} {peak_mb:.1f} {time.perf_counter() - t0:.1f} {os.path.getsize(path) / 1e6:.0f}"
    )


def memory() -> dict[str, object]:
    print("memory: streaming 1 GeV e+ showers (noise off) into HDF5, a fresh process per run")
    peaks, runs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (100_000, 1_000_000):
            out = subprocess.run(
                [sys.executable, __file__, "--memory-child", str(n), os.path.join(tmp, f"ev{n}.h5")],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            n_events, n_hits, peak, secs, size = out.stdout.split()
            peaks.append(float(peak))
            runs.append({"events": int(n_events), "hits": int(n_hits), "file_mb": float(size),
                         "seconds": float(secs), "peak_rss_mb": float(peak)})  # fmt: skip
            print(
                f"  {int(n_events):>9,} events, {int(n_hits):>11,} hits, {size:>5} MB file, {secs:>6} s: peak RSS {peak} MB"
            )
    print(f"  peak memory ratio 10^6 / 10^5 events: {peaks[1] / peaks[0]:.2f} (flat = 1)")
    return {"runs": runs, "ratio": peaks[1] / peaks[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--showers", type=int, default=1000)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--json", default=None, help="also write the measured numbers to this file")
    parser.add_argument("--memory-child", nargs=2, metavar=("N", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(int(args.memory_child[0]), args.memory_child[1])
        return
    result: dict[str, object] = {"speed": speed(args.showers)}
    if not args.skip_memory:
        result["memory"] = memory()
    if args.json:
        from hgcal_ae import __version__
        from hgcal_ae.atomic import write_json

        write_json(args.json, {"benchmark": "simulation", "hgcal_ae_version": __version__,
                               "cpu_count": os.cpu_count(), **result})  # fmt: skip


if __name__ == "__main__":
    main()
