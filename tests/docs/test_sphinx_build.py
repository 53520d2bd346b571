"""The documentation site builds as `make docs` builds it (warnings are errors), holds every
guide, the API reference and the explorer, and opens in a real browser without errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from browser_support import browser, png_distinct_rows, served
from explorer_support import parse
from support import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("docs") / "html"
    run = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b",
                          "html", str(ROOT / "docs"), str(out)],
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    assert "WARNING" not in run.stderr, run.stderr
    return out


def test_every_guide_is_in_the_site_and_its_index(site: Path) -> None:
    index = (site / "index.html").read_text(encoding="utf-8")
    links = parse(index)
    for guide in sorted((ROOT / "docs").glob("*.md")):
        if guide.stem == "index":
            continue
        assert (site / f"{guide.stem}.html").exists(), guide.name
        assert f'href="{guide.stem}.html"' in index, f"{guide.name} is not in the toctree"
    assert links.ids  # a real page, not an error stub


def test_the_api_reference_comes_from_the_docstrings(site: Path) -> None:
    reference = (site / "reference.html").read_text(encoding="utf-8")
    for name in ("fangpin_rules.load_policy", "fangpin_rules.engine.Policy.evaluate",
                 "fangpin_rules.explain.explain", "fangpin_rules.audit.diff_policies",
                 "fangpin_rules.audit.effective.describe"):
        assert f'id="{name}"' in reference, name
    assert "Read, check and compile a policy file" in reference  # load_policy's docstring


def test_the_site_includes_the_provinces_explorer(site: Path) -> None:
    explorer = (site / "explorer" / "index.html").read_text(encoding="utf-8")
    assert "闽委振兴组〔2021〕5号" in explorer and 'id="rule-category.unstable"' in explorer
    assert 'href="explorer/index.html"' in (site / "index.html").read_text(encoding="utf-8")


def test_the_site_index_opens_in_a_browser_without_errors(site: Path) -> None:
    with browser() as page:
        page.open(site / "index.html")
        assert page.errors == []
        assert page.evaluate("document.title").startswith("fangpin-rules")
        assert png_distinct_rows(page.screenshot()) > 10  # not blank
        assert page.shows_chinese_glyphs('a[href="explorer/index.html"]')  # not boxes
        page.events.clear()
        page.click('a[href="explorer/index.html"]')
        page.wait_for("Page.loadEventFired")
        assert page.evaluate("location.pathname").endswith("/explorer/index.html")
        assert page.errors == []


def test_the_sites_search_finds_the_api(site: Path) -> None:
    # Sphinx's search reads its result pages with fetch(), which a browser allows over HTTP,
    # as the site is published, and not from file:// (opened from disk the results are listed
    # with a console error for each summary).
    with served(site) as url, browser() as page:
        page.open(url + "index.html")
        page.events.clear()
        page.type("#searchbox input[name=q]", "load_policy")
        page.call("Input.dispatchKeyEvent", type="keyDown", key="Enter", code="Enter",
                  windowsVirtualKeyCode=13, text="\r")
        page.wait_for("Page.loadEventFired")
        found = page.wait_until("[...document.querySelectorAll('#search-results li a')]"
                                ".map(a => a.getAttribute('href'))")
        assert any(href.startswith("reference.html") for href in found), found
        assert page.errors == []
