"""The README is a front door: short, current, every link and every package it names exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hgcal_ae.cli import build_parser
from hgcal_ae.study.pages import CODE_BLOCKS, RUN_BLOCKS, find_blocks, plan_pages

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
MAX_LINES = 250
# Words that narrate how things changed; git holds the history, the pages say what is.
HISTORY = re.compile(
    r"this session|\bwas\b|\bfixed\b|\bnow\b|\bbefore this change\b", re.IGNORECASE
)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _page_id(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = page.read_text(encoding="utf-8")
    return {_slug(m.group(1)) for m in re.finditer(r"^#+ (.+)$", text, re.MULTILINE)}


def _section(text: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, f"README has no section {title!r}"
    return match.group(1)


def test_readme_is_short():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_LINES, f"README.md has {len(lines)} lines, at most {MAX_LINES}"


def test_readme_has_the_quick_start_and_every_command():
    text = README.read_text(encoding="utf-8")
    quick = _section(text, "Quick start")
    assert "make demo" in quick and "make test" in quick
    cli = _section(text, "The CLI")
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for command in sub.choices:  # every subcommand the parser knows
        assert f"hgcal-ae {command}" in cli, f"README's CLI section does not name {command!r}"


def _prose_lines(page: Path) -> list[tuple[int, str]]:
    """The hand-written lines of a page: generated blocks (tables of a run) left out."""
    lines, generated = [], False
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("<!-- begin generated:"):
            generated = True
        elif line.startswith("<!-- end generated:"):
            generated = False
        elif not generated:
            lines.append((number, line))
    return lines


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_pages_tell_no_history(page):
    # generated blocks hold a run's values (e.g. a bandwidth row's statistic "fixed")
    for number, line in _prose_lines(page):
        match = HISTORY.search(line)
        assert match is None, (
            f"{_page_id(page)}:{number} narrates history ({match.group(0)!r}): {line}"
        )


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_every_local_link_exists(page):
    text = page.read_text(encoding="utf-8")
    for target in LINK.findall(text):
        if re.match(r"[a-z]+://", target) or target.startswith("mailto:"):
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        assert resolved.exists(), f"{_page_id(page)} links to {target!r}, which does not exist"
        if anchor and resolved.suffix == ".md":
            assert anchor in _anchors(resolved), (
                f"{_page_id(page)} links to {target!r}: no such heading"
            )


def test_readme_and_docs_link_every_docs_page():
    text = README.read_text(encoding="utf-8")
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    for page in DOCS.glob("*.md"):
        if page.name != "README.md":
            assert f"docs/{page.name}" in text, f"README.md does not link docs/{page.name}"
            assert f"]({page.name})" in index, f"docs/README.md does not link {page.name}"


def test_layout_section_names_every_subpackage():
    layout = _section(README.read_text(encoding="utf-8"), "Layout of the package")
    package = ROOT / "src" / "hgcal_ae"
    subpackages = sorted(p.parent.name for p in package.glob("*/__init__.py"))
    assert subpackages, "no subpackages found"
    for name in subpackages:
        assert f"`{name}/`" in layout, f"the layout section does not name {name}/"
    for module in ("atomic.py", "errors.py"):
        assert f"`{module}`" in layout
    # and its table names nothing that does not exist
    for name in re.findall(r"^\| `([a-z_]+)/` \|", layout, re.MULTILINE):
        assert (package / name / "__init__.py").is_file(), (
            f"the layout names {name}/, which does not exist"
        )


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_generated_blocks_are_known(page):
    find_blocks(page.read_text(encoding="utf-8"), _page_id(page))  # raises on an unknown block


def test_blocks_from_the_code_are_current(tmp_path):
    """The blocks rendered from the code (presets, schemas, bit budgets) match the code."""
    plan = plan_pages(PAGES, {}, DOCS / "images", ROOT)
    assert plan.first_difference() is None, plan.first_difference()


def test_every_block_sits_once_on_its_own_page():
    """readme-* blocks in the README, study-* in docs/study.md, ...; none in the index."""
    homes = {"readme": "README.md", "bench": "docs/benchmarks.md", "formats": "docs/formats.md"}
    placed: dict[str, str] = {}
    for page in PAGES:
        for name, _, _ in find_blocks(page.read_text(encoding="utf-8"), _page_id(page)):
            prefix = name.split("-")[0]
            home = homes.get(prefix, f"docs/{prefix}.md")
            assert _page_id(page) == home, (
                f"block {name!r} sits on {_page_id(page)}, expected {home}"
            )
            assert name not in placed, f"block {name!r} appears twice"
            placed[name] = _page_id(page)
    assert set(placed) == set(RUN_BLOCKS) | set(CODE_BLOCKS), "some blocks are on no page"
