"""The docs' block of the data-scaling study (``hgcal-ae scaling``), from its summary.json.

``scaling-results``: the AE's mean EMD at 2 e-links against its training-set size, beside
Best Choice and STC 2 x 2 on the same test modules, each size's epochs, optimiser steps and
final training and validation losses (the schedule), the barycentre shift (the AE's energy
is the transmitted module sum, the same for every training set), the answer, the figure.
"""

from __future__ import annotations

from typing import Any

from hgcal_ae.study.page_context import BlockContext, Rendered
from hgcal_ae.study.tables import markdown_table

__all__ = ["scaling_results"]

_COLUMNS = (
    ("what", "compression"), ("n", "training modules", "{:,}"), ("epochs", "epochs", "{:,}"),
    ("steps", "steps", "{:,}"), ("train", "final training loss", "{:.4f}"),
    ("val", "validation loss", "{:.4f}"),
    ("emd", "mean EMD [cm]", "{:.3f}"), ("sem", "± [cm]", "{:.3f}"),
    ("pos", "barycentre shift RMS [cm]", "{:.3f}"),
)  # fmt: skip
_SCHEDULES = {
    "steps": "every size trains the optimiser steps of {epochs} epochs over the largest",
    "epochs": "every size trains {epochs} epochs (a larger set also gets more steps)",
}


def scaling_results(ctx: BlockContext) -> Rendered:
    s = ctx.s
    t = s["training"]
    rows: list[dict[str, Any]] = [
        {"what": r["label"].text(), "n": r["n_train_modules"].integer(),
         "epochs": r["epochs"].integer(), "steps": r["n_steps"].integer(),
         "train": r["train_loss"].number(), "val": r["val_loss"].number(),
         "emd": r["emd_mean_cm"].number(), "sem": r["emd_sem_cm"].num(),
         "pos": r["position_shift_rms_cm"].num()}
        for r in s["rows"].items()
    ] + [
        {"what": b["label"].text(), "n": None, "epochs": None, "steps": None, "train": None,
         "val": None, "emd": b["emd_mean_cm"].number(), "sem": b["emd_sem_cm"].num(),
         "pos": b["position_shift_rms_cm"].num()}
        for b in s["baselines"].items()
    ]  # fmt: skip
    a = s["answer"]
    gaps = ", ".join(
        f"{name.replace('_', ' ')} {a['gap_to_baseline_cm'][name].number():+.3f} cm"
        for name in a["gap_to_baseline_cm"].fields()
    )
    best = min((r for r in rows if r["n"] is not None), key=lambda r: r["emd"])
    answer = (
        f"From {a['smallest_n_train'].integer():,} to {a['largest_n_train'].integer():,} training "
        f"modules the AE's mean EMD goes from {a['emd_mean_cm_smallest'].number():.3f} to "
        f"{a['emd_mean_cm_largest'].number():.3f} cm; the lowest is {best['emd']:.3f} cm, at "
        f"{best['n']:,} modules. At the largest training set the AE minus each baseline is: "
        f"{gaps} (positive: the AE is worse).\n\n"
    )
    figure = ctx.figure(s["outputs"]["scaling.png"], s["outputs"]["summary.json"],
                        "scaling.png", "mean EMD against the training-set size")  # fmt: skip
    if t["schedule"].text() not in _SCHEDULES:
        raise t["schedule"].fail(f"is {t['schedule'].text()!r}, expected steps or epochs")
    schedule = _SCHEDULES[t["schedule"].text()]
    counts = (
        f"preset {s['preset']['name'].text()}, {t['latent_dim'].integer()}×"
        f"{t['latent_bits'].integer()} bits, "
        f"{schedule.format(epochs=t['epochs'].integer())}, "
        f"validation on {t['n_val_modules'].integer():,} modules, "
        f"{s['n_test_modules'].integer():,} test modules, {s['n_elinks'].integer()} e-links"
    )
    text = markdown_table(rows, _COLUMNS) + "\n" + answer + figure + "\n"
    return Rendered(ctx.header(counts) + text)
