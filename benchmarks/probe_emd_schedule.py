"""Schedule probe of the exact-EMD training loss (issue 9): which schedule trains the AE best.

The default preset's showers (signal occupancy, simulated first if ``--data`` is not given),
the 16x3-bit AE with the softmax head, batch 128; test modules of the preset's split.  Runs:
telescope 15 epochs (lr 3e-3); from it, 9 more epochs of the telescope loss (control) or of
the exact EMD (lr 3e-4 and 1e-3); a blend telescope + EMD from scratch (24 epochs); the EMD
from scratch (15 epochs).  Prints, per run, the mean shape EMD of the decoder output (no zero
suppression) and the study's EMD (module sum transmitted, 0.1 zero suppression) [cm], and
the seconds per epoch; ``--json PATH`` writes them.  About 15 minutes on 2 idle cores.

Usage: python benchmarks/probe_emd_schedule.py [--data trigger_cells.h5] [--json PATH]
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    import numpy as np
    import torch

    from hgcal_ae.datasets.splits import split_rows
    from hgcal_ae.datasets.trigger_cells import read_trigger_cells
    from hgcal_ae.metrics.emd import emd
    from hgcal_ae.metrics.emd_loss import exact_emd_image_loss as emd_loss
    from hgcal_ae.models.module_ae import ModuleAutoencoder
    from hgcal_ae.models.module_losses import telescope
    from hgcal_ae.models.module_training import (
        ModuleTrainingConfig,
        decode_modules,
        decode_shapes,
        module_inputs,
        train_rows,
    )
    from hgcal_ae.study.presets import study_preset
    from hgcal_ae.study.showers import make_trigger_dataset

    torch.set_num_threads(args.threads)
    p = study_preset("default")
    with tempfile.TemporaryDirectory() as tmp:
        path = args.data or Path(tmp) / "tc.h5"
        if args.data is None:
            make_trigger_dataset(p.dataset_config("signal"), path)
        rows, _ = read_trigger_cells(path)
    train, val, test = split_rows(rows.event, p.split, seed=p.seed)
    tc = np.asarray(rows.tc, dtype=np.float64)
    te = tc[test][tc[test].sum(axis=1) > 0]

    def images(x: Any) -> torch.Tensor:
        img, scale = module_inputs(x)
        return img[scale > 0]

    tr_img, va_img = images(tc[train]), images(tc[val])
    base = p.training_config(16, 3)
    results: dict[str, dict[str, float]] = {}

    def run(name: str, build: Any, lr: float, epochs: int, loss: Any) -> ModuleAutoencoder:
        cfg = ModuleTrainingConfig(**{**base.__dict__, "learning_rate": lr, "epochs": epochs})
        start = time.perf_counter()
        model, _ = train_rows(build, cfg, tr_img, va_img, lambda m, b: loss(b, m(b)))
        seconds = (time.perf_counter() - start) / epochs
        shape = emd(te, decode_shapes(model, te)).mean()
        decoded = decode_modules(model, te, lsb=p.tc_lsb_mip, zero_suppress=p.ae_zero_suppress_mip)
        results[name] = {"shape_emd_cm": float(shape), "study_emd_cm": float(emd(te, decoded).mean()),
                         "seconds_per_epoch": seconds}  # fmt: skip
        print(name, {k: round(v, 4) for k, v in results[name].items()}, flush=True)
        return model

    def fresh() -> ModuleAutoencoder:
        return ModuleAutoencoder(base.ae_config())

    tele = run("telescope 15 ep lr 3e-3", fresh, 3e-3, 15, telescope)
    run("+ telescope 9 ep lr 3e-4 (control)", lambda: copy.deepcopy(tele), 3e-4, 9, telescope)
    run("+ exact EMD 9 ep lr 3e-4", lambda: copy.deepcopy(tele), 3e-4, 9, emd_loss)
    run("+ exact EMD 9 ep lr 1e-3", lambda: copy.deepcopy(tele), 1e-3, 9, emd_loss)
    run("blend telescope + EMD, 24 ep lr 3e-3", fresh, 3e-3, 24,
        lambda y, y_hat: telescope(y, y_hat) + emd_loss(y, y_hat))  # fmt: skip
    run("exact EMD from scratch 15 ep lr 3e-3", fresh, 3e-3, 15, emd_loss)
    if args.json is not None:
        from hgcal_ae import __version__

        out = {"probe": "emd_schedule", "hgcal_ae_version": __version__,
               "n_train_modules": len(tr_img), "n_test_modules": len(te), "latent": [16, 3],
               "runs": [{"run": k, **v} for k, v in results.items()]}  # fmt: skip
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
