"""The generated blocks of docs/beamtest.md: the autoencoder on beam-test showers.

``beamtest-results`` renders a ``hgcal-ae beamtest`` run's ``summary.json``
(:func:`hgcal_ae.study.beamtest.beamtest_summary`): the criterion and the answers, the latent
scan of both families (bits per event against the worst energy's quality), and the figures.
``bench-beamtest`` renders ``benchmarks/bench_beamtest.py --json``: training throughput of both
families against the module autoencoder's.
"""

from __future__ import annotations

from typing import Any

from hgcal_ae.study.page_context import BlockContext, Doc, Rendered
from hgcal_ae.study.tables import markdown_table

__all__ = ["beamtest_results", "bench_beamtest"]


def _counts(s: Doc) -> str:
    e = s["events"]
    energies = ", ".join(f"{x.number():g}" for x in e["energies_gev"].items())
    return (
        f"{e['n_events'].integer():,} events at {energies} GeV, split by event into "
        f"{e['n_train'].integer():,} training, {e['n_validation'].integer():,} validation and "
        f"{e['n_test'].integer():,} test events; source {s['source']['kind'].text()}"
    )


def _answer(family: str, a: Doc) -> dict[str, Any]:
    dim = a["smallest_latent_dim"].num()
    if dim is not None:
        return {"f": family, "d": f"{dim:g}", "b": a["bits_per_event"].number(), "w": "—"}
    b = a["breaks"]
    where = (
        f"at latent {b['latent_dim'].integer()}: σ/E degraded by {100 * b['resolution_deviation'].number():.1f} %, "
        f"shower max {b['shower_max_shift_rms_x0'].number():.2f} X0, "
        f"barycentre {b['barycentre_shift_rms_mm'].number():.2f} mm (RMS)"
    )
    return {"f": family, "d": "none of those scanned", "b": None, "w": where}


def _scan_row(m: Doc) -> dict[str, Any]:
    w = m["worst"]
    points = m["quality"]["points"].items()
    emd = [p["cell_emd_mean_cm"].num() for p in points]
    emd_known = [x for x in emd if x is not None]
    return {
        "f": m["family"].text().replace("_", " "),
        "d": m["latent_dim"].integer(),
        "bits": m["bits_per_event"].number(),
        "res": 100 * w["resolution_deviation"].number(),
        "tmax": w["shower_max_shift_rms_x0"].number(),
        "bary": w["barycentre_shift_rms_mm"].number(),
        "emd": max(emd_known) if emd_known else None,
        "ok": "yes" if m["meets_criterion"].flag() else "no",
        "s": m["training"]["seconds"].number(),
    }


def beamtest_results(ctx: BlockContext) -> Rendered:
    """Answers, scan table and figures of a beam-test run."""
    s = ctx.s
    answers = s["answers"]
    families = [f.text() for f in s["config"]["families"].items()]
    answer_rows = [_answer(f.replace("_", " "), answers[f]) for f in families]
    scan = sorted((_scan_row(m) for m in s["models"].items()), key=lambda r: (r["f"], r["d"]))
    out, summary = s["outputs"], s["outputs"]["summary"]
    figures = [ctx.figure(out["pareto"], summary, "beamtest_pareto.png", "bits against quality")]
    for f in families:
        figures.append(ctx.figure(out[f"profiles_{f}"], summary, f"beamtest_profiles_{f}.png",
                                  f"longitudinal profiles, {f.replace('_', ' ')}"))  # fmt: skip
        figures.append(ctx.figure(out[f"event_display_{f}"], summary,
                                  f"beamtest_event_display_{f}.png",
                                  f"original against decoded, {f.replace('_', ' ')}"))  # fmt: skip
    text = (
        f"**Criterion:** {answers['criterion'].text()}.\n\n"
        + markdown_table(answer_rows, (("f", "family"), ("d", "smallest latent dim"),
                                       ("b", "bits per event", "{:.0f}"), ("w", "where it breaks")))
        + "\n"
        + markdown_table(scan, (
            ("f", "family"), ("d", "latent dim"), ("bits", "bits per event", "{:.0f}"),
            ("res", "σ/E degraded by [%]", "{:.2f}"), ("tmax", "shower-max shift RMS [X0]", "{:.3f}"),
            ("bary", "barycentre shift RMS [mm]", "{:.2f}"), ("emd", "cell EMD [cm]", "{:.2f}"),
            ("ok", "meets"), ("s", "training [s]", "{:.0f}"),
        ))
        + "\nQuality columns are the worst beam energy's value.\n\n"
        + "\n\n".join(figures)
        + "\n"
    )  # fmt: skip
    return Rendered(ctx.header(_counts(s)) + text)


def bench_beamtest(ctx: BlockContext) -> Rendered:
    """Training throughput of the beam-test AEs against the module AE (benchmarks/bench_beamtest.py)."""
    s = ctx.s
    fam, module = s["families"], s["module_ae"]
    rows = [
        {"what": f"{f.replace('_', ' ')} AE training [showers/s]",
         "value": f"{fam[f]['events_per_s'].number():,.0f}",
         "ratio": f"{s['modules_per_shower'][f].number():.1f}"}
        for f in fam.fields()
    ]  # fmt: skip
    rows.append({"what": "module AE training [modules/s]",
                 "value": f"{module['modules_per_s'].number():,.0f}", "ratio": "1"})  # fmt: skip
    counts = (f"{s['train_showers'].integer():,} training showers, {module['modules'].integer():,} "
              f"modules, one torch thread, {s['cpu_count'].integer()} CPU cores")  # fmt: skip
    table = markdown_table(rows, (("what", "measure"), ("value", "result"),
                                  ("ratio", "module-AE modules in the time of one shower")))  # fmt: skip
    return Rendered(ctx.header(counts) + table)
