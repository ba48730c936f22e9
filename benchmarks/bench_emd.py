"""Batched EMD against a Python loop of POT's ``ot.emd2`` (the Ecoder way), on realistic modules.

Cases (N modules each, seeded):

1. sparse input vs dense reconstruction, the autoencoder case: inputs with 1-8 non-zero TCs
   (exponential charges), reconstruction = input + uniform noise in [0, 0.05) on all 48 TCs;
2. sparse vs sparse, the case of the baseline algorithms (Best Choice keeps a few TCs).

For each: ``emd()`` (after a warm-up call; best of ``--repeats``), also with
``parallel=False``, against one pass of the ``ot.emd2`` loop over the same rows; prints modules
per second, the speed-up (goal: >= 20x) and the largest |difference| (goal: <= 1e-6).  The
first call compiles the numba kernels: by default into a fresh cache directory, so the compile
time printed is the cold one (``--warm-cache`` uses numba's normal cache instead).

With ``--json PATH`` the measured numbers are also written to PATH (``hgcal-ae docs`` makes
the benchmark table of docs/benchmarks.md from it).

Usage: python benchmarks/bench_emd.py [--modules 5000] [--repeats 5] [--warm-cache] [--json PATH]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

GOAL_SPEEDUP = 20.0
GOAL_DIFF = 1e-6
N_TC = 48


def _layout() -> tuple[object, str]:
    import numpy as np

    from hgcal_ae.errors import ConfigError
    from hgcal_ae.metrics.emd import default_tc_coords

    try:
        return default_tc_coords(), "ld8 trigger cells (default_tc_coords)"
    except ConfigError:
        # stand-in until hgcal_ae.trigger.cells exists: a 6 x 8 hexagonal lattice with the TC
        # pitch of Ecoder's hexCoords; the timing hardly depends on the geometry
        pitch = 2.4168015
        j, i = np.divmod(np.arange(N_TC), 8)
        xy = np.column_stack([(i + 0.5 * (j % 2)) * pitch, j * pitch * np.sqrt(3) / 2])
        return xy, "stand-in 6x8 hexagonal lattice (hgcal_ae.trigger.cells not available)"


def _sparse(rng: object, n: int, k_max: int) -> object:
    import numpy as np

    out = np.zeros((n, N_TC))
    for row in out:
        k = rng.integers(1, k_max + 1)
        row[rng.choice(N_TC, size=k, replace=False)] = rng.exponential(size=k)
    return out


def _best_of(repeats: int, fn: object) -> tuple[float, object]:
    best = float("inf")
    result = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warm-cache", action="store_true", help="keep numba's normal cache")
    parser.add_argument("--json", default=None, help="also write the measured numbers to this file")
    args = parser.parse_args()
    if not args.warm_cache:  # before numba is imported
        os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="bench-emd-numba-")

    import numba
    import numpy as np
    import ot

    from hgcal_ae.metrics.emd import emd

    coords, layout = _layout()
    dist = ot.dist(coords, coords, metric="euclidean")
    rng = np.random.default_rng(20261127)
    n = args.modules
    inputs = _sparse(rng, n, 8)
    cases = {
        "sparse input vs dense reconstruction (AE)": (
            inputs,
            inputs + rng.uniform(0.0, 0.05, size=inputs.shape),
        ),
        "sparse vs sparse (baselines)": (inputs, _sparse(rng, n, 8)),
    }
    print(f"geometry: {layout}; {n} modules; numba threads: {numba.get_num_threads()}")

    t0 = time.perf_counter()
    emd(inputs[:2], inputs[:2] + 1.0, coords)
    t1 = time.perf_counter()
    emd(inputs[:2], inputs[:2] + 1.0, coords, parallel=False)
    t2 = time.perf_counter()
    cache = "numba cache" if args.warm_cache else "cold, fresh cache"
    first_calls = {"parallel_s": t1 - t0, "serial_s": t2 - t1}
    print(f"first calls ({cache}): parallel {t1 - t0:.2f} s, serial {t2 - t1:.2f} s")

    ok = True
    results = []
    for name, (a, b) in cases.items():
        t_emd, got = _best_of(args.repeats, lambda a=a, b=b: emd(a, b, coords))
        t_ser, got_ser = _best_of(args.repeats, lambda a=a, b=b: emd(a, b, coords, parallel=False))
        t0 = time.perf_counter()
        ref = np.array([ot.emd2(x / x.sum(), y / y.sum(), dist) for x, y in zip(a, b, strict=True)])
        t_pot = time.perf_counter() - t0
        diff = float(np.abs(got - ref).max())
        speedup = t_pot / t_emd
        same = bool(np.array_equal(got, got_ser))
        ok &= diff <= GOAL_DIFF and speedup >= GOAL_SPEEDUP and same
        print(f"\n{name}")
        print(f"  ot.emd2 loop      {t_pot:8.3f} s  {n / t_pot:10.0f} modules/s")
        print(f"  emd() parallel    {t_emd:8.4f} s  {n / t_emd:10.0f} modules/s")
        print(f"  emd() serial      {t_ser:8.4f} s  {n / t_ser:10.0f} modules/s")
        print(f"  speed-up          {speedup:8.1f}x parallel, {t_pot / t_ser:.1f}x serial")
        print(f"  max |emd - POT|   {diff:.2e}   (parallel == serial bitwise: {same})")
        results.append({
            "name": name, "pot": n / t_pot, "parallel": n / t_emd, "serial": n / t_ser,
            "speedup": speedup, "speedup_serial": t_pot / t_ser, "max_abs_diff": diff,
            "parallel_equals_serial": same,
        })  # fmt: skip
    print(f"\ngoals (>= {GOAL_SPEEDUP:.0f}x, <= {GOAL_DIFF:g}): {'met' if ok else 'NOT met'}")
    if args.json:
        from hgcal_ae import __version__
        from hgcal_ae.atomic import write_json

        write_json(args.json, {
            "benchmark": "emd", "hgcal_ae_version": __version__, "cpu_count": os.cpu_count(),
            "modules": n, "numba_threads": numba.get_num_threads(), "layout": layout,
            "cache": cache, "first_calls": first_calls, "cases": results,
            "goals": {"speedup": GOAL_SPEEDUP, "max_abs_diff": GOAL_DIFF}, "goals_met": bool(ok),
        })  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
