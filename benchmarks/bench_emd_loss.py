"""Training time per epoch of the module AE with the exact-EMD loss against the telescope loss.

The default preset's showers (signal occupancy, simulated here: about 10 s), the 16x3-bit AE
with the softmax head, batch 128; the same model alternates ``--epochs`` epochs of each loss,
twice, and the median epoch time of each is compared (goal: EMD <= 3x telescope, issue 9).
Both run on the calling thread's torch (``--threads``, default 1) on the CPU.

With ``--json PATH`` the measured numbers are also written to PATH.

Usage: python benchmarks/bench_emd_loss.py [--epochs 3] [--threads 1] [--json PATH]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

GOAL_RATIO = 3.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    import torch

    from hgcal_ae.datasets.splits import split_rows
    from hgcal_ae.datasets.trigger_cells import read_trigger_cells
    from hgcal_ae.metrics.emd_loss import exact_emd_image_loss
    from hgcal_ae.models.module_ae import ModuleAutoencoder
    from hgcal_ae.models.module_losses import telescope
    from hgcal_ae.models.module_training import module_inputs, train_rows
    from hgcal_ae.study.presets import study_preset
    from hgcal_ae.study.showers import make_trigger_dataset

    torch.set_num_threads(args.threads)
    preset = study_preset("default")
    with tempfile.TemporaryDirectory() as tmp:
        make_trigger_dataset(preset.dataset_config("signal"), Path(tmp) / "tc.h5")
        rows, _ = read_trigger_cells(Path(tmp) / "tc.h5")
    train, val, _ = split_rows(rows.event, preset.split, seed=preset.seed)

    def images(tc: object) -> torch.Tensor:
        img, scale = module_inputs(tc)  # type: ignore[arg-type]
        return img[scale > 0]

    train_img, val_img = images(rows.tc[train]), images(rows.tc[val])
    config = dataclasses.replace(preset.training_config(16, 3), epochs=args.epochs)
    model = ModuleAutoencoder(config.ae_config())
    exact_emd_image_loss(val_img[:8], val_img[:8])  # loads the numba kernels
    load_before = os.getloadavg()[0]
    seconds: dict[str, list[float]] = {"telescope": [], "exact_emd": []}
    losses = {"telescope": telescope, "exact_emd": exact_emd_image_loss}
    for name in ("telescope", "exact_emd", "telescope", "exact_emd"):
        loss = losses[name]
        _, fit = train_rows(lambda: model, config, train_img, val_img,
                            lambda m, b, loss=loss: loss(b, m(b)))  # fmt: skip
        seconds[name] += [r.seconds for r in fit.history]
    tele, emd = (statistics.median(seconds[k]) for k in ("telescope", "exact_emd"))
    ratio = emd / tele
    print(f"{len(train_img)} training modules, 16x3 bits, batch {config.batch_size}, "
          f"{args.threads} torch thread(s)")  # fmt: skip
    print(f"telescope: {tele:.2f} s/epoch; exact EMD: {emd:.2f} s/epoch; ratio {ratio:.2f} "
          f"(goal <= {GOAL_RATIO:g}) -> {'met' if ratio <= GOAL_RATIO else 'MISSED'}")  # fmt: skip
    if args.json is not None:
        from hgcal_ae import __version__

        result = {"benchmark": "emd_loss", "hgcal_ae_version": __version__,
                  "n_train_modules": len(train_img), "epochs": args.epochs,
                  "seconds_per_epoch": {"telescope": tele, "exact_emd": emd},
                  "seconds": seconds, "ratio": ratio, "goal_ratio": GOAL_RATIO,
                  "met": ratio <= GOAL_RATIO, "threads": args.threads, "cpu_count": os.cpu_count(),
                  "load_average": [load_before, os.getloadavg()[0]]}  # fmt: skip
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0 if ratio <= GOAL_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
