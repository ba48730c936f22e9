"""The docs' blocks of the ``pu200`` study and of ``hgcal-ae compare``, from their summary.json.

* ``study-pu200``: the ``pu200`` study's occupancy beside the published statistics, and its
  baselines and best AE at each e-link setting, with the occupancy figure;
* ``study-compare-pu200`` / ``hardware-quantisation``: every baseline and each AE variant (mean ± std over
  training seeds) at each e-link setting, the goals, and the figures.
"""

from __future__ import annotations

from typing import Any

from hgcal_ae.study.comparison import high_occupancy_emd
from hgcal_ae.study.page_context import BlockContext, Doc, Rendered, yes_no
from hgcal_ae.study.page_studies import ALGORITHM_COLUMNS, _algorithm_rows, _study_counts
from hgcal_ae.study.tables import markdown_table

__all__ = ["compare_pu200", "compare_qw", "readme_compare", "study_emd_schedule", "study_pu200"]

_STATISTICS = (
    ("above_1_mip_t", "TCs > 1 MIP_T per module"),
    ("non_zero", "non-zero TCs per module"),
)


def study_pu200(ctx: BlockContext) -> Rendered:
    s = ctx.s
    validation = s["occupancy_validation"]
    data, published = validation["data set"]["measured"], validation["data set"]["published"]
    alone = validation["pile-up alone"]["measured"]
    rows: list[dict[str, Any]] = []
    for key, what in _STATISTICS:
        for stat in ("median", "p16", "p84", "mean", "std"):
            rows.append({"what": f"{what}, {stat}", "published": published[key][stat].number(),
                         "alone": alone[key][stat].number(), "data": data[key][stat].number()})  # fmt: skip
    for band in published["spectrum_slope"].fields():
        rows.append({"what": f"charge spectrum slope, {band}",
                     "published": published["spectrum_slope"][band].number(),
                     "alone": alone["spectrum_slope"][band].number(),
                     "data": data["spectrum_slope"][band].number()})  # fmt: skip
    columns = (("what", "statistic"), ("published", "published (econt.md §11)", "{:.2f}"),
               ("alone", "pile-up alone", "{:.2f}"), ("data", "data set (showers + pile-up)", "{:.2f}"))  # fmt: skip
    figure = ctx.figure(s["outputs"]["occupancy_pu200.png"], s["outputs"]["summary.json"],
                        "study_occupancy_pu200.png", "pu200 occupancy against the published")  # fmt: skip
    text = (
        markdown_table(rows, columns) + "\n" + figure + "\n\n"
        "The baselines and the best AE of the grid (lowest mean EMD; one training seed) on the "
        "same test modules:\n\n" + markdown_table(_algorithm_rows(s), ALGORITHM_COLUMNS)
    )
    return Rendered(ctx.header(_study_counts(s)) + text)


def _pm(spread: Doc) -> str:
    mean, std = spread["mean"].num(), spread["std"].num()
    return "–" if mean is None else f"{mean:.3f} ± {(std or 0.0):.3f}"


def _high(row: Doc) -> float | None:
    """:func:`~hgcal_ae.study.comparison.high_occupancy_emd` of a summary row, its fields
    read through ``row`` (a missing one names the file and the field)."""
    occ = row["emd_by_occupancy"]
    for key in ("occupancy_edges", "n_modules", "emd_mean_cm"):
        occ[key].items()
    if 10 not in occ["occupancy_edges"].value:
        raise occ["occupancy_edges"].fail("has no bin starting at 10 TCs")
    return high_occupancy_emd(row.value)[0]


def _num(value: float | None, fmt: str = "{:.3f}") -> str:
    return "–" if value is None else fmt.format(value)


def _compare(ctx: BlockContext, prefix: str) -> Rendered:
    s = ctx.s
    lines = ["| e-links | algorithm | bits | mean EMD [cm] | EMD, ≥ 10 TCs [cm] | σ_E/E ÷ all TCs |",
             "|---:|---|---:|---:|---:|---:|"]  # fmt: skip
    baselines, aes = s["baselines"].items(), s["autoencoders"].items()
    for n in sorted({r["n_elinks"].integer() for r in (*baselines, *aes)}):
        for b in (b for b in baselines if b["n_elinks"].integer() == n):
            if b["algorithm"].text() not in ("best_choice", "stc_2x2", "stc_4x4", "threshold_sum"):
                continue
            lines.append(f"| {n} | {b['label'].text()} | {b['bits'].number():.1f} | "
                         f"{_num(b['emd_mean_cm'].num())} | {_num(_high(b))} | "
                         f"{_num(b['resolution_ratio_mean'].num(), '{:.2f}')} |")  # fmt: skip
        for r in (r for r in aes if r["n_elinks"].integer() == n):
            code = f"{r['latent_dim'].integer()}×{r['latent_bits'].integer()}"
            lines.append(f"| {n} | **{r['label'].text()} {code}** | {r['bits'].number():.1f} | "
                         f"{_pm(r['emd_mean_cm_seeds'])} | {_pm(r['emd_high_occupancy_cm_seeds'])} | "
                         f"{_num(r['resolution_ratio_mean'].num(), '{:.2f}')} |")  # fmt: skip
    goals = s["goals"]
    notes = []
    for g in goals["emd_loss_gain"]["rows"].items():
        notes.append(f"- Exact EMD against telescope ({g['telescope'].text()} → {g['exact_emd'].text()}, "
                     f"{g['n_elinks'].integer()} e-links): mean EMD {g['emd_telescope_cm'].number():.3f} → "
                     f"{g['emd_exact_emd_cm'].number():.3f} cm, {100 * g['gain'].number():.1f} % lower "
                     f"(goal ≥ 30 %: {yes_no(g['met'].flag())}).")  # fmt: skip
    high = goals["high_occupancy"]["result"]
    if high.value is not None:
        notes.append(f"- Modules with ≥ 10 TCs ≥ 1 MIP_T at 2 e-links ({high['n_modules'].integer():,}): "
                     f"the best AE ({high['best_label'].text()}) {high['emd_ae_cm'].number():.3f} ± "
                     f"{high['emd_ae_std_cm'].number():.3f} cm, Best Choice {high['emd_best_choice_cm'].number():.3f} cm "
                     f"(goal: AE ≤ Best Choice: {yes_no(high['met'].flag())}).")  # fmt: skip
    out, summary = s["outputs"], s["outputs"]["summary.json"]
    figures = [ctx.figure(out["emd_vs_occupancy.png"], summary, f"{prefix}_emd_vs_occupancy.png",
                          "mean EMD per occupancy bin")]  # fmt: skip
    if out.has("emd_vs_eta.png"):
        figures.append(ctx.figure(out["emd_vs_eta.png"], summary, f"{prefix}_emd_vs_eta.png",
                                  "mean EMD per |η| bin"))  # fmt: skip
    figures.append(ctx.figure(out["cluster_resolution.png"], summary,
                              f"{prefix}_cluster_resolution.png", "cluster resolutions"))  # fmt: skip
    seeds = ", ".join(str(v.integer()) for v in s["seeds"].items())
    counts = (f"preset {s['preset']['name'].text()}, occupancy {s['occupancy'].text()}, "
              f"{s['n_test_modules'].integer():,} test modules, training seeds {seeds}")  # fmt: skip
    text = "\n".join(lines) + "\n\n" + "\n".join(notes) + "\n\n" + "\n\n".join(figures) + "\n"
    return Rendered(ctx.header(counts) + text)


def compare_pu200(ctx: BlockContext) -> Rendered:
    return _compare(ctx, "compare_pu200")


def compare_qw(ctx: BlockContext) -> Rendered:
    return _compare(ctx, "compare_qw")


def readme_compare(ctx: BlockContext) -> Rendered:
    """The README's lines on the AE variants under ``pu200``: at the fewest e-links, the best
    variant beside Best Choice and STC 2×2, in all modules and in high-occupancy ones."""
    s = ctx.s
    aes = s["autoencoders"].items()
    n = min(r["n_elinks"].integer() for r in aes)
    at_n = [r for r in aes if r["n_elinks"].integer() == n]
    best = min(at_n, key=lambda r: r["emd_mean_cm"].number())
    base = {b["label"].text(): b for b in s["baselines"].items()
            if b["n_elinks"].integer() == n and b["algorithm"].text() in ("best_choice", "stc_2x2")}  # fmt: skip
    others = ", ".join(f"{label} {b['emd_mean_cm'].number():.3f} ({_num(_high(b))})"
                       for label, b in base.items())  # fmt: skip
    gains = [g["gain"].number() for g in s["goals"]["emd_loss_gain"]["rows"].items()]
    high = s["goals"]["high_occupancy"]
    seeds = len(s["seeds"].items())
    lines = [
        f"- **Under 200-pile-up-like occupancy, {n} e-links ({seeds} training seeds):** the best AE "
        f"({best['label'].text()} {best['latent_dim'].integer()}×{best['latent_bits'].integer()}) "
        f"has a mean EMD of {_pm(best['emd_mean_cm_seeds'])} cm "
        f"({_pm(best['emd_high_occupancy_cm_seeds'])} cm in modules with ≥ 10 TCs ≥ 1 MIP_T); "
        f"{others} cm.",
        f"- **AE at most Best Choice in high-occupancy modules:** "
        f"{yes_no(high['met'].flag()) if high['result'].value is not None else 'not measured'}. "
        + (f"**Exact-EMD fine-tuning** lowers the mean EMD by {100 * min(gains):.0f}–"
           f"{100 * max(gains):.0f} % (goal ≥ 30 %). " if gains else "")
        + f"Details: {ctx.link('study.md#the-ae-variants-over-training-seeds-hgcal-ae-compare', 'docs/study.md')}.",
    ]  # fmt: skip
    counts = (f"preset {s['preset']['name'].text()}, occupancy {s['occupancy'].text()}, "
              f"{s['n_test_modules'].integer():,} test modules")  # fmt: skip
    return Rendered(ctx.header(counts) + "\n".join(lines) + "\n")


def study_emd_schedule(ctx: BlockContext) -> Rendered:
    """The exact-EMD schedules of benchmarks/probe_emd_schedule.py: each run's mean shape EMD
    (decoder output, no zero suppression), the study's EMD and seconds per epoch."""
    s = ctx.s
    rows = [{"run": r["run"].text(), "shape": r["shape_emd_cm"].number(),
             "study": r["study_emd_cm"].number(), "sec": r["seconds_per_epoch"].number()}
            for r in s["runs"].items()]  # fmt: skip
    columns = (("run", "schedule"), ("shape", "shape EMD [cm]", "{:.3f}"),
               ("study", "study's EMD [cm]", "{:.3f}"), ("sec", "s/epoch", "{:.2f}"))  # fmt: skip
    latent = "×".join(str(v.integer()) for v in s["latent"].items())
    counts = (f"{latent}-bit AE, {s['n_train_modules'].integer():,} training and "
              f"{s['n_test_modules'].integer():,} test modules of the default preset, one seed")  # fmt: skip
    return Rendered(ctx.header(counts) + markdown_table(rows, columns))
