"""The generated blocks of docs/beamtest.md: the autoencoder on beam-test showers.

``beamtest-results`` renders a ``hgcal-ae beamtest`` run's ``summary.json``
(:func:`hgcal_ae.study.beamtest.beamtest_summary`): the criterion and the answers, the latent
scan of both families (bits per event against the worst energy's quality), and the figures.
``beamtest-bits`` renders the same run's ``bits`` entry
(:func:`hgcal_ae.study.beamtest_bits.bits_summary`): every way of sending an event (latent
scan, bits scan, cluster sums, autoencoders on clusters), bits against quality, the Pareto
fronts; ``beamtest-grouping`` its ``grouping`` entry: cluster sums of 2, 3 or 7 cells against
the cells sent alone.  ``bench-beamtest`` renders ``benchmarks/bench_beamtest.py --json``: training throughput of both
families against the module autoencoder's.
"""

from __future__ import annotations

from typing import Any

from hgcal_ae.study.page_context import BlockContext, Doc, Rendered
from hgcal_ae.study.tables import markdown_table

__all__ = ["beamtest_bits", "beamtest_grouping", "beamtest_results", "bench_beamtest"]


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


_MEASURE_COLUMNS = (
    ("res", "σ/E degraded by [%]", "{:.2f}"),
    ("tmax", "shower-max shift RMS [X0]", "{:.3f}"),
    ("bary", "barycentre shift RMS [mm]", "{:.2f}"),
    ("emd", "cell EMD [cm]", "{:.2f}"),
)
_SHORT = {"resolution_deviation": "σ/E", "shower_max_shift_rms_x0": "shower max",
          "barycentre_shift_rms_mm": "barycentre", "cell_emd_cm": "EMD"}  # fmt: skip


def _point_row(p: Doc, fronts: dict[str, set[str]]) -> dict[str, Any]:
    key = p["key"].text()
    res = p["resolution_deviation"].num()
    return {
        "label": p["label"].text(),
        "bits": p["bits_per_event"].number(),
        "layer": p["bits_per_layer"].number(),
        "res": None if res is None else 100 * res,
        "tmax": p["shower_max_shift_rms_x0"].num(),
        "bary": p["barycentre_shift_rms_mm"].num(),
        "emd": p["cell_emd_cm"].num(),
        "front": ", ".join(_SHORT.get(m, m) for m, keys in fronts.items() if key in keys) or "—",
    }


def beamtest_bits(ctx: BlockContext) -> Rendered:
    """Every way of sending an event: bits against quality, the Pareto fronts (beamtest run)."""
    s = ctx.s
    bits = s["bits"]
    fronts = {m: {k.text() for k in bits["pareto_front"][m].items()}
              for m in bits["pareto_front"].fields()}  # fmt: skip
    rows = sorted((_point_row(p, fronts) for p in bits["points"].items()), key=lambda r: r["bits"])
    scan = [b.integer() for b in bits["bits_scan"].items()]
    dims = [d.integer() for d in bits["bits_scan_latent_dims"].items()]
    extra = [m for m in s["extra_models"].items() if m["group_size"].integer() == 1]
    seconds = sum(m["training"]["seconds"].number() for m in extra)
    scanned = (
        f"bits scan (`--bits-scan {','.join(map(str, scan))} --bits-scan-dims "
        f"{','.join(map(str, dims))}`): {len(extra)} trainings, {seconds:.0f} s of training"
        if scan else "no bits scan"
    )  # fmt: skip
    counts = f"{len(rows)} ways of sending an event; {scanned}"
    table = markdown_table(rows, (
        ("label", "sent as"), ("bits", "bits per event", "{:.0f}"),
        ("layer", "bits per layer", "{:.1f}"), *_MEASURE_COLUMNS, ("front", "on the Pareto front of"),
    ))  # fmt: skip
    out = s["outputs"]
    figure = ctx.figure(out["bits_pareto"], out["summary"], "beamtest_bits_pareto.png",
                        "bits per event and per layer against quality, Pareto fronts")  # fmt: skip
    text = (table + "\nQuality columns are the worst beam energy's value; bits per layer are "
            "bits per event / 28.\n\n" + figure + "\n")  # fmt: skip
    return Rendered(ctx.header(counts) + text)


def beamtest_grouping(ctx: BlockContext) -> Rendered:
    """Neighbour-cell sums (2, 3, 7 cells) against the cells sent alone (beamtest run)."""
    s = ctx.s
    g = s["grouping"]
    clusters = []
    for size in g["sizes"].items():
        c = g["clusters"][str(size.integer())]
        counts = c["group_counts"].items()
        sizes = ", ".join(f"{n.integer()} × {k}" for k, n in enumerate(counts) if n.integer())
        clusters.append({"k": size.integer(), "n": c["n_groups"].integer(), "sizes": sizes,
                         "a": c["address_bits"].integer()})  # fmt: skip
    fronts = {m: {k.text() for k in s["bits"]["pareto_front"][m].items()}
              for m in s["bits"]["pareto_front"].fields()}  # fmt: skip
    grouped = g["autoencoders"].items()
    same = {(p["family"].text(), p["latent_dim"].integer(), p["latent_bits"].integer())
            for p in grouped}  # fmt: skip
    alone = [p for p in g["cells_alone"].items()
             if (p["family"].text(), p["latent_dim"].integer(), p["latent_bits"].integer()) in same]  # fmt: skip
    rows = [_point_row(p, fronts) for p in (*g["direct"].items(), *grouped, *alone)]
    value_bits = g["value_bits"].integer()
    config = s["config"]
    sizes = ",".join(str(k.integer()) for k in config["group_ae_sizes"].items()) or "none"
    dims = ",".join(str(d.integer()) for d in config["group_ae_dims"].items())
    trained = (f"{len(grouped)} autoencoders on clustered cells (`--group-ae-sizes {sizes} "
               f"--group-ae-dims {dims}`), beside the same autoencoders on the cells alone"
               if grouped else "no autoencoder on clustered cells (`--group-ae-sizes none`)")  # fmt: skip
    counts_line = (f"cluster sums of {', '.join(str(c['k']) for c in clusters)} cells sent directly "
                   f"in {g['direct_seconds'].number():.0f} s; {trained}")  # fmt: skip
    text = (
        markdown_table(clusters, (("k", "cells per cluster"), ("n", "groups on the sensor"),
                                  ("sizes", "groups × cells"), ("a", "address bits")))
        + f"\nA sent cluster costs its address and a {value_bits}-bit sum.\n\n"
        + markdown_table(rows, (("label", "sent as"), ("bits", "bits per event", "{:.0f}"),
                                *_MEASURE_COLUMNS, ("front", "on the Pareto front of")))
        + "\nQuality columns are the worst beam energy's value.\n\n"
        + ctx.figure(s["outputs"]["grouping"], s["outputs"]["summary"], "beamtest_grouping.png",
                     "cluster sums against the cells sent alone")
        + "\n"
    )  # fmt: skip
    return Rendered(ctx.header(counts_line) + text)


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
