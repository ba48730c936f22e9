"""The bench-law block of docs/benchmarks.md, rendered from a summary of bench_law.py's
fields (the script itself runs two smoke studies: `make bench`)."""

from __future__ import annotations

import json
from pathlib import Path

from hgcal_ae.study.pages import RunSource, find_blocks, plan_pages


def _render(tmp_path: Path, summary: dict[str, object]) -> str:
    out = tmp_path / "output" / "benchmarks"
    out.mkdir(parents=True)
    (out / "law.json").write_text(json.dumps(summary))
    (tmp_path / "docs" / "images").mkdir(parents=True)
    page = tmp_path / "docs" / "benchmarks.md"
    page.write_text(
        "# b\n\n<!-- begin generated: bench-law -->\n<!-- end generated: bench-law -->\n"
    )
    source = RunSource(out / "law.json", "benchmarks/law.json", "python benchmarks/bench_law.py")
    plan = plan_pages([page], {"bench_law": source}, tmp_path / "docs" / "images", tmp_path)
    new = plan.pages[page][1]
    ((_, start, end),) = find_blocks(new, "docs/benchmarks.md")
    return new[start:end]


def test_the_block_shows_both_runs_and_the_ratio_against_the_goal(tmp_path: Path) -> None:
    summary = {"benchmark": "law", "hgcal_ae_version": "0.1.0", "cpu_count": 2,
               "seconds": {"plain": [100.0, 110.0], "law": [103.0, 113.0]},
               "ratio": 216.0 / 210.0, "goal": 1.05, "met": True, "load_average": [0.5, 1.25]}  # fmt: skip
    body = _render(tmp_path, summary)
    assert "| plain luigi tasks | 100.0, 110.0 | 105.0 |" in body
    assert "| `--workflow local` (law) | 103.0, 113.0 | 108.0 |" in body
    assert "law / plain = 1.029; goal ≤ 1.05: met." in body
    assert "load average 0.5 before and 1.2 after" in body
    missed = _render(tmp_path / "m", {**summary, "ratio": 1.19, "met": False})
    assert "law / plain = 1.190; goal ≤ 1.05: missed by 14 points." in missed
