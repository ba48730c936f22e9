"""The docs' blocks of the compression and merging studies, from their reports' summary.json.

One renderer per block (see :mod:`hgcal_ae.study.page_context`): the AE against the baselines,
the answers with their criteria, the mean EMD per occupancy bin, the figures, the bandwidth,
the toy pile-up run, the grouping and neighbour tables, and the README's short answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hgcal_ae.study.merging import GROUPING_COLUMNS, NEIGHBOUR_COLUMNS
from hgcal_ae.study.page_context import BlockContext, Doc, Rendered, yes_no
from hgcal_ae.study.tables import markdown_table

__all__ = [
    "merging_grouping",
    "merging_neighbours",
    "readme_merging",
    "readme_study",
    "study_answers",
    "study_bandwidth",
    "study_baselines",
    "study_comparison",
    "study_figures",
    "study_occupancy",
    "study_pileup",
]

#: Quality columns of the study's algorithm tables.
QUALITY_COLUMNS = (
    ("bits", "bits/BX", "{:.0f}"),
    ("fits_fraction", "fits", "{:.2f}"),
    ("emd_mean_cm", "mean EMD [cm]", "{:.3f}"),
    ("position_shift_rms_cm", "barycentre shift RMS [cm]", "{:.3f}"),
    ("resolution_ratio_mean", "σ_E/E ÷ uncompressed", "{:.2f}"),
    ("shower_max_shift_rms_x0", "t_max shift RMS [X0]", "{:.2f}"),
)
BASELINE_IDS = ("best_choice", "stc_2x2", "stc_4x4", "threshold_sum")
OCCUPANCY_IDS = ("best_choice", "stc_2x2", "stc_4x4")


def _rows(s: Doc) -> list[Doc]:
    return s["rows"].items()


def _best_aes(s: Doc) -> dict[int, str]:
    """The best AE's label at each e-link setting the report compared (lowest mean EMD)."""
    return {
        c["n_elinks"].integer(): c["autoencoder"].text() for c in s["ae_versus_baselines"].items()
    }


def _study_counts(s: Doc) -> str:
    return (f"preset {s['preset']['name'].text()}, occupancy {s['occupancy'].text()}, "
            f"{s['n_test_events'].integer():,} test events, {s['n_test_modules'].integer():,} test modules")  # fmt: skip


def _algorithm_rows(s: Doc, elinks: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """The Repeater, then at each compared e-link setting the baselines and the best AE."""
    best = _best_aes(s)
    columns = (("label",), ("algorithm",), *QUALITY_COLUMNS)
    out = []
    for row in _rows(s):
        if row["algorithm"].text() == "repeater":
            out.append({**row.pick(columns), "n_elinks": row["n_elinks"].integer()})
    for n in sorted(best) if elinks is None else elinks:
        for row in _rows(s):
            if row["n_elinks"].integer() != n:
                continue
            algorithm, label = row["algorithm"].text(), row["label"].text()
            if algorithm in BASELINE_IDS or (algorithm == "autoencoder" and label == best.get(n)):
                picked = {**row.pick(columns), "n_elinks": n}
                if algorithm == "autoencoder":
                    picked["label"] = f"{label} (best AE)"
                out.append(picked)
    return out


ALGORITHM_COLUMNS = (("n_elinks", "e-links"), ("label", "algorithm"), *QUALITY_COLUMNS)


def study_baselines(ctx: BlockContext) -> Rendered:
    s = ctx.s
    return Rendered(
        ctx.header(_study_counts(s)) + markdown_table(_algorithm_rows(s), ALGORITHM_COLUMNS)
    )


def study_pileup(ctx: BlockContext) -> Rendered:
    s = ctx.s
    lowest = min(_best_aes(s), default=2)
    rows = _algorithm_rows(s, elinks=(lowest,))
    return Rendered(ctx.header(_study_counts(s)) + markdown_table(rows, ALGORITHM_COLUMNS))


def study_comparison(ctx: BlockContext) -> Rendered:
    s = ctx.s
    rows = []
    for c in s["ae_versus_baselines"].items():
        ae, base = c["emd_ae_cm"].num(), c["emd_baseline_cm"].num()
        rows.append({
            "n_elinks": c["n_elinks"].integer(), "autoencoder": c["autoencoder"].text(),
            "baseline": c["baseline"].text(), "emd_ae": ae, "emd_base": base,
            "ratio": ae / base if ae is not None and base else None,
            "res_ae": c["resolution_ratio_ae"].num(), "res_base": c["resolution_ratio_baseline"].num(),
            "better_emd": yes_no(c["ae_better_emd"].flag()),
            "better_res": yes_no(c["ae_better_resolution"].flag()),
        })  # fmt: skip
    columns = (
        ("n_elinks", "e-links"), ("autoencoder", "best AE"), ("baseline", "baseline"),
        ("emd_ae", "AE mean EMD [cm]", "{:.3f}"), ("emd_base", "baseline mean EMD [cm]", "{:.3f}"),
        ("ratio", "AE ÷ baseline", "{:.2f}"), ("better_emd", "AE better on EMD"),
        ("res_ae", "AE σ_E/E ratio", "{:.2f}"), ("res_base", "baseline σ_E/E ratio", "{:.2f}"),
        ("better_res", "AE better on resolution"),
    )  # fmt: skip
    return Rendered(ctx.header(_study_counts(s)) + markdown_table(rows, columns))


def _answer_line(answer: Doc, what: str) -> str:
    dim = answer["smallest_latent_dim"]
    value = "none passes" if dim.value is None else str(dim.integer())
    return (
        f"- **Smallest latent dim by {what}: {value}.** Criterion: {answer['criterion'].text()}.\n"
    )


def study_answers(ctx: BlockContext) -> Rendered:
    s = ctx.s
    energy, shape = s["smallest_latent_dim"], s["smallest_latent_dim_by_shape"]
    by_energy, by_shape = energy["per_latent_dim"], shape["per_latent_dim"]
    dims = sorted({int(k) for k in by_energy.fields() + by_shape.fields()})
    rows = []
    for d in dims:
        e = by_energy[str(d)] if by_energy.has(str(d)) else None
        m = by_shape[str(d)] if by_shape.has(str(d)) else None
        rows.append({
            "latent_dim": d,
            "emd": m["emd_mean_cm"].num() if m else None, "emd_at": m["setting"].text() if m else None,
            "res": e["resolution_ratio_max"].num() if e else None,
            "res_at": e["setting"].text() if e else None,
        })  # fmt: skip
    columns = (
        ("latent_dim", "latent dim"), ("emd", "best mean EMD [cm]", "{:.3f}"), ("emd_at", "at"),
        ("res", "σ_E/E ratio at the worst energy", "{:.2f}"), ("res_at", "at"),
    )  # fmt: skip
    text = _answer_line(shape, "shape") + _answer_line(energy, "energy") + "\n"
    return Rendered(ctx.header(_study_counts(s)) + text + markdown_table(rows, columns))


def _occupancy_bins(edges: Sequence[int]) -> list[str]:
    bins = []
    for lo, hi in zip(edges, [*edges[1:], None], strict=True):
        bins.append(f"≥ {lo}" if hi is None else (f"{lo}" if hi - 1 == lo else f"{lo}–{hi - 1}"))
    return bins


def study_occupancy(ctx: BlockContext) -> Rendered:
    s = ctx.s
    n = min(s["preset"]["elinks"].items(), key=lambda d: d.integer()).integer()
    best = _best_aes(s).get(n)
    shown = []
    for row in _rows(s):
        if row["n_elinks"].integer() != n:
            continue
        algorithm, label = row["algorithm"].text(), row["label"].text()
        if algorithm in OCCUPANCY_IDS or (algorithm == "autoencoder" and label == best):
            shown.append((label, row["emd_by_occupancy"]))
    if not shown:
        raise s["rows"].fail(f"has no algorithm at {n} e-links")
    occupancy = shown[0][1]
    edges = [e.integer() for e in occupancy["occupancy_edges"].items()]
    counts = [c.integer() for c in occupancy["n_modules"].items()]
    rows: list[dict[str, Any]] = [
        {"bin": b, "modules": f"{c:,}"} for b, c in zip(_occupancy_bins(edges), counts, strict=True)
    ]
    columns: list[tuple[str, ...]] = [("bin", "TCs ≥ 1 MIP"), ("modules", "modules")]
    for i, (label, occ) in enumerate(shown):
        values = occ["emd_mean_cm"].items()
        if len(values) != len(rows):
            raise occ["emd_mean_cm"].fail(f"has {len(values)} bins, expected {len(rows)}")
        for line, value in zip(rows, values, strict=True):
            line[f"a{i}"] = value.num()
        columns.append((f"a{i}", label, "{:.3f}"))
    caption = f"Mean EMD per input occupancy at {n} e-links"
    figure = ctx.figure(s["outputs"]["emd_vs_occupancy.png"], s["outputs"]["summary.json"],
                        "study_emd_vs_occupancy.png", caption)  # fmt: skip
    text = f"Mean EMD [cm] per input occupancy at {n} e-links:\n\n" + markdown_table(rows, columns)
    return Rendered(ctx.header(_study_counts(s)) + text + "\n" + figure + "\n")


def study_figures(ctx: BlockContext) -> Rendered:
    s = ctx.s
    out, summary = s["outputs"], s["outputs"]["summary.json"]
    emd = ctx.figure(
        out["pareto_emd_mean_cm"], summary, "study_pareto_emd.png", "mean EMD against bits"
    )
    pos = ctx.figure(out["pareto_position_shift_rms_cm"], summary, "study_pareto_position.png",
                     "barycentre shift against bits")  # fmt: skip
    display = ctx.figure(out["event_display.png"], summary, "study_event_display.png",
                         "trigger cells before and after compression")  # fmt: skip
    bandwidth = ctx.figure(out["bandwidth.png"], summary, "study_bandwidth.png", "bandwidth")
    text = (f"| mean EMD against bits per bunch crossing | barycentre shift against bits |\n"
            f"|---|---|\n| {emd} | {pos} |\n\n{display}\n\n{bandwidth}\n")  # fmt: skip
    return Rendered(ctx.header(_study_counts(s)) + text)


def study_bandwidth(ctx: BlockContext) -> Rendered:
    s = ctx.s
    columns = (
        ("algorithm", "algorithm"), ("setting", "setting"), ("statistic", "statistic"),
        ("bits", "bits/BX", "{:.1f}"), ("elinks", "e-links", "{:.0f}"),
        ("rate_gbps_per_module", "Gb/s per module", "{:.2f}"),
        ("rate_tbps_total", "Tb/s in total", "{:.1f}"),
    )  # fmt: skip
    bandwidth = s["bandwidth"]
    rows = [r.pick(columns) for r in bandwidth["rows"].items()]
    modules = bandwidth["modules_in_total_rate"].integer()
    text = f"Totals are for {modules:,} modules.\n\n" + markdown_table(rows, columns)
    return Rendered(ctx.header(_study_counts(s)) + text)


def _merging_counts(s: Doc) -> str:
    test = [r for r in s["neighbours"]["rows"].items() if r["showers"].text() == "all"]
    modules = test[0]["n_modules"].integer() if test else 0
    return (f"preset {s['preset']['name'].text()}, {s['grouping']['n_events'].integer():,} hd8 showers "
            f"for the grouping, {modules:,} test modules for the neighbours")  # fmt: skip


def merging_grouping(ctx: BlockContext) -> Rendered:
    s = ctx.s
    rows = [r.pick(GROUPING_COLUMNS) for r in s["grouping"]["summary"].items()]
    g = s["answers"]["grouping"]
    ratio, bits = g["resolution_3x3_over_2x2"].num(), g["bits_2x2_over_3x3"].num()
    line = (f"3 × 3-cell TCs give {ratio:.2f} times the event barycentre σ of 2 × 2-cell TCs, "
            f"for {1 / bits:.2f} times their bits.\n\n") if ratio and bits else ""  # fmt: skip
    figure = ctx.figure(s["outputs"]["grouping.png"], s["outputs"]["summary.json"],
                        "merging_grouping.png", "cells against 2 × 2 and 3 × 3 TCs")  # fmt: skip
    return Rendered(ctx.header(_merging_counts(s)) + line + markdown_table(rows, GROUPING_COLUMNS)
                    + "\n" + figure + "\n")  # fmt: skip


COMPARISONS = {
    "with_neighbours_minus_alone": "with border TCs − alone",
    "with_neighbours_minus_shuffled_border": "with border TCs − shuffled control",
}


def _difference(d: Doc) -> str:
    mean, error = d["mean_difference"].num(), d["standard_error"].num()
    if mean is None:
        return "–"
    return f"{mean:+.3f} ± {error:.3f}" if error is not None else f"{mean:+.3f}"


def merging_neighbours(ctx: BlockContext) -> Rendered:
    s = ctx.s
    n = s["neighbours"]
    rows = [r.pick(NEIGHBOUR_COLUMNS) for r in n["rows"].items()]
    diffs = []
    for key, title in COMPARISONS.items():
        comparison = n["comparison"][key]
        for showers in comparison.fields():
            c = comparison[showers]
            diffs.append({
                "what": title, "showers": showers, "emd": _difference(c["emd_cm"]),
                "share": c["emd_cm"]["share_better"].num(),
                "event": _difference(c["event_barycentre_shift_mm"]),
            })  # fmt: skip
    columns = (
        ("what", "difference"), ("showers", "showers"), ("emd", "Δ mean EMD [cm]"),
        ("share", "modules with a lower EMD", "{:.2f}"),
        ("event", "Δ event barycentre shift [mm]"),
    )  # fmt: skip
    split = n["split_statistics"]["all"]["split_share_event_layers"].num()
    threshold = n["split_statistics"]["all"]["threshold"].num()
    line = (f"A layer counts as split when its hottest module holds less than {threshold:.0%} of its "
            f"energy: {split:.1%} of the event-layers are split.\n\n") if split is not None and threshold else ""  # fmt: skip
    figure = ctx.figure(s["outputs"]["neighbours.png"], s["outputs"]["summary.json"],
                        "merging_neighbours.png", "module alone against module with neighbours")  # fmt: skip
    text = (markdown_table(rows, NEIGHBOUR_COLUMNS) + "\nDifferences (mean ± standard error; "
            "negative is better):\n\n" + markdown_table(diffs, columns) + "\n" + line + figure + "\n")  # fmt: skip
    return Rendered(ctx.header(_merging_counts(s)) + text)


def readme_study(ctx: BlockContext) -> Rendered:
    s = ctx.s
    lines = [_answer_line(s["smallest_latent_dim_by_shape"], "shape"),
             _answer_line(s["smallest_latent_dim"], "energy")]  # fmt: skip
    by_n: dict[int, list[Doc]] = {}
    for c in s["ae_versus_baselines"].items():
        by_n.setdefault(c["n_elinks"].integer(), []).append(c)
    for n, cs in sorted(by_n.items()):
        ae = cs[0]["emd_ae_cm"].num()
        others = ", ".join(
            f"{c['baseline'].text()} {c['emd_baseline_cm'].number():.3f}" for c in cs
        )
        lines.append(f"- **At {n} e-links** the best AE ({cs[0]['autoencoder'].text()}) has a mean EMD "
                     f"of {ae:.3f} cm; {others} cm.\n")  # fmt: skip
    lines.append(
        f"- Tables, occupancy bins and figures: {ctx.link('study.md', 'docs/study.md')}.\n"
    )
    return Rendered(ctx.header(_study_counts(s)) + "".join(lines))


def readme_merging(ctx: BlockContext) -> Rendered:
    s = ctx.s
    g = s["answers"]["grouping"]
    ratio, bits = g["resolution_3x3_over_2x2"].number(), g["bits_2x2_over_3x3"].number()
    c = s["neighbours"]["comparison"]
    alone = c["with_neighbours_minus_alone"]["all"]["emd_cm"]
    control = c["with_neighbours_minus_shuffled_border"]["all"]["emd_cm"]
    text = (f"- **Grouping:** 3 × 3-cell TCs give {ratio:.2f} times the event barycentre σ of "
            f"2 × 2-cell TCs for {1 / bits:.2f} times the bits.\n"
            f"- **Neighbours:** the border TCs of the six neighbours change the mean EMD by "
            f"{_difference(alone)} cm against the module alone and by {_difference(control)} cm "
            f"against the shuffled-border control. Details: {ctx.link('merging.md', 'docs/merging.md')}.\n")  # fmt: skip
    return Rendered(ctx.header(_merging_counts(s)) + text)
