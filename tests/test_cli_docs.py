"""`hgcal-ae docs` as a user runs it, on copies of the real README and docs/ pages.

The smoke study runs once for this module; every test works on its own copy of the pages.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from hgcal_ae.cli import main
from hgcal_ae.workflows.study import StudyReport

SMOKE_DIR = StudyReport(preset="smoke", output_dir="").study_dir  # study/smoke/<config id>
PILEUP_DIR = StudyReport(preset="smoke", occupancy="pileup", output_dir="").study_dir


ROOT = Path(__file__).resolve().parents[1]
STATUS = re.compile(r"^\S+ [a-z0-9-]+: (updated|unchanged|no run found \(\S+\))$")


@pytest.fixture(scope="module")
def out(smoke_runs):
    return smoke_runs.out  # the session's smoke study (read only)


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "docs", root / "docs")
    shutil.copy(ROOT / "README.md", root / "README.md")
    return root


def docs(capsys, out: Path, root: Path, *extra: str) -> tuple[int, list[str], list[str]]:
    rc = main(
        [
            "docs",
            "--output-dir",
            str(out),
            "--docs",
            str(root / "docs"),
            "--preset",
            "smoke",
            *extra,
        ]
    )
    captured = capsys.readouterr()
    return rc, captured.out.splitlines(), captured.err.splitlines()


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def assert_one_error(err: list[str], *parts: str) -> None:
    errors = [line for line in err if line.startswith("hgcal-ae: error:")]
    assert len(errors) == 1 and err[-1] == errors[0], err
    for part in parts:
        assert part in errors[0], (part, errors[0])


def test_docs_updates_every_block_it_has_a_run_for(capsys, out, repo):
    rc, lines, err = docs(capsys, out, repo)
    assert rc == 0 and err == []
    assert all(STATUS.match(line) for line in lines), lines
    assert "README.md readme-study: updated" in lines
    assert "docs/study.md study-baselines: updated" in lines
    assert "docs/study.md study-presets: unchanged" in lines
    assert f"docs/study.md study-pileup: no run found ({PILEUP_DIR}/report/summary.json)" in lines
    assert "docs/merging.md merging-grouping: updated" in lines
    study = (repo / "docs/study.md").read_text()
    summary = json.loads((out / SMOKE_DIR / "report/summary.json").read_text())
    assert (
        f"from `{SMOKE_DIR}/report/summary.json`, written by `hgcal-ae study --preset smoke` "
        f"(preset smoke, occupancy signal, {summary['n_test_events']:,} test events" in study
    )
    assert "(not generated yet" not in study.split("## With the toy pile-up")[0]
    report = out / SMOKE_DIR / "report"
    assert (repo / "docs/images/study_emd_vs_occupancy.png").read_bytes() == (
        report / "emd_vs_occupancy.png"
    ).read_bytes()
    rc, lines, _ = docs(capsys, out, repo)  # a second run changes nothing
    assert rc == 0 and not [line for line in lines if line.endswith(": updated")]


def test_check_passes_after_generation_and_fails_after_an_edit(capsys, out, repo):
    docs(capsys, out, repo)
    rc, lines, err = docs(capsys, out, repo, "--check")
    assert rc == 0 and err == [] and len(lines) == 1
    assert re.fullmatch(r"docs match the runs: \d+ blocks, \d+ without a run", lines[0])

    page = repo / "docs/study.md"
    text = page.read_text()
    row = re.search(
        r"^\| 2 \| Best Choice \(4 TCs\) \| 64 \| 1\.00 \| (\d\.\d{3}) \|", text, re.MULTILINE
    )
    assert row, "the study-baselines table has no Best Choice row at 2 e-links"
    edited = text[: row.start(1)] + "9.999" + text[row.end(1) :]
    page.write_text(edited)
    before = snapshot(repo)
    rc, lines, err = docs(capsys, out, repo, "--check")
    assert rc == 1 and lines == []
    assert_one_error(
        err, "docs/study.md: block 'study-baselines' differs", f"{SMOKE_DIR}/report/summary.json"
    )
    assert snapshot(repo) == before  # --check writes nothing

    docs(capsys, out, repo)  # regenerating restores the run's number
    assert page.read_text() == text
    (repo / "docs/images/study_bandwidth.png").write_bytes(b"not the run's figure")
    rc, _, err = docs(capsys, out, repo, "--check")
    assert rc == 1
    assert_one_error(
        err,
        f"docs/images/study_bandwidth.png differs from the figure of {SMOKE_DIR}/report/summary.json",
    )


def test_check_names_the_first_block_of_pages_never_generated(capsys, out, repo):
    rc, _, err = docs(capsys, out, repo, "--check")
    assert rc == 1
    assert_one_error(err, "README.md: block 'readme-study' differs")


def _copy_report(out: Path, tmp_path: Path) -> Path:
    other = tmp_path / "other-output"
    shutil.copytree(out / SMOKE_DIR / "report", other / SMOKE_DIR / "report")
    return other


def test_a_corrupt_summary_is_one_error_line_and_nothing_is_written(capsys, out, repo, tmp_path):
    other = _copy_report(out, tmp_path)
    summary = other / SMOKE_DIR / "report/summary.json"
    summary.write_text(summary.read_text()[:1000])
    before = snapshot(repo)
    rc, lines, err = docs(capsys, other, repo)
    assert rc == 1 and lines == []
    assert_one_error(err, f"{summary}: not valid JSON")
    assert snapshot(repo) == before


def test_a_missing_field_is_one_error_naming_file_and_field(capsys, out, repo, tmp_path):
    other = _copy_report(out, tmp_path)
    summary = other / SMOKE_DIR / "report/summary.json"
    data = json.loads(summary.read_text())
    del data["ae_versus_baselines"][0]["emd_ae_cm"]
    summary.write_text(json.dumps(data))
    before = snapshot(repo)
    rc, lines, err = docs(capsys, other, repo)
    assert rc == 1 and lines == []
    assert_one_error(
        err, str(summary), "field 'ae_versus_baselines[0].emd_ae_cm' is missing", "docs block"
    )
    assert snapshot(repo) == before


def test_bad_options_are_one_line(capsys, out, tmp_path):
    rc, _, err = docs(capsys, out, tmp_path / "nowhere")
    assert rc == 2
    assert_one_error(err, "docs folder", "does not exist")
    rc = main(
        [
            "docs",
            "--output-dir",
            str(out),
            "--docs",
            str(ROOT / "docs"),
            "--preset",
            "huge",
            "--check",
        ]
    )
    assert rc == 2
    assert_one_error(capsys.readouterr().err.splitlines(), "unknown preset 'huge'")
