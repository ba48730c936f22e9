"""Probe of the conditional decoder (issue 9 item 3): the 16x3-bit module AE with and without
the ECON_CAE conditions (|eta|, layer, wafer type, ln of the module sum) under ``pu200``.

The default preset's showers with the ``pu200`` occupancy (simulated first if ``--data`` is
not given), the preset's split, training settings (telescope loss, its epochs, batch, learning
rate) and evaluation at 2 e-links (module sum transmitted, the preset's zero suppression);
the encoder is the same in both, only the decoder gets the conditions.  For each seed it
prints the mean EMD [cm] on the test modules of the plain and the conditional AE, and Best
Choice's at 2 e-links on the same modules, then the mean and spread over seeds; ``--json PATH``
writes them.  About 2 minutes per seed and model on 2 idle cores.

Usage: python benchmarks/probe_conditional_ae.py [--data trigger_cells.h5] [--seeds 0,1,2]
       [--models plain,conditional] [--epochs N] [--json PATH]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--models", default="plain,conditional", help="which of the two to train")
    parser.add_argument("--epochs", type=int, default=None, help="default: the preset's")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    import numpy as np
    import torch

    from hgcal_ae.datasets.splits import split_rows
    from hgcal_ae.datasets.trigger_cells import read_trigger_cells
    from hgcal_ae.detector.setups import detector_setup
    from hgcal_ae.detector.trigger_cells import tc_coords
    from hgcal_ae.metrics.module_quality import module_quality, summarise
    from hgcal_ae.models.module_ae import CONDITIONS
    from hgcal_ae.models.module_training import autoencoder_output, train_module_autoencoder
    from hgcal_ae.study.occupancy_pu200 import row_conditions
    from hgcal_ae.study.presets import study_preset
    from hgcal_ae.study.showers import make_trigger_dataset
    from hgcal_ae.trigger.baselines import best_choice

    torch.set_num_threads(args.threads)
    preset = study_preset("default")
    path = args.data
    if path is None:
        path = Path(tempfile.mkdtemp()) / "trigger_cells.h5"
        make_trigger_dataset(preset.dataset_config("pu200"), path)
    rows, meta = read_trigger_cells(path)
    if meta.get("config", {}).get("occupancy") != "pu200":
        print(f"{path}: not a pu200 data set", file=sys.stderr)
        return 2
    setup = detector_setup(preset.geometry)
    dataset = meta["config"]
    conditions = row_conditions(rows, setup, eta_range=tuple(dataset.get("eta_range", (1.5, 3.0))),
                                seed=dataset["seed"])  # fmt: skip
    train, val, test = split_rows(rows.event, preset.split, seed=preset.seed)
    tc = np.asarray(rows.tc, dtype=np.float64)
    coords = tc_coords(setup.lattice.name)
    lsb, zs, n_elinks = preset.tc_lsb_mip, preset.ae_zero_suppress_mip, 2

    def mean_emd(reconstructed: Any) -> float:
        per_module = module_quality(tc[test], reconstructed, coords, occupancy_threshold=1.0)
        return float(summarise(per_module["emd"])["mean"])

    def pick(index: Any) -> dict[str, Any]:
        return {k: v[index] for k, v in conditions.items()}

    results: dict[str, Any] = {
        "data": str(path), "n_test_modules": len(test), "n_elinks": n_elinks,
        "best_choice_emd_cm": mean_emd(best_choice(tc[test], n_elinks, lsb=lsb).reconstructed),
        "runs": [],
    }  # fmt: skip
    print(
        f"{len(test)} test modules; Best Choice at 2 e-links: {results['best_choice_emd_cm']:.4f} cm"
    )
    for seed in (int(s) for s in args.seeds.split(",")):
        run: dict[str, Any] = {"seed": seed}
        for name, names in (("plain", ()), ("conditional", tuple(CONDITIONS))):
            if name not in args.models.split(","):
                continue
            config = dataclasses.replace(preset.training_config(16, 3), seed=seed, conditions=names)
            if args.epochs:
                config = dataclasses.replace(config, epochs=args.epochs)
            cond = {"train_conditions": pick(train), "val_conditions": pick(val)} if names else {}
            t0 = time.perf_counter()
            model, _ = train_module_autoencoder(config, tc[train], tc[val], **cond)
            out = autoencoder_output(model, tc[test], n_elinks, lsb=lsb, zero_suppress=zs,
                                     conditions=pick(test) if names else None)  # fmt: skip
            run[f"{name}_emd_cm"] = mean_emd(out.reconstructed)
            run[f"{name}_seconds"] = time.perf_counter() - t0
            print(f"seed {seed} {name:>11}: mean EMD {run[f'{name}_emd_cm']:.4f} cm "
                  f"({run[f'{name}_seconds']:.0f} s)", flush=True)  # fmt: skip
        results["runs"].append(run)
    for name in args.models.split(","):
        values = np.array([r[f"{name}_emd_cm"] for r in results["runs"]])
        results[name] = {
            "mean_cm": float(values.mean()),
            "std_cm": float(values.std(ddof=1)) if len(values) > 1 else None,
        }
        print(
            f"{name:>11}: {values.mean():.4f} ± {results[name]['std_cm'] or 0:.4f} cm over {len(values)} seeds"
        )
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
