"""The AE variants compared over training seeds: ``hgcal-ae compare``.

Public API::

    VARIANTS                          # name -> the study options it trains with
    DEFAULT_LATENTS                   # (16, 3), (16, 5), (16, 9): 2, 3-4 and 5 e-links
    check_variants(names, occupancy) -> tuple[str, ...]
    parse_latents(text) -> tuple[(latent dim, bits), ...]
    elink_latents(latents, elinks) -> {n_elinks: (latent dim, bits)}
    seed_spread(values) -> {mean, std, min, max, n, values}
    aggregate_seeds(ae_rows) -> rows, one per (variant, n_elinks)
    high_occupancy_emd(row, lowest=10) -> (mean EMD [cm], modules) in modules with >= lowest TCs
    comparison_goals(aggregated, baselines) -> dict   # the issue's two goals, met or not
    comparison_markdown(aggregated, baselines) -> str

Every AE number of a comparison is a spread over training seeds: the showers, their split
and the test modules stay the preset's, only the AE's initialisation and data order change
(``TrainModuleAE.train_seed``).  One seed's EMD is not a result: the same 16x3-bit AE gives
0.741 cm on one machine and 0.780 cm on another, each bit-reproducible on its own.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from hgcal_ae.errors import ConfigError
from hgcal_ae.trigger.autoencoder_budget import autoencoder_latent_bits_available

__all__ = [
    "DEFAULT_LATENTS",
    "HIGH_OCCUPANCY",
    "VARIANTS",
    "VARIANT_LABELS",
    "aggregate_seeds",
    "check_variants",
    "comparison_goals",
    "comparison_markdown",
    "elink_latents",
    "high_occupancy_emd",
    "parse_latents",
    "seed_spread",
]

#: name -> the study task parameters of the variant (``loss``, ``conditional``,
#: ``quantised_weights``; those not named keep their defaults)
VARIANTS: dict[str, dict[str, Any]] = {
    "telescope": {"loss": "telescope", "conditional": False, "quantised_weights": False},
    "emd": {"loss": "telescope+emd", "conditional": False, "quantised_weights": False},
    "cond": {"loss": "telescope", "conditional": True, "quantised_weights": False},
    "cond_emd": {"loss": "telescope+emd", "conditional": True, "quantised_weights": False},
    "qw": {"loss": "telescope", "conditional": False, "quantised_weights": True},
    "qw_emd": {"loss": "telescope+emd", "conditional": False, "quantised_weights": True},
}
VARIANT_LABELS = {
    "telescope": "AE, telescope loss",
    "emd": "AE, telescope + exact EMD",
    "cond": "conditional AE, telescope",
    "cond_emd": "conditional AE, telescope + exact EMD",
    "qw": "AE, 6-bit weights",
    "qw_emd": "AE, 6-bit weights, telescope + exact EMD",
}
#: the AE of each e-link setting: the largest code of the default grid that fits it
#: (48, 80 and 144 of 50, 82 / 114 and 146 latent bits, econt.md §1)
DEFAULT_LATENTS = ((16, 3), (16, 5), (16, 9))
#: "high occupancy": modules with at least this many TCs >= 1 MIP_T (the issue's goal)
HIGH_OCCUPANCY = 10
#: the per-seed quantities aggregated (mean and spread over seeds)
_SCALARS = ("emd_mean_cm", "emd_median_cm", "energy_ratio_mean", "resolution_ratio_mean",
            "position_shift_rms_cm", "bits")  # fmt: skip


def check_variants(names: Iterable[str], occupancy: str) -> tuple[str, ...]:
    """The variants ``names``, each known and once; conditional ones need ``pu200``."""
    out = tuple(names)
    unknown = [n for n in out if n not in VARIANTS]
    if unknown or not out:
        msg = f"unknown variant {unknown[0] if unknown else ''!r}; expected some of {', '.join(VARIANTS)}"
        raise ConfigError(msg)
    if len(set(out)) != len(out):
        msg = f"variants {', '.join(out)}: each once"
        raise ConfigError(msg)
    conditional = [n for n in out if VARIANTS[n]["conditional"]]
    if conditional and occupancy != "pu200":
        msg = f"variant {conditional[0]!r} is conditional and needs occupancy pu200 (its conditions include each module's |eta|), got {occupancy}"
        raise ConfigError(msg)
    return out


def parse_latents(text: str) -> tuple[tuple[int, int], ...]:
    """``"16x3,16x5"`` -> ((16, 3), (16, 5)): latent dim x bits per value, each once."""
    out = []
    for item in (t.strip() for t in text.split(",")):
        parts = item.lower().split("x")
        try:
            dim, bits = (int(v) for v in parts)
        except ValueError:
            dim = bits = 0
        if dim < 1 or bits < 1:
            msg = f"--latents {item!r}: expected DIMxBITS with whole numbers >= 1, e.g. 16x3"
            raise ConfigError(msg)
        out.append((dim, bits))
    if len(set(out)) != len(out):
        msg = f"--latents {text!r}: each code once"
        raise ConfigError(msg)
    return tuple(out)


def elink_latents(
    latents: Sequence[tuple[int, int]], elinks: Sequence[int]
) -> dict[int, tuple[int, int]]:
    """For each e-link setting, the code of ``latents`` with the most bits that fits it
    (more latent values first among equal bits); settings no code fits are left out."""
    out = {}
    for n in elinks:
        fits = [c for c in latents if c[0] * c[1] <= autoencoder_latent_bits_available(n)]
        if fits:
            out[int(n)] = max(fits, key=lambda c: (c[0] * c[1], c[0]))
    return out


def seed_spread(values: Iterable[float | None]) -> dict[str, Any]:
    """Mean, sample standard deviation (0 for one value), min and max of the finite values."""
    v = [float(x) for x in values if x is not None and math.isfinite(x)]
    if not v:
        return {"mean": None, "std": None, "min": None, "max": None, "n": 0, "values": []}
    a = np.asarray(v)
    std = float(a.std(ddof=1)) if a.size > 1 else 0.0
    return {"mean": float(a.mean()), "std": std, "min": float(a.min()), "max": float(a.max()),
            "n": int(a.size), "values": v}  # fmt: skip


def high_occupancy_emd(
    row: Mapping[str, Any], lowest: int = HIGH_OCCUPANCY
) -> tuple[float | None, int]:
    """Mean EMD [cm] and module count over the occupancy bins from ``lowest`` TCs up."""
    occ = row.get("emd_by_occupancy") or {}
    edges = occ.get("occupancy_edges") or []
    if lowest not in edges:
        msg = f"no occupancy bin starts at {lowest} TCs; edges {edges}"
        raise ConfigError(msg)
    k = edges.index(lowest)
    n = occ["n_modules"][k:]
    means = occ["emd_mean_cm"][k:]
    total = sum(c * m for c, m in zip(n, means, strict=True) if c and m is not None)
    count = sum(c for c, m in zip(n, means, strict=True) if c and m is not None)
    return (total / count if count else None), int(count)


def _binned(rows: Sequence[Mapping[str, Any]], key: str) -> dict[str, Any] | None:
    """The seeds' ``key`` bins (emd_by_occupancy / emd_by_eta): their edges and counts, and
    the mean and std over seeds of each bin's mean EMD."""
    bins = [r[key] for r in rows if r.get(key)]
    if not bins:
        return None
    first = bins[0]
    edges_key = next(k for k in first if k.endswith("_edges"))
    per_bin = list(zip(*(b["emd_mean_cm"] for b in bins), strict=True))
    spreads = [seed_spread(v) for v in per_bin]
    return {edges_key: first[edges_key], "n_modules": first["n_modules"],
            "emd_mean_cm": [s["mean"] for s in spreads],
            "emd_std_cm": [s["std"] for s in spreads]}  # fmt: skip


def _per_energy(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Per beam energy: the mean and std over seeds of the decoded cluster σ/μ and position
    resolution, beside the all-TC reference (the same for every seed)."""
    first = rows[0]["per_energy"]
    out: dict[str, Any] = {"energy_gev": first["energy_gev"],
                           "rel_sigma_reference": first["rel_sigma_reference"],
                           "position_rms_reference_cm": first.get("position_rms_reference_cm")}  # fmt: skip
    for key in ("rel_sigma_decoded", "position_rms_decoded_cm", "resolution_ratio"):
        columns = [r["per_energy"].get(key) for r in rows]
        if any(c is None for c in columns):
            out[key] = out[f"{key}_std"] = None
            continue
        spreads = [seed_spread(v) for v in zip(*columns, strict=True)]
        out[key] = [s["mean"] for s in spreads]
        out[f"{key}_std"] = [s["std"] for s in spreads]
    return out


def aggregate_seeds(ae_rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per (variant, n_elinks) from the per-seed rows (``variant``, ``seed``,
    ``n_elinks``, ``latent_dim``, ``latent_bits`` and :func:`~hgcal_ae.study.evaluate.evaluate_output`'s
    columns): each scalar's spread over seeds (``<name>``: its mean, ``<name>_seeds``: the
    spread), the binned EMDs and the per-energy cluster resolutions."""
    groups: dict[tuple[str, int], list[Mapping[str, Any]]] = defaultdict(list)
    for r in ae_rows:
        groups[(r["variant"], int(r["n_elinks"]))].append(r)
    out = []
    for (variant, n), rows in groups.items():
        rows = sorted(rows, key=lambda r: r["seed"])
        first = rows[0]
        row: dict[str, Any] = {
            "variant": variant, "label": VARIANT_LABELS[variant], "n_elinks": n,
            "latent_dim": first["latent_dim"], "latent_bits": first["latent_bits"],
            "setting": first["setting"], "seeds": [int(r["seed"]) for r in rows],
        }  # fmt: skip
        for key in _SCALARS:
            spread = seed_spread(r.get(key) for r in rows)
            row[key], row[f"{key}_seeds"] = spread["mean"], spread
        high = [high_occupancy_emd(r)[0] for r in rows]
        row["emd_high_occupancy_cm"] = seed_spread(high)["mean"]
        row["emd_high_occupancy_cm_seeds"] = seed_spread(high)
        row["n_high_occupancy_modules"] = high_occupancy_emd(first)[1]
        row["emd_by_occupancy"] = _binned(rows, "emd_by_occupancy")
        row["emd_by_eta"] = _binned(rows, "emd_by_eta")
        row["per_energy"] = _per_energy(rows)
        out.append(row)
    order = list(VARIANTS)
    return sorted(out, key=lambda r: (r["n_elinks"], order.index(r["variant"])))


def comparison_goals(
    aggregated: Sequence[Mapping[str, Any]], baselines: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """The two goals, each with its numbers and whether it is met.

    * ``emd_loss_gain``: per code (at the fewest e-links it serves) and decoder, 1 -
      EMD(telescope + exact EMD) / EMD(telescope) of the seeds' mean EMDs; goal >= 0.30.
    * ``high_occupancy``: at 2 e-links, the best AE's mean EMD (lowest mean over seeds, any
      variant) in modules with >= 10 TCs >= 1 MIP_T against Best Choice's on the same
      modules; goal: the AE's <= Best Choice's.
    """
    by = {(r["variant"], r["n_elinks"]): r for r in aggregated}
    gains = []
    for plain, emd in (("telescope", "emd"), ("cond", "cond_emd"), ("qw", "qw_emd")):
        seen = set()  # one row per code: a code serving several settings decodes the same
        for n in sorted({r["n_elinks"] for r in aggregated}):
            a, b = by.get((plain, n)), by.get((emd, n))
            if a is None or b is None or not a["emd_mean_cm"]:
                continue
            code = (a["latent_dim"], a["latent_bits"])
            if code in seen:
                continue
            seen.add(code)
            gain = 1.0 - b["emd_mean_cm"] / a["emd_mean_cm"]
            gains.append({"n_elinks": n, "telescope": plain, "exact_emd": emd,
                          "emd_telescope_cm": a["emd_mean_cm"], "emd_exact_emd_cm": b["emd_mean_cm"],
                          "gain": gain, "met": gain >= 0.30})  # fmt: skip
    high: dict[str, Any] | None = None
    aes = [r for r in aggregated if r["n_elinks"] == 2 and r["emd_high_occupancy_cm"] is not None]
    bc = next((b for b in baselines if b["algorithm"] == "best_choice" and b["n_elinks"] == 2
               and b.get("table", "emu") == "emu"), None)  # fmt: skip
    if aes and bc is not None:
        best = min(aes, key=lambda r: r["emd_high_occupancy_cm"])
        bc_emd, n_mod = high_occupancy_emd(bc)
        if bc_emd is not None:
            spread = best["emd_high_occupancy_cm_seeds"]
            high = {"n_elinks": 2, "min_tcs_above_1_mip_t": HIGH_OCCUPANCY, "n_modules": n_mod,
                    "best_variant": best["variant"], "best_label": best["label"],
                    "emd_ae_cm": spread["mean"], "emd_ae_std_cm": spread["std"],
                    "emd_best_choice_cm": bc_emd, "met": spread["mean"] <= bc_emd}  # fmt: skip
    return {
        "emd_loss_gain": {"goal": ">= 0.30 lower mean EMD with the exact EMD than with the telescope loss",
                          "rows": gains, "met": bool(gains) and all(g["met"] for g in gains)},
        "high_occupancy": {"goal": "best AE's mean EMD <= Best Choice's at 2 e-links in modules with >= 10 TCs >= 1 MIP_T",
                           "result": high, "met": bool(high and high["met"])},
    }  # fmt: skip


def _pm(spread: Mapping[str, Any] | None, digits: int = 3) -> str:
    if not spread or spread.get("mean") is None:
        return "–"
    return f"{spread['mean']:.{digits}f} ± {spread['std']:.{digits}f}"


def _num(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def comparison_markdown(
    aggregated: Sequence[Mapping[str, Any]], baselines: Sequence[Mapping[str, Any]]
) -> str:
    """The comparison table: per e-link setting the baselines and each AE variant (mean ±
    std over seeds): mean EMD, EMD in high-occupancy modules, bits, σ/E ratio."""
    lines = [
        "| e-links | algorithm | bits | mean EMD [cm] | EMD, ≥ 10 TCs [cm] | σ/E ratio |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for n in sorted({r["n_elinks"] for r in (*aggregated, *baselines)}):
        for b in (b for b in baselines if b["n_elinks"] == n):
            lines.append(f"| {n} | {b['label']} | {b['bits']:.1f} | {_num(b['emd_mean_cm'])} | "
                         f"{_num(high_occupancy_emd(b)[0])} | {_num(b['resolution_ratio_mean'])} |")  # fmt: skip
        for r in (r for r in aggregated if r["n_elinks"] == n):
            name = f"{r['label']} {r['latent_dim']}×{r['latent_bits']} ({len(r['seeds'])} seeds)"
            lines.append(f"| {n} | {name} | {r['bits']:.1f} | {_pm(r['emd_mean_cm_seeds'])} | "
                         f"{_pm(r['emd_high_occupancy_cm_seeds'])} | "
                         f"{_pm(r['resolution_ratio_mean_seeds'])} |")  # fmt: skip
    return "\n".join(lines) + "\n"
