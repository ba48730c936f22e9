"""The docs' generated blocks, rendered from real runs: the numbers on the page are the summary's.

The smoke study and merging study run once for this module (a couple of minutes); every block
is rendered from their ``summary.json`` and its tables are parsed back and compared with the
summary's numbers.  The MNIST, simulation, CUDA-check and benchmark blocks are rendered from
small real runs of their commands (marked slow).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hgcal_ae import __version__
from hgcal_ae.cli.docs import run_sources
from hgcal_ae.errors import DataError
from hgcal_ae.study.pages import CODE_BLOCKS, RUN_BLOCKS, RunSource, find_blocks, plan_pages
from hgcal_ae.workflows.study import StudyReport

SMOKE_DIR = StudyReport(preset="smoke", output_dir="").study_dir  # study/smoke/<config id>
PILEUP_DIR = StudyReport(preset="smoke", occupancy="pileup", output_dir="").study_dir
MERGING_DIR = Path("merging/smoke") / SMOKE_DIR.name  # merging/smoke/<config id>

ROOT = Path(__file__).resolve().parents[2]


def _cli(out: Path, *args: str) -> None:
    cmd = [sys.executable, "-m", "hgcal_ae.cli", *args, "--quiet", "--output-dir", str(out)]
    # forked luigi workers: a torch or numba thread pool started in the parent would hang them
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=1200, check=False,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture(scope="module")
def runs(smoke_runs):
    return smoke_runs.out  # the session's smoke study and merging study


@pytest.fixture(scope="module")
def sources(runs):
    return run_sources(runs, "smoke")


@pytest.fixture(scope="module")
def study(runs):
    return json.loads((runs / SMOKE_DIR / "report/summary.json").read_text())


@pytest.fixture(scope="module")
def merging(runs):
    return json.loads((runs / MERGING_DIR / "report/summary.json").read_text())


def _repo(tmp_path: Path, *blocks: str, page: str = "docs/page.md") -> tuple[Path, Path]:
    root = tmp_path / "repo"
    (root / "docs" / "images").mkdir(parents=True, exist_ok=True)
    text = "# page\n\n" + "".join(
        f"<!-- begin generated: {b} -->\nold text\n<!-- end generated: {b} -->\n\n" for b in blocks
    )
    path = root / page
    path.write_text(text)
    return root, path


def render(tmp_path: Path, sources, block: str, page: str = "docs/page.md") -> str:
    """The body of ``block`` as ``hgcal-ae docs`` would write it into ``page``."""
    root, path = _repo(tmp_path, block, page=page)
    plan = plan_pages([path], sources, root / "docs" / "images", root)
    new = plan.pages[path][1]
    ((_name, start, end),) = find_blocks(new, page)
    return new[start:end]


def tables(markdown: str) -> list[list[dict[str, str]]]:
    """Every Markdown table in ``markdown``, as rows of {column title: cell}."""
    found, current = [], []
    for line in [*markdown.splitlines(), ""]:
        if line.startswith("|"):
            current.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif current:
            head, _, *body = current
            found.append([dict(zip(head, row, strict=True)) for row in body])
            current = []
    return found


def close(cell: str, value: float | None) -> bool:
    """Whether a table cell shows ``value`` to the cell's own precision."""
    if value is None:
        return cell == "–"
    number = cell.replace(",", "").rstrip("×")
    decimals = len(number.split(".")[1]) if "." in number else 0
    return abs(float(number) - value) <= 0.5 * 10**-decimals + 1e-12


def test_header_names_the_file_the_command_the_counts_and_the_version(tmp_path, sources, study):
    body = render(tmp_path, sources, "study-baselines")
    header = body.splitlines()[0]
    assert f"`{SMOKE_DIR}/report/summary.json`" in header
    assert "`hgcal-ae study --preset smoke`" in header
    assert f"{study['n_test_events']:,} test events" in header
    assert f"{study['n_test_modules']:,} test modules" in header
    assert f"hgcal_ae {__version__}" in header and "preset smoke" in header


def test_baselines_table_holds_the_summary_rows(tmp_path, sources, study):
    (table,) = tables(render(tmp_path, sources, "study-baselines"))
    rows = study["rows"]
    by_key = {(r["n_elinks"], r["label"]): r for r in rows}
    seen = set()
    for cell in table:
        label = cell["algorithm"].removesuffix(" (best AE)")
        row = by_key[(int(cell["e-links"]), label)]
        seen.add((row["n_elinks"], label))
        assert close(cell["bits/BX"], row["bits"])
        assert close(cell["fits"], row["fits_fraction"])
        assert close(cell["mean EMD [cm]"], row["emd_mean_cm"])
        assert close(cell["barycentre shift RMS [cm]"], row["position_shift_rms_cm"])
        assert close(cell["σ_E/E ÷ uncompressed"], row["resolution_ratio_mean"])
        assert close(cell["t_max shift RMS [X0]"], row["shower_max_shift_rms_x0"])
    # the Repeater, and at 2 and 3 e-links every baseline and the AE of lowest mean EMD
    expected = {(r["n_elinks"], r["label"]) for r in rows if r["algorithm"] == "repeater"}
    for n in (2, 3):
        at_n = [r for r in rows if r["n_elinks"] == n]
        expected |= {
            (n, r["label"]) for r in at_n if r["algorithm"] not in ("autoencoder", "repeater")
        }
        best = min(
            (r for r in at_n if r["algorithm"] == "autoencoder"), key=lambda r: r["emd_mean_cm"]
        )
        expected.add((n, best["label"]))
        assert any(
            c["algorithm"] == f"{best['label']} (best AE)" and c["e-links"] == str(n) for c in table
        )
    assert seen == expected


def test_comparison_table_is_ae_versus_baselines(tmp_path, sources, study):
    (table,) = tables(render(tmp_path, sources, "study-comparison"))
    assert len(table) == len(study["ae_versus_baselines"])
    for cell, c in zip(table, study["ae_versus_baselines"], strict=True):
        assert (cell["e-links"], cell["best AE"], cell["baseline"]) == (
            str(c["n_elinks"]),
            c["autoencoder"],
            c["baseline"],
        )
        assert close(cell["AE mean EMD [cm]"], c["emd_ae_cm"])
        assert close(cell["baseline mean EMD [cm]"], c["emd_baseline_cm"])
        assert close(cell["AE ÷ baseline"], c["emd_ae_cm"] / c["emd_baseline_cm"])
        assert cell["AE better on EMD"] == ("yes" if c["ae_better_emd"] else "no")
        assert cell["AE better on resolution"] == ("yes" if c["ae_better_resolution"] else "no")


def test_answers_state_the_dims_and_their_criteria(tmp_path, sources, study):
    body = render(tmp_path, sources, "study-answers")
    for key, what in (("smallest_latent_dim", "energy"), ("smallest_latent_dim_by_shape", "shape")):
        answer = study[key]
        dim = (
            "none passes"
            if answer["smallest_latent_dim"] is None
            else str(answer["smallest_latent_dim"])
        )
        assert f"Smallest latent dim by {what}: {dim}.** Criterion: {answer['criterion']}." in body
    (table,) = tables(body)
    for cell in table:
        shape = study["smallest_latent_dim_by_shape"]["per_latent_dim"][cell["latent dim"]]
        energy = study["smallest_latent_dim"]["per_latent_dim"][cell["latent dim"]]
        assert close(cell["best mean EMD [cm]"], shape["emd_mean_cm"])
        assert close(cell["σ_E/E ratio at the worst energy"], energy["resolution_ratio_max"])
    assert {c["latent dim"] for c in table} == set(
        study["smallest_latent_dim_by_shape"]["per_latent_dim"]
    )


def test_occupancy_bins_hold_the_summary_emd(tmp_path, sources, study):
    body = render(tmp_path, sources, "study-occupancy")
    (table,) = tables(body)
    n = min(study["preset"]["elinks"])
    rows = {r["label"]: r for r in study["rows"] if r["n_elinks"] == n}
    labels = [k for k in table[0] if k not in ("TCs ≥ 1 MIP", "modules")]
    assert {rows[label]["algorithm"] for label in labels} == {
        "best_choice",
        "stc_2x2",
        "stc_4x4",
        "autoencoder",
    }
    edges = rows[labels[0]]["emd_by_occupancy"]["occupancy_edges"]
    assert [c["TCs ≥ 1 MIP"] for c in table][-1] == f"≥ {edges[-1]}"
    for i, cell in enumerate(table):
        assert cell["modules"].replace(",", "") == str(
            rows[labels[0]]["emd_by_occupancy"]["n_modules"][i]
        )
        for label in labels:
            assert close(cell[label], rows[label]["emd_by_occupancy"]["emd_mean_cm"][i])
    assert "](images/study_emd_vs_occupancy.png)" in body


def test_merging_tables_hold_the_summary(tmp_path, sources, merging):
    (grouping,) = tables(render(tmp_path / "g", sources, "merging-grouping"))
    for cell, row in zip(grouping, merging["grouping"]["summary"], strict=True):
        assert cell["granularity"] == row["granularity"]
        assert close(cell["event barycentre σ [mm]"], row["event_resolution_mm"])
        assert close(cell["width ÷ cells"], row["shower_max_width_ratio"])
        assert close(cell["bits/BX (7 bits each)"], row["bits_per_module"])
    rows, diffs = tables(render(tmp_path / "n", sources, "merging-neighbours"))
    for cell, row in zip(rows, merging["neighbours"]["rows"], strict=True):
        assert (cell["model"], cell["showers"]) == (row["model"], row["showers"])
        assert close(cell["mean EMD [cm]"], row["emd_mean_cm"])
        assert close(cell["event barycentre shift [mm]"], row["event_barycentre_shift_mean_mm"])
    comparison = merging["neighbours"]["comparison"]
    cell = next(
        d
        for d in diffs
        if d["difference"] == "with border TCs − shuffled control" and d["showers"] == "split"
    )
    mean, error = cell["Δ mean EMD [cm]"].split(" ± ")
    emd = comparison["with_neighbours_minus_shuffled_border"]["split"]["emd_cm"]
    assert close(mean.lstrip("+"), emd["mean_difference"]) and close(error, emd["standard_error"])


def test_readme_blocks_quote_the_answers(tmp_path, sources, study, merging):
    body = render(tmp_path / "s", sources, "readme-study", page="README.md")
    c = study["ae_versus_baselines"][0]
    assert f"best AE ({c['autoencoder']}) has a mean EMD of {c['emd_ae_cm']:.3f} cm" in body
    assert f"{c['baseline']} {c['emd_baseline_cm']:.3f}" in body
    assert "[docs/study.md](docs/study.md)" in body  # links from the README, not from docs/
    body = render(tmp_path / "m", sources, "readme-merging", page="README.md")
    ratio = merging["answers"]["grouping"]["resolution_3x3_over_2x2"]
    assert f"give {ratio:.2f} times the event barycentre σ" in body


def test_figures_are_copied_and_a_second_plan_changes_nothing(tmp_path, sources, runs):
    blocks = [b for b, (key, _) in RUN_BLOCKS.items() if key in ("study", "merging")]
    root, page = _repo(tmp_path, *blocks)
    images = root / "docs" / "images"
    plan = plan_pages([page], sources, images, root)
    assert plan.first_difference() is not None
    plan.write()
    report = runs / SMOKE_DIR / "report"
    for copied, original in (("study_pareto_emd.png", report / "pareto_emd_mean_cm.png"),
                             ("study_bandwidth.png", report / "bandwidth.png"),
                             ("merging_neighbours.png", runs / MERGING_DIR / "report/neighbours.png")):  # fmt: skip
        assert (images / copied).read_bytes() == original.read_bytes()
    again = plan_pages([page], sources, images, root)
    assert again.first_difference() is None
    assert {s.status for s in again.statuses} == {"unchanged"}
    for link in re.findall(r"\]\((images/[^)]+)\)", page.read_text()):
        assert (page.parent / link).is_file(), link


def test_a_missing_run_leaves_its_block_as_it_is(tmp_path, sources):
    root, page = _repo(tmp_path, "study-pileup", "formats-events")
    plan = plan_pages([page], sources, root / "docs" / "images", root)
    status = {s.block: s for s in plan.statuses}
    assert status["study-pileup"].status == "no run found"
    assert (
        status["study-pileup"].line()
        == f"docs/page.md study-pileup: no run found ({PILEUP_DIR}/report/summary.json)"
    )
    assert status["formats-events"].status == "updated"  # rendered from the code
    assert (
        "<!-- begin generated: study-pileup -->\nold text\n<!-- end generated: study-pileup -->"
        in plan.pages[page][1]
    )


def test_broken_markers_are_one_error_naming_the_page():
    with pytest.raises(
        DataError, match=r"docs/x.md: generated block 'study-answers' has no end marker"
    ):
        find_blocks("<!-- begin generated: study-answers -->\ntext\n", "docs/x.md")
    with pytest.raises(
        DataError, match=r"docs/x.md: unknown generated block 'results'; expected one of "
    ):
        find_blocks(
            "<!-- begin generated: results -->\n<!-- end generated: results -->\n", "docs/x.md"
        )


def _broken_summary(tmp_path: Path, runs: Path, edit) -> dict[str, RunSource]:
    path = tmp_path / "summary.json"
    summary = json.loads((runs / SMOKE_DIR / "report/summary.json").read_text())
    path.write_text(edit(summary))
    return {"study": RunSource(path, f"{SMOKE_DIR}/report/summary.json", "hgcal-ae study")}


def test_a_missing_field_names_the_file_and_the_field(tmp_path, runs):
    def drop_label(summary):
        del summary["rows"][0]["label"]
        return json.dumps(summary)

    broken = _broken_summary(tmp_path, runs, drop_label)
    root, page = _repo(tmp_path, "study-baselines")
    with pytest.raises(DataError) as error:
        plan_pages([page], broken, root / "docs" / "images", root)
    assert str(error.value) == (f"{broken['study'].path}: field 'rows[0].label' is missing "
                                "(needed by the docs block 'study-baselines')")  # fmt: skip


def test_a_wrong_type_and_a_file_that_is_not_json_are_one_error(tmp_path, runs):
    def text_count(summary):
        summary["n_test_events"] = "many"
        return json.dumps(summary)

    root, page = _repo(tmp_path, "study-answers")
    broken = _broken_summary(tmp_path, runs, text_count)
    with pytest.raises(DataError, match=r"field 'n_test_events' is 'many', expected a number"):
        plan_pages([page], broken, root / "docs" / "images", root)
    broken = _broken_summary(tmp_path, runs, lambda s: json.dumps(s)[:500])
    with pytest.raises(DataError, match=r"summary.json: not valid JSON \(.* at line 1"):
        plan_pages([page], broken, root / "docs" / "images", root)


# The other runs the pages show, each made by its own command at a small size.


@pytest.fixture(scope="module")
def small_runs(runs, tmp_path_factory):
    out = tmp_path_factory.mktemp("small")
    _cli(out, "mnist", "--latent-dim", "28", "--epochs", "1", "--limit", "200")
    _cli(
        out,
        "mnist-scan",
        "--latent-dims",
        "2,3",
        "--arch",
        "dense,conv",
        "--epochs",
        "1",
        "--limit",
        "200",
    )
    _cli(out, "validate-simulation", "--energies", "20,50,100", "--events", "20")
    _cli(out, "beamtest", "--energies", "20,100,300", "--events", "50", "--latent-dims", "2",
         "--epochs-per-layer", "1", "--epochs-per-shower", "1", "--emd-events", "2")  # fmt: skip
    study_data = runs / SMOKE_DIR / "trigger_cells.h5"  # the scaling study reads the study's
    (out / SMOKE_DIR).mkdir(parents=True, exist_ok=True)
    shutil.copy2(study_data, out / SMOKE_DIR / "trigger_cells.h5")
    _cli(out, "scaling", "--preset", "smoke", "--sizes", "300,all", "--epochs", "1")
    _cli(out, "study", "--preset", "smoke", "--occupancy", "pu200")
    for args in (["--occupancy", "pu200", "--variants", "telescope,emd,cond"],
                 ["--variants", "telescope,qw"]):  # fmt: skip
        _cli(out, "compare", "--preset", "smoke", "--seeds", "0,1", "--latents", "16x3", *args)
    py = [sys.executable]
    scripts = {
        "emd": ["--modules", "100", "--repeats", "1", "--warm-cache"],
        "simulation": ["--showers", "200", "--skip-memory"],
        "study": ["--modules", "1000", "--epochs", "1", "--data", str(runs / SMOKE_DIR / "trigger_cells.h5")],
        "mnist_workflow": ["--epochs", "1", "--repeats", "1", "--arch", "dense"],
        "beamtest": ["--events", "15", "--modules", "500", "--epochs", "1"],
        "grid_training": ["--members", "2", "--epochs", "1", "--threads", "1"],
        "emd_loss": ["--epochs", "1"],
    }  # fmt: skip
    env = {**os.environ, "OUTPUT_DIR": str(out)}
    for name, args in scripts.items():
        json_path = out / "benchmarks" / f"{name}.json"
        cmd = [*py, str(ROOT / "benchmarks" / f"bench_{name}.py"), *args, "--json", str(json_path)]
        # exit 1 means a goal was missed (at this small size, likely); the numbers are written
        done = subprocess.run(
            cmd, check=False, capture_output=True, text=True, timeout=900, env=env
        )
        assert json_path.is_file(), done.stderr[-3000:]
    cmd = [*py, str(ROOT / "validation/check_cuda.py"), "--output-dir", str(out / "cuda"),
           "--devices", "cpu,cpu", "--epochs", "1", "--images", "200", "--events", "10"]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, timeout=900, env=env)
    sources = run_sources(out, "smoke", scaling_preset="smoke")
    # the commands above are the small versions of those the pages name
    sources["mnist"] = RunSource(
        out / "mnist/conv_latent28_bce_seed0_e1_n200/summary.json", "mnist", "mnist"
    )
    sources["mnist_scan"] = RunSource(
        out / "mnist/scan_dense-conv_bce_seed0_e1_n200/summary.json", "scan", "scan"
    )
    sources["validation"] = RunSource(
        out / "validation/tb2018/e+_n20_seed0/summary.json", "val", "val"
    )
    sources["beamtest"] = RunSource(
        out / "beamtest/sim_e+_n50_seed0/ae/summary.json", "beamtest", "beamtest"
    )
    # the small comparisons the pages' commands stand for
    for key, name in (("compare_pu200", "smoke_pu200/*/telescope-emd-cond_seeds0-1_16x3"),
                      ("compare_qw", "smoke/*/telescope-qw_seeds0-1_16x3")):  # fmt: skip
        (found,) = out.glob(f"comparison/{name}/summary.json")
        sources[key] = RunSource(found, key, key)
    return out, sources


@pytest.mark.slow
def test_every_other_block_renders_from_its_run(tmp_path, small_runs):
    out, sources = small_runs
    # the export block renders from real exports in tests/export/test_hls4ml.py, bench-law
    # from a summary in test_page_bench_law.py (the script runs two smoke studies)
    # emd_schedule: a 15-minute probe; its block renders in test_comparison.py; full_cost
    # (probe_full_preset.py) renders in test_probe_full_preset.py
    skip = ("study", "study_pileup", "merging", "export", "bench_law", "emd_schedule", "full_cost")
    blocks = [b for b, (key, _) in RUN_BLOCKS.items() if key not in skip]
    root, page = _repo(tmp_path, *blocks, *CODE_BLOCKS)
    plan = plan_pages([page], sources, root / "docs" / "images", root)
    assert {s.block for s in plan.statuses if s.status != "updated"} == set()
    plan.write()
    text = page.read_text()
    scan = json.loads(sources["mnist_scan"].path.read_text())
    row = next(r for r in scan["table"] if r["arch"] == "dense" and r["latent_dim"] == 3)
    assert (
        f"| dense | {next(r for r in scan['table'] if r['arch'] == 'dense' and r['latent_dim'] == 2)['val_bce_per_pixel']:.4f} | {row['val_bce_per_pixel']:.4f} |"
        in text
    )
    validation = json.loads(sources["validation"].path.read_text())
    s = validation["resolution_fit"]
    assert (
        f"| stochastic term S [%·√GeV] | {100 * s['values']['S']:.1f} ± {100 * s['errors']['S']:.1f} |"
        in text
    )
    (pu200,) = out.glob("study/smoke_pu200/*/report/summary.json")
    for row in json.loads(pu200.read_text())["rows"]:  # pu200: the EMD per |eta| bin too
        assert len(row["emd_by_eta"]["n_modules"]) == 5 and sum(row["emd_by_eta"]["n_modules"]) > 0
    emd = json.loads((out / "benchmarks/emd.json").read_text())
    assert f"{emd['cases'][0]['speedup']:.1f}×" in text
    for name in (
        "mnist_reconstructions.png",
        "mnist_training.gif",
        "mnist_latent_scan.png",
        "sim_event_display.png",
    ):
        assert (root / "docs/images" / name).is_file()
    assert plan_pages([page], sources, root / "docs" / "images", root).first_difference() is None


def test_the_repository_pages_render_from_the_runs(tmp_path, sources):
    """The real README and docs/ pages: every block is known and renders from the smoke runs."""
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "docs", root / "docs")
    shutil.copy(ROOT / "README.md", root / "README.md")
    pages = [root / "README.md", *sorted((root / "docs").glob("*.md"))]
    plan = plan_pages(pages, sources, root / "docs" / "images", root)
    updated = {s.block for s in plan.statuses if s.status == "updated"}
    assert {"study-baselines", "study-answers", "merging-neighbours", "readme-study"} <= updated
    plan.write()
    for page in pages:
        for link in re.findall(r"\]\((?:docs/)?(images/[^)]+)\)", page.read_text()):
            assert (root / "docs" / link).is_file(), (page, link)
