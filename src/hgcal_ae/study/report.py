"""The study's answers from its evaluation rows: the smallest latent dim, AE against baselines.

Public API::

    smallest_latent_dim(rows, tolerance) -> dict          # by energy resolution
    smallest_latent_dim_by_shape(rows, tolerance) -> dict # by mean EMD
    answer_text(answer) -> str                            # "16 (criterion)" or "none passes (...)"
    ae_versus_baselines(rows, elinks=(2, 3)) -> list[dict]
    table_markdown(rows) -> str
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from hgcal_ae.study.tables import markdown_table

__all__ = [
    "BASELINES",
    "HGCAL_SI_MODULES",
    "QUANTITIES",
    "ae_versus_baselines",
    "answer_text",
    "reference_label",
    "smallest_latent_dim",
    "smallest_latent_dim_by_shape",
    "table_markdown",
]

#: Total data rates are given for the ≈30,000 silicon modules of HGCAL (physics.md §4, arXiv
#: 2012.06336); how many of them are CE-E modules with ECON-T links is not in the sources
#: (physics.md §5), so no CE-E-only total is claimed.  Per-module rates do not depend on it.
HGCAL_SI_MODULES = 30_000

#: Quality measures of the Pareto plots: key -> (axis label, lower is better, ideal value).
QUANTITIES = {
    "emd_mean_cm": ("mean EMD [cm]", True, 0.0),
    "resolution_ratio_mean": ("σ_E/E decoded ÷ uncompressed", True, 1.0),
    "position_shift_rms_cm": ("barycentre shift, RMS [cm]", True, 0.0),
    "shower_max_shift_rms_x0": ("shower-max shift, RMS [X0]", True, 0.0),
    "energy_ratio_mean": ("module energy ratio", False, 1.0),
    "width_ratio_mean": ("module width ratio", False, 1.0),
}

#: The baselines the autoencoder is compared with (``AlgorithmOutput.name``).
BASELINES = ("best_choice", "stc_2x2", "stc_4x4")

TABLE_COLUMNS = (
    ("label", "algorithm"),
    ("setting", "setting"),
    ("bits", "bits/BX", "{:.0f}"),
    ("fits_fraction", "fits", "{:.2f}"),
    ("emd_mean_cm", "EMD [cm]", "{:.3f}"),
    ("energy_ratio_mean", "E ratio", "{:.3f}"),
    ("centroid_shift_mean_cm", "centroid [cm]", "{:.3f}"),
    ("width_ratio_mean", "width ratio", "{:.3f}"),
    ("resolution_ratio_mean", "σE ratio", "{:.3f}"),
    ("position_shift_rms_cm", "position [cm]", "{:.3f}"),
    ("shower_max_shift_rms_x0", "t_max [X0]", "{:.3f}"),
)


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def smallest_latent_dim(rows: Sequence[dict[str, Any]], tolerance: float) -> dict[str, Any]:
    """Smallest latent dim whose event energy resolution is within ``tolerance`` of uncompressed.

    Criterion: for some bit width and e-link setting, σ_E/E with every module decoded is at
    most (1 + tolerance) times σ_E/E of the uncompressed trigger cells at every beam energy
    (``resolution_ratio_max``).
    """
    best: dict[int, dict[str, Any]] = {}
    for row in rows:
        if row["algorithm"] != "autoencoder" or not _finite(row.get("resolution_ratio_max")):
            continue
        dim = int(row["latent_dim"])
        if dim not in best or row["resolution_ratio_max"] < best[dim]["resolution_ratio_max"]:
            best[dim] = row
    passing = sorted(d for d, r in best.items() if r["resolution_ratio_max"] <= 1.0 + tolerance)
    return {
        "criterion": f"event energy resolution sigma_E/E within {100 * tolerance:g} % of the uncompressed "
        "trigger cells at every beam energy (best bit width and e-link setting of each latent dim)",
        "smallest_latent_dim": passing[0] if passing else None,
        "per_latent_dim": {
            str(d): {
                "resolution_ratio_max": r["resolution_ratio_max"],
                "setting": r["setting"],
                "bits": r["bits"],
            }
            for d, r in sorted(best.items())
        },
    }


def smallest_latent_dim_by_shape(
    rows: Sequence[dict[str, Any]], tolerance: float = 0.10
) -> dict[str, Any]:
    """Smallest latent dim whose shower shapes are as good as the grid's best, within ``tolerance``.

    Criterion: the best mean EMD of the latent dim (over bit widths and e-link settings) is at
    most (1 + tolerance) times the best mean EMD of any autoencoder of the grid: the latent
    size beyond which more latent values no longer improve the shapes the trigger sees.  This
    is the latent-dependent answer; the energy criterion of :func:`smallest_latent_dim` cannot
    depend on the latent size, since the decoded module energy is the transmitted module sum.
    """
    best: dict[int, dict[str, Any]] = {}
    for row in rows:
        if row["algorithm"] != "autoencoder" or not _finite(row.get("emd_mean_cm")):
            continue
        dim = int(row["latent_dim"])
        if dim not in best or row["emd_mean_cm"] < best[dim]["emd_mean_cm"]:
            best[dim] = row
    if not best:
        return {"criterion": "no autoencoder with a finite mean EMD", "smallest_latent_dim": None,
                "per_latent_dim": {}}  # fmt: skip
    floor = min(r["emd_mean_cm"] for r in best.values())
    passing = sorted(d for d, r in best.items() if r["emd_mean_cm"] <= (1.0 + tolerance) * floor)
    return {
        "criterion": f"mean EMD within {100 * tolerance:g} % of the best autoencoder of the grid "
        f"({floor:.3f} cm; best bit width and e-link setting of each latent dim)",
        "smallest_latent_dim": passing[0],
        "best_emd_cm": floor,
        "per_latent_dim": {
            str(d): {"emd_mean_cm": r["emd_mean_cm"], "setting": r["setting"], "bits": r["bits"]}
            for d, r in sorted(best.items())
        },
    }


def answer_text(answer: Mapping[str, Any]) -> str:
    """One line for a "smallest latent dim" answer: the dim, or "none passes", and the criterion."""
    dim = answer.get("smallest_latent_dim")
    return f"{'none passes' if dim is None else dim} ({answer['criterion']})"


def reference_label(row: Mapping[str, Any]) -> str:
    """How plots name the reference line: the Repeater's row, with its bits."""
    return f"{row['label']}, {row['bits']:.0f} bits (every TC in 4E3M)"


def ae_versus_baselines(
    rows: Sequence[dict[str, Any]], elinks: Sequence[int] = (2, 3)
) -> list[dict[str, Any]]:
    """At each e-link setting: the best AE (lowest mean EMD) against Best Choice and STC."""
    out = []
    for n in elinks:
        at_n = [r for r in rows if r["n_elinks"] == n and _finite(r.get("emd_mean_cm"))]
        aes = [r for r in at_n if r["algorithm"] == "autoencoder"]
        if not aes:
            continue
        ae = min(aes, key=lambda r: r["emd_mean_cm"])
        for base in (r for r in at_n if r["algorithm"] in BASELINES):
            out.append({
                "n_elinks": n,
                "autoencoder": ae["label"],
                "baseline": base["label"],
                "emd_ae_cm": ae["emd_mean_cm"],
                "emd_baseline_cm": base["emd_mean_cm"],
                "ae_better_emd": ae["emd_mean_cm"] < base["emd_mean_cm"],
                "resolution_ratio_ae": ae.get("resolution_ratio_mean"),
                "resolution_ratio_baseline": base.get("resolution_ratio_mean"),
                "ae_better_resolution": _finite(ae.get("resolution_ratio_mean"))
                and _finite(base.get("resolution_ratio_mean"))
                and ae["resolution_ratio_mean"] < base["resolution_ratio_mean"],
            })  # fmt: skip
    return out


def table_markdown(rows: Sequence[Mapping[str, Any]]) -> str:
    """The evaluation rows as a Markdown table."""
    return markdown_table(rows, TABLE_COLUMNS)
