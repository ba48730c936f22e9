"""Figures of ``hgcal-ae compare``: the AE variants, each with its spread over seeds.

Public API::

    comparison_binned_plot(aggregated, baselines, path, *, key, n_elinks, title) -> Path
    cluster_resolution_plot(aggregated, baselines, path, *, n_elinks, title) -> Path

``aggregated`` are the rows of :func:`hgcal_ae.study.comparison.aggregate_seeds` (AE
variants: mean and std over training seeds), ``baselines`` the study-table rows of the
ECON-T baselines on the same test modules.  AE points carry error bars of ±1 std over seeds.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hgcal_ae.plots.style import house_style, new_figure, save_figure

__all__ = ["cluster_resolution_plot", "comparison_binned_plot"]

#: the baselines drawn beside the AEs (algorithm name, table)
_BASELINES = (
    ("best_choice", "emu"),
    ("best_choice", "cmssw"),
    ("stc_2x2", None),
    ("stc_4x4", None),
)


def _nan(values: Sequence[float | None] | None) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in (values or [])], dtype=float)


def _baselines(baselines: Sequence[Mapping[str, Any]], n_elinks: int) -> list[Mapping[str, Any]]:
    out = []
    for name, table in _BASELINES:
        for b in baselines:
            if (
                b["algorithm"] == name
                and b["n_elinks"] == n_elinks
                and b.get("table") in (table, None)
            ):
                out.append(b)
                break
    return out


def _bin_labels(edges: Sequence[float], key: str) -> list[str]:
    if key == "emd_by_occupancy":
        labels = [f"{a}–{b - 1}" for a, b in itertools.pairwise(edges)]
        return [*labels, f"≥ {edges[-1]}"]
    return [f"{a:.1f}–{b:.1f}" for a, b in itertools.pairwise(edges)]


def comparison_binned_plot(
    aggregated: Sequence[Mapping[str, Any]],
    baselines: Sequence[Mapping[str, Any]],
    path: str | os.PathLike[str],
    *,
    key: str,
    n_elinks: int,
    title: str,
) -> Path:
    """Mean EMD per bin (``key``: ``emd_by_occupancy`` or ``emd_by_eta``) at ``n_elinks``."""
    aes = [r for r in aggregated if r["n_elinks"] == n_elinks and r.get(key)]
    shown = [b for b in _baselines(baselines, n_elinks) if b.get(key)]
    with house_style():
        fig = new_figure((7.5, 5.0))
        ax = fig.add_subplot()
        source = next(iter([*aes, *shown]), None)
        if source is None:
            ax.text(0.5, 0.5, f"nothing evaluated at {n_elinks} e-links", ha="center",
                    va="center", transform=ax.transAxes)  # fmt: skip
        else:
            bins = source[key]
            edges = bins.get("occupancy_edges") or bins.get("eta_edges")
            labels = _bin_labels(edges, key)
            x = np.arange(len(labels), dtype=float)
            for b in shown:
                ax.plot(x, _nan(b[key]["emd_mean_cm"]), marker="s", ls="--",
                        label=f"{b['label']} ({b['bits']:.0f} bits)")  # fmt: skip
            width = 0.3 / max(len(aes), 1)
            for i, r in enumerate(aes):
                dx = (i - (len(aes) - 1) / 2) * width
                ax.errorbar(x + dx, _nan(r[key]["emd_mean_cm"]), yerr=_nan(r[key]["emd_std_cm"]),
                            marker="o", capsize=3,
                            label=f"{r['label']} {r['latent_dim']}×{r['latent_bits']} "
                                  f"({len(r['seeds'])} seeds)")  # fmt: skip
            n = bins["n_modules"]
            ax.set_xticks(x, [f"{lab}\n({k} modules)" for lab, k in zip(labels, n, strict=True)])
            ax.legend(fontsize="small")
        ax.set_xlabel(
            "trigger cells ≥ 1 MIP_T per module" if key == "emd_by_occupancy" else "module |η|"
        )
        ax.set_ylabel("mean EMD [cm]")
        ax.set_ylim(bottom=0)
        ax.set_title(title)
        return save_figure(fig, path)


def cluster_resolution_plot(
    aggregated: Sequence[Mapping[str, Any]],
    baselines: Sequence[Mapping[str, Any]],
    path: str | os.PathLike[str],
    *,
    n_elinks: int,
    title: str,
) -> Path:
    """Per beam energy: the cluster energy resolution σ/μ and the position resolution [cm]
    of the all-TC reference, the baselines and each AE variant at ``n_elinks``."""
    aes = [r for r in aggregated if r["n_elinks"] == n_elinks]
    shown = _baselines(baselines, n_elinks)
    with house_style():
        fig = new_figure((11.0, 4.8))
        axes = fig.subplots(1, 2)
        keys = (("rel_sigma", "cluster energy resolution σ/μ [%]", 100.0),
                ("position_rms", "position resolution (barycentre − true) [cm]", 1.0))  # fmt: skip
        source = next(iter([*aes, *shown]), None)
        for ax, (stem, ylabel, scale) in zip(axes, keys, strict=True):
            ref_key = f"{stem}_reference" if stem == "rel_sigma" else f"{stem}_reference_cm"
            dec_key = f"{stem}_decoded" if stem == "rel_sigma" else f"{stem}_decoded_cm"
            if source is not None:
                pe = source["per_energy"]
                e = np.asarray(pe["energy_gev"], dtype=float)
                ax.plot(e, scale * _nan(pe.get(ref_key)), "k-", marker="*", ms=9,
                        label="all trigger cells")  # fmt: skip
                for b in shown:
                    ax.plot(e, scale * _nan(b["per_energy"].get(dec_key)), ls="--", marker="s",
                            label=f"{b['label']} ({b['bits']:.0f} bits)")  # fmt: skip
                for r in aes:
                    pe_r = r["per_energy"]
                    ax.errorbar(e, scale * _nan(pe_r.get(dec_key)),
                                yerr=scale * _nan(pe_r.get(f"{dec_key}_std")), marker="o", capsize=3,
                                label=f"{r['label']} {r['latent_dim']}×{r['latent_bits']}")  # fmt: skip
                ax.set_xscale("log")
                ax.set_xticks(e, [f"{v:g}" for v in e])
                ax.minorticks_off()
            ax.set_xlabel("beam energy [GeV]")
            ax.set_ylabel(ylabel)
            ax.set_ylim(bottom=0)
        axes[0].legend(fontsize="x-small")
        fig.suptitle(title)
        return save_figure(fig, path)
