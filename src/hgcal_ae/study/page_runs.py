"""The docs' blocks of the MNIST, simulation-validation, CUDA-check and benchmark runs.

One renderer per block (see :mod:`hgcal_ae.study.page_context`), each from the summary.json
(or the benchmark script's ``--json`` file) of its run.
"""

from __future__ import annotations

from hgcal_ae.metrics.validation import VALIDATION_TARGETS
from hgcal_ae.study.page_context import BlockContext, Doc, Rendered, yes_no
from hgcal_ae.study.tables import markdown_table

__all__ = [
    "bench_emd",
    "bench_emd_loss",
    "bench_mnist_workflow",
    "bench_simulation",
    "bench_study",
    "cuda_check",
    "mnist_example",
    "mnist_scan",
    "readme_mnist",
    "readme_simulation",
    "simulation_validation",
    "study_full_cost",
]


def _mnist_counts(s: Doc) -> str:
    p = s["parameters"]
    return (f"{p['dataset'].text()}, {p['arch'].text()} AE, latent dim {p['latent_dim'].integer()}, "
            f"{p['epochs'].integer()} epochs, {s['data']['train_used'].integer():,} training images")  # fmt: skip


def mnist_example(ctx: BlockContext) -> Rendered:
    s = ctx.s
    p, final, out = s["parameters"], s["final"], s["outputs"]
    loss = p["loss"].text()
    rows = [{"what": f"{name} {loss.upper()} per pixel", "value": f"{final[f'{key}_{loss}_per_pixel'].number():.4f}"}
            for name, key in (("training", "train"), ("validation", "val"), ("test", "test"))]  # fmt: skip
    rows.append(
        {"what": "training time [s]", "value": f"{s['wall_time_s']['training'].number():.1f}"}
    )
    table = markdown_table(
        rows, (("what", f"after epoch {final['epoch'].integer()}"), ("value", "value"))
    )
    summary = out["summary"]
    grids = out["reconstructions"].items()
    if not grids:
        raise out["reconstructions"].fail("is empty, expected the per-epoch pictures")
    dim, epochs = p["latent_dim"].integer(), p["epochs"].integer()
    last = ctx.figure(grids[-1], summary, "mnist_reconstructions.png",
                      f"validation digits and their reconstructions after {epochs} epochs")  # fmt: skip
    gif = ctx.figure(out["animation"], summary, "mnist_training.gif", "one frame per epoch")
    cost = ctx.figure(out["cost_curve"], summary, "mnist_cost.png", "loss against epoch")
    latent = ctx.figure(out["latent_space"], summary, "mnist_latent_space.png",
                        f"PCA of the {dim}-d codes")  # fmt: skip
    text = (f"{table}\n{last}\n\n| training (one frame per epoch) | cost curve | latent space |\n"
            f"|---|---|---|\n| {gif} | {cost} | {latent} |\n")  # fmt: skip
    return Rendered(ctx.header(_mnist_counts(s) + f", device {s['device'].text()}") + text)


def _scan(s: Doc) -> tuple[str, list[str], list[int], dict[tuple[str, int], float | None]]:
    loss = s["parameters"]["loss"].text() if s["parameters"].has("loss") else "bce"
    values: dict[tuple[str, int], float | None] = {}
    for row in s["table"].items():
        values[(row["arch"].text(), row["latent_dim"].integer())] = row[
            f"val_{loss}_per_pixel"
        ].num()
    archs = list(dict.fromkeys(a for a, _ in values))
    dims = sorted({d for _, d in values})
    return loss, archs, dims, values


def _smallest(s: Doc, arch: str) -> str:
    answer = s["smallest_latent_dim"][arch]
    return "none" if answer.value is None else str(answer.integer())


def mnist_scan(ctx: BlockContext) -> Rendered:
    s = ctx.s
    loss, archs, dims, values = _scan(s)
    rows = [{"arch": a, **{str(d): values.get((a, d)) for d in dims}} for a in archs]
    columns = [("arch", "latent dim"), *((str(d), str(d), "{:.4f}") for d in dims)]
    answers = "".join(f"- {a}: smallest latent dim **{_smallest(s, a)}**\n" for a in archs)
    figure = ctx.figure(s["outputs"]["plot"], s["outputs"]["summary"], "mnist_latent_scan.png",
                        "validation loss against latent dim")  # fmt: skip
    text = (f"Validation {loss.upper()} per pixel:\n\n{markdown_table(rows, columns)}\n"
            f"Criterion: {s['criterion'].text()}.\n\n{answers}\n{figure}\n")  # fmt: skip
    return Rendered(ctx.header(f"{len(values)} trainings") + text)


def _fit(s: Doc, fit: str, name: str, scale: float = 1.0, digits: int = 1) -> str:
    value = s[fit]["values"][name].number() * scale
    error = s[fit]["errors"][name].number() * scale
    return f"{value:.{digits}f} ± {error:.{digits}f}"


def _validation_counts(s: Doc) -> str:
    p = s["parameters"]
    return (f"{p['particle'].text()}, {p['events'].integer():,} showers at each of "
            f"{len(p['energies'].items())} energies, geometry {p['geometry'].text()}")  # fmt: skip


def simulation_validation(ctx: BlockContext) -> Rendered:
    s = ctx.s
    points = s["points"].items()
    r90 = [p["r90_mean_cm"].number() for p in points]
    t = {key: target.text() for key, target in VALIDATION_TARGETS.items()}
    results = [
        {"q": "stochastic term S [%·√GeV]", "r": _fit(s, "resolution_fit", "S", 100), "t": t["S"]},
        {"q": "constant term C [%]", "r": _fit(s, "resolution_fit", "C", 100, 2), "t": t["C"]},
        {"q": "linearity, largest residual [%]",
         "r": f"{100 * s['max_abs_linearity_residual'].number():.2f}", "t": t["linearity"]},
        {"q": "shower maximum against ln E, slope [X0]",
         "r": _fit(s, "shower_max_fit", "slope", 1.0, 3), "t": t["slope"]},
        {"q": "90 % containment radius [cm]", "r": f"{min(r90):.2f}–{max(r90):.2f}", "t": t["r90"]},
    ]  # fmt: skip
    energies = [{
        "e": p["beam_energy_gev"].number(), "n": p["n_events"].integer(), "rel": 100 * p["rel_sigma"].number(),
        "resp": p["reco_mean_gev"].number() / p["beam_energy_gev"].number(), "tmax": p["t_max_x0"].num(),
        "r90": p["r90_mean_cm"].num(), "hits": p["hits_mean"].num(),
    } for p in points]  # fmt: skip
    energy_columns = (
        ("e", "E [GeV]", "{:g}"), ("n", "showers"), ("rel", "σ/E [%]", "{:.2f}"),
        ("resp", "E_reco / E", "{:.3f}"), ("tmax", "t_max [X0]", "{:.2f}"),
        ("r90", "r90 [cm]", "{:.2f}"), ("hits", "hits", "{:.0f}"),
    )  # fmt: skip
    out, summary = s["outputs"], s["outputs"]["summary"]
    top = max(p["beam_energy_gev"].number() for p in points)
    names = {"resolution": "resolution", "linearity": "linearity",
             "longitudinal_profiles": "longitudinal profiles", "shower_max": "shower maximum",
             "containment": "containment"}  # fmt: skip
    figs = [ctx.figure(out[k], summary, f"sim_{k}.png", caption) for k, caption in names.items()]
    display = ctx.figure(out[f"display_{top:g}"], summary, "sim_event_display.png",
                         f"a {top:g} GeV shower in the 28 layers")  # fmt: skip
    text = (markdown_table(results, (("q", "quantity"), ("r", "result"), ("t", "target")))
            + "\n" + markdown_table(energies, energy_columns)
            + "\n| " + " | ".join(figs[:3]) + " |\n|---|---|---|\n| " + " | ".join(figs[3:]) + " | |\n\n"
            + display + "\n")  # fmt: skip
    return Rendered(ctx.header(_validation_counts(s)) + text)


def cuda_check(ctx: BlockContext) -> Rendered:
    s = ctx.s
    rows = []
    for key, what in (("mnist_dense", "MNIST dense AE, latent 32"),
                      ("mnist_conv", "MNIST conv AE, latent 32"),
                      ("module_ae", "module AE, telescope loss")):  # fmt: skip
        c = s[key]
        rows.append({
            "what": what, "max": c["max_rel_diff"].num(), "first": c["first_epoch_rel_diff"].num(),
            "cpu": c["s_per_epoch_cpu"].num(), "cuda": c["s_per_epoch_cuda"].num(), "agree": yes_no(c["agree"].flag()),
        })  # fmt: skip
    columns = (
        ("what", "training"), ("max", "largest relative difference of the validation loss", "{:.1e}"),
        ("first", "first epoch", "{:.1e}"), ("cpu", "s/epoch CPU", "{:.2f}"),
        ("cuda", "s/epoch CUDA", "{:.2f}"), ("agree", "agree"),
    )  # fmt: skip
    m = s["module_ae"]
    cross = s["checkpoint_across_devices"]
    lines = [f"- decoded module AE validation modules: mean EMD {m['mean_emd_cpu_cm'].number():.3f} cm "
             f"(CPU), {m['mean_emd_cuda_cm'].number():.3f} cm (CUDA)\n"]  # fmt: skip
    for key in cross.fields():
        c = cross[key]
        lines.append(f"- checkpoint {key.rsplit('_', 1)[0].replace('_then_', ' → ')}: resumed after "
                     f"epoch {c['resumed_from'].integer()}, final loss within {c['rel_diff'].number():.1e} "
                     "of an uninterrupted run\n")  # fmt: skip
    verdict = f"- all comparisons agree: **{yes_no(s['all_agree'].flag())}**\n"
    counts = f"{s['device'].text()}, torch {s['torch'].text()}, {s['epochs'].integer()} epochs"
    return Rendered(
        ctx.header(counts) + markdown_table(rows, columns) + "\n" + "".join(lines) + verdict
    )


def _bench_counts(s: Doc) -> str:
    return f"{s['cpu_count'].integer()} CPU cores"


def bench_emd(ctx: BlockContext) -> Rendered:
    s = ctx.s
    columns = (
        ("name", "case"), ("pot", "POT loop [modules/s]", "{:,.0f}"),
        ("parallel", "emd() [modules/s]", "{:,.0f}"), ("serial", "emd() one thread [modules/s]", "{:,.0f}"),
        ("speedup", "speed-up", "{:.1f}×"), ("speedup_serial", "one thread", "{:.1f}×"),
        ("max_abs_diff", "largest difference to POT", "{:.1e}"),
    )  # fmt: skip
    rows = [c.pick(columns) for c in s["cases"].items()]
    goals = s["goals"]
    line = (f"Goals: ≥ {goals['speedup'].number():g}× with values equal to "
            f"{goals['max_abs_diff'].number():g}: **{'met' if s['goals_met'].flag() else 'not met'}**. "
            f"First calls (numba compile, {s['cache'].text()}): "
            f"{s['first_calls']['parallel_s'].number():.1f} s parallel, "
            f"{s['first_calls']['serial_s'].number():.1f} s one thread.\n")  # fmt: skip
    counts = (
        f"{s['modules'].integer():,} modules, {s['numba_threads'].integer()} numba threads, "
        + _bench_counts(s)
    )
    return Rendered(ctx.header(counts) + markdown_table(rows, columns) + "\n" + line)


def bench_simulation(ctx: BlockContext) -> Rendered:
    s = ctx.s
    sp = s["speed"]
    rows = [
        {"m": f"{sp['energy_gev'].number():g} GeV showers to digitised cells [showers/s]",
         "v": f"{sp['showers_per_s'].number():,.0f}"},
        {"m": "silicon crossings / hits per shower",
         "v": f"{sp['crossings_per_shower'].number():,.0f} / {sp['hits_per_shower'].number():,.0f}"},
        {"m": f"time ÷ drawing the crossings' random numbers (goal ≤ {sp['goal_ratio'].number():g}×)",
         "v": f"{sp['ratio_to_floor'].number():.1f}×"},
        {"m": "time ÷ GFlash's spot loop (4 float64 uniforms per spot)",
         "v": f"{sp['ratio_to_gflash_floor'].number():.1f}×"},
    ]  # fmt: skip
    if s.has("memory"):
        for m in s["memory"]["runs"].items():
            rows.append({"m": f"peak memory streaming {m['events'].integer():,} events "
                              f"({m['hits'].integer():,} hits, {m['file_mb'].number():.0f} MB file) [MB]",
                         "v": f"{m['peak_rss_mb'].number():.0f}"})  # fmt: skip
        rows.append(
            {"m": "peak memory ratio (flat = 1)", "v": f"{s['memory']['ratio'].number():.2f}"}
        )
    counts = f"{sp['showers'].integer():,} showers, one core, " + _bench_counts(s)
    return Rendered(ctx.header(counts) + markdown_table(rows, (("m", "measure"), ("v", "result"))))


def bench_mnist_workflow(ctx: BlockContext) -> Rendered:
    s = ctx.s
    rows = []
    for key, what in (("per_epoch", "one epoch (training + validation loss)"),
                      ("end_to_end", "end to end, with every picture, GIF, test loss, summary")):  # fmt: skip
        m = s[key]
        rows.append({"what": what, "bare": m["bare_s"].num(), "workflow": m["workflow_s"].num(),
                     "ratio": m["ratio"].num()})  # fmt: skip
    columns = (("what", "measure"), ("bare", "bare PyTorch loop [s]", "{:.2f}"),
               ("workflow", "luigi workflow [s]", "{:.2f}"), ("ratio", "ratio", "{:.3f}"))  # fmt: skip
    goal = f"Goal for one epoch: ratio ≤ {s['per_epoch']['goal_ratio'].number():.2f}.\n"
    counts = (f"{s['arch'].text()} AE, {s['epochs'].integer()} epochs × {s['repeats'].integer()} repeats, "
              f"{s['torch_threads'].integer()} torch threads, " + _bench_counts(s))  # fmt: skip
    return Rendered(ctx.header(counts) + markdown_table(rows, columns) + "\n" + goal)


def bench_law(ctx: BlockContext) -> Rendered:
    """law's local workflow against the plain luigi run of the smoke study (bench_law.py)."""
    s = ctx.s
    rows = []
    for kind, what in (("plain", "plain luigi tasks"), ("law", "`--workflow local` (law)")):
        runs = [t.number() for t in s["seconds"][kind].items()]
        each = ", ".join(f"{t:.1f}" for t in runs)
        rows.append({"what": what, "each": each, "seconds": sum(runs) / len(runs)})
    columns = (("what", "smoke study: grid, evaluation, report"), ("each", "each run [s]"),
               ("seconds", "mean [s]", "{:.1f}"))  # fmt: skip
    ratio, goal = s["ratio"].number(), s["goal"].number()
    verdict = "met" if s["met"].flag() else f"missed by {100 * (ratio - goal):.0f} points"
    line = f"law / plain = {ratio:.3f}; goal ≤ {goal:.2f}: {verdict}.\n"
    counts = _bench_counts(s)
    if s.has("load_average"):  # other jobs on the machine make single pairs noisy
        before, after = (v.number() for v in s["load_average"].items())
        counts += f", load average {before:.1f} before and {after:.1f} after"
    return Rendered(ctx.header(counts) + markdown_table(rows, columns) + "\n" + line)


def bench_grid_training(ctx: BlockContext) -> Rendered:
    """The study's grid trained as one vectorised model against one AE at a time
    (bench_grid_training.py)."""
    s = ctx.s
    rows = []
    for kind, what in (("one_at_a_time", "one AE at a time (`TrainModuleAE`)"),
                       ("grid", "the grid together (`--grid-chunk`)")):  # fmt: skip
        each = ", ".join(f"{t.number():.1f}" for t in s["seconds"][kind].items())
        rows.append({"what": what, "each": each, "rate": s["passes_per_s"][kind].number(),
                     "gflops": s["gflops"][kind].number()})  # fmt: skip
    columns = (("what", "training"), ("each", "each run [s]"),
               ("rate", "module-passes/s", "{:,.0f}"), ("gflops", "GFLOP/s", "{:.2f}"))  # fmt: skip
    ratio, goal = s["ratio"].number(), s["goal"].number()
    verdict = "met" if s["met"].flag() else f"missed by {goal - ratio:.2f}"
    flops, peak = s["flops_per_pass"].number(), s["matmul_gflops"].number()
    line = (f"together / one at a time = {ratio:.2f}×; goal ≥ {goal:g}×: {verdict}. The model "
            f"costs {flops / 1e3:,.0f} kFLOP per module-pass (forward and backward); a large "
            f"float32 matrix product reaches {peak:.1f} GFLOP/s on the same threads.\n")  # fmt: skip
    before, after = (v.number() for v in s["load_average"].items())
    counts = (f"default grid, {s['members'].integer()} AEs, {s['train_modules'].integer():,} "
              f"modules, {s['epochs'].integer()} epoch(s), {s['torch_threads'].integer()} torch "
              f"thread(s), {_bench_counts(s)}, load average {before:.1f} before and "
              f"{after:.1f} after")  # fmt: skip
    return Rendered(ctx.header(counts) + markdown_table(rows, columns) + "\n" + line)


def study_full_cost(ctx: BlockContext) -> Rendered:
    """The ``full`` preset's study end to end at reduced epochs, part by part, and its
    training projected to the preset's epochs (probe_full_preset.py)."""
    s = ctx.s
    rows = []
    for part in s["parts"].items():
        made = part["this_run"].flag()
        seconds = part["seconds"].num()
        note = ("this run" if made else
                "an earlier run in the same folder" if seconds is not None else
                "there before this run, not timed")  # fmt: skip
        rows.append({"part": part["part"].text(), "s": seconds,
                     "min": None if seconds is None else seconds / 60, "note": note})  # fmt: skip
    p, epochs = s["projected"], s["epochs"].integer()
    projected = p["training_seconds"].number()
    rows.append({"part": f"training projected to {p['epochs'].integer()} epochs",
                 "s": projected, "min": projected / 60,
                 "note": f"{s['seconds_per_epoch'].number():,.0f} s per epoch"})  # fmt: skip
    columns = (("part", "part"), ("s", "seconds", "{:,.0f}"), ("min", "minutes", "{:,.1f}"),
               ("note", "measured"))  # fmt: skip
    total, cores = p["total_seconds"].number(), s["cpu_count"].integer()
    line = (
        f"End to end at the preset's {p['epochs'].integer()} epochs: about "
        f"{total / 3600:.1f} hours on these {cores} cores ({p['core_hours'].number():.0f} "
        f"core-hours), of which the training is {100 * projected / total:.0f} %. The probe's "
        f"own run took {s['wall_seconds'].number() / 60:.1f} minutes (the parts marked "
        f'"this run"). Its AEs are trained {epochs} epoch(s), so its quality numbers are '
        f"not the preset's.\n"
    )
    before, after = s["load_average_start"].number(), s["load_average_end"].number()
    counts = (f"`{s['command'].text()}`: preset {s['preset'].text()}, "
              f"{s['n_autoencoders'].integer()} AEs in {s['n_chunks'].integer()} chunk(s), "
              f"{s['n_train_modules'].integer():,} training, {s['n_val_modules'].integer():,} "
              f"validation and {s['n_test_modules'].integer():,} test modules, {cores} cores, "
              f"load average {before:.1f} before and {after:.1f} after")  # fmt: skip
    return Rendered(ctx.header(counts) + markdown_table(rows, columns) + "\n" + line)


def bench_emd_loss(ctx: BlockContext) -> Rendered:
    """Seconds per training epoch with the exact-EMD loss against the telescope loss
    (bench_emd_loss.py)."""
    s = ctx.s
    per_epoch = s["seconds_per_epoch"]
    rows = [{"what": what, "median": per_epoch[key].number(),
             "each": ", ".join(f"{t.number():.2f}" for t in s["seconds"][key].items())}
            for key, what in (("telescope", "telescope loss"), ("exact_emd", "exact EMD"))]  # fmt: skip
    columns = (("what", "loss"), ("median", "median s/epoch", "{:.2f}"), ("each", "each epoch [s]"))
    ratio, goal = s["ratio"].number(), s["goal_ratio"].number()
    verdict = "met" if s["met"].flag() else f"missed by {ratio - goal:.2f}"
    line = f"exact EMD / telescope = {ratio:.2f}×; goal ≤ {goal:g}×: {verdict}.\n"
    before, after = (v.number() for v in s["load_average"].items())
    counts = (f"16×3-bit AE, {s['n_train_modules'].integer():,} training modules, "
              f"{s['threads'].integer()} torch thread(s), {_bench_counts(s)}, load average "
              f"{before:.1f} before and {after:.1f} after")  # fmt: skip
    return Rendered(ctx.header(counts) + markdown_table(rows, columns) + "\n" + line)


def bench_study(ctx: BlockContext) -> Rendered:
    s = ctx.s
    t = s["training"]
    rows = [{"what": f"module AE training, one epoch over {t['modules'].integer():,} modules [s]",
             "value": f"{t['s_per_epoch'].number():.2f}"}]  # fmt: skip
    rows += [{"what": f"{e['name'].text()} [modules/s]", "value": f"{e['modules_per_s'].number():,.0f}"}
             for e in s["evaluation"].items()]  # fmt: skip
    counts = f"{s['modules'].integer():,} modules, one torch thread, " + _bench_counts(s)
    return Rendered(
        ctx.header(counts) + markdown_table(rows, (("what", "measure"), ("value", "result")))
    )


def readme_mnist(ctx: BlockContext) -> Rendered:
    s = ctx.s
    _, archs, _, _ = _scan(s)
    answers = ", ".join(f"{a} **{_smallest(s, a)}**" for a in archs)
    text = (f"- **MNIST:** smallest latent dim: {answers} ({s['criterion'].text()}). "
            f"Details: {ctx.link('mnist.md', 'docs/mnist.md')}.\n")  # fmt: skip
    return Rendered(ctx.header(f"{len(s['table'].items())} trainings") + text)


def readme_simulation(ctx: BlockContext) -> Rendered:
    s = ctx.s
    text = (f"- **Simulation against the 2018 beam test:** S = {_fit(s, 'resolution_fit', 'S', 100)} %·√GeV "
            f"(target {VALIDATION_TARGETS['S'].text()}), C = {_fit(s, 'resolution_fit', 'C', 100, 2)} %, "
            f"largest linearity residual {100 * s['max_abs_linearity_residual'].number():.2f} %. "
            f"Details: {ctx.link('simulation.md', 'docs/simulation.md')}.\n")  # fmt: skip
    return Rendered(ctx.header(_validation_counts(s)) + text)
