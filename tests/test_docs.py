"""The README and the docs/ pages: the quick start fits on two screens, every page is linked from the
README, and every link and every project path they name exists (a file moved or renamed without its
page fails here)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Where the project's files are: a path in backticks starting with one of these names one of them.
PROJECT_FOLDERS = ("dags", "plugins", "include", "tests", "scripts", "benchmarks", "devstack", "docs", ".ci")
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_CODE = re.compile(r"`([^`\s]+)`")


def section(text: str, heading: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index(heading)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return lines[start:end]


def test_the_quick_start_fits_on_two_screens():
    quick_start = section((ROOT / "README.md").read_text(), "## Quick start")
    assert len(quick_start) <= 100, len(quick_start)
    assert any("./scripts/demo.sh" in line for line in quick_start) and any("./scripts/stop.sh" in line for line in quick_start)


def test_every_docs_page_is_linked_from_the_readme():
    readme = (ROOT / "README.md").read_text()
    assert [page.name for page in PAGES[1:] if f"(docs/{page.name})" not in readme] == []


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_every_link_and_project_path_exists(page: Path):
    text = page.read_text()
    missing = [link for link in _LINK.findall(text)
               if not re.match(r"^[a-z]+:", link) and link != "..." and not (page.parent / link.split("#", 1)[0]).exists()]
    for code in _CODE.findall(text):
        path = code.rstrip(".,;:")
        if path.split("/", 1)[0] in PROJECT_FOLDERS and "/" in path and not re.search(r"[<>*{}$…]|\.\.\.", path):
            if not (ROOT / path.split(":", 1)[0].split("::", 1)[0]).exists():
                missing.append(path)
    assert missing == [], f"{page.name} names what does not exist: {missing}"
