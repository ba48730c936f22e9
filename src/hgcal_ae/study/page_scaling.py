"""The docs' block of the data-scaling study (``hgcal-ae scaling``), from its summary.json.

``scaling-results``: the AE's mean EMD at 2 e-links against its training-set size, beside
Best Choice and STC 2 x 2 on the same test modules, the barycentre shift (the AE's energy
is the transmitted module sum, the same for every training set), the answer, the figure.
"""

from __future__ import annotations

from typing import Any

from hgcal_ae.study.page_context import BlockContext, Rendered
from hgcal_ae.study.tables import markdown_table

__all__ = ["scaling_results"]

_COLUMNS = (
    ("what", "compression"), ("n", "training modules", "{:,}"),
    ("emd", "mean EMD [cm]", "{:.3f}"), ("sem", "± [cm]", "{:.3f}"),
    ("pos", "barycentre shift RMS [cm]", "{:.3f}"),
)  # fmt: skip


def scaling_results(ctx: BlockContext) -> Rendered:
    s = ctx.s
    t = s["training"]
    rows: list[dict[str, Any]] = [
        {"what": r["label"].text(), "n": r["n_train_modules"].integer(),
         "emd": r["emd_mean_cm"].number(), "sem": r["emd_sem_cm"].num(),
         "pos": r["position_shift_rms_cm"].num()}
        for r in s["rows"].items()
    ] + [
        {"what": b["label"].text(), "n": None, "emd": b["emd_mean_cm"].number(),
         "sem": b["emd_sem_cm"].num(), "pos": b["position_shift_rms_cm"].num()}
        for b in s["baselines"].items()
    ]  # fmt: skip
    a = s["answer"]
    gaps = ", ".join(
        f"{name.replace('_', ' ')} {a['gap_to_baseline_cm'][name].number():+.3f} cm"
        for name in a["gap_to_baseline_cm"].fields()
    )
    answer = (
        f"From {a['smallest_n_train'].integer():,} to {a['largest_n_train'].integer():,} training "
        f"modules the AE's mean EMD goes from {a['emd_mean_cm_smallest'].number():.3f} to "
        f"{a['emd_mean_cm_largest'].number():.3f} cm. At the largest training set the AE minus "
        f"each baseline is: {gaps} (positive: the AE is worse).\n\n"
    )
    figure = ctx.figure(s["outputs"]["scaling.png"], s["outputs"]["summary.json"],
                        "scaling.png", "mean EMD against the training-set size")  # fmt: skip
    counts = (
        f"preset {s['preset']['name'].text()}, {t['latent_dim'].integer()}×"
        f"{t['latent_bits'].integer()} bits, {t['epochs'].integer()} epochs, "
        f"{s['n_test_modules'].integer():,} test modules, {s['n_elinks'].integer()} e-links"
    )
    text = markdown_table(rows, _COLUMNS) + "\n" + answer + figure + "\n"
    return Rendered(ctx.header(counts) + text)
