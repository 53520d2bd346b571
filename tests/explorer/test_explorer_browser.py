"""The explorer in a real browser (headless Chromium): no console errors, the search and the
language switch work, hostile policy text is never run, and the page is not blank."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from fangpin_rules.cli.main import main

from browser_support import Page, browser, png_distinct_rows
from support import FUJIAN, ROOT

pytestmark = pytest.mark.slow

JINJIANG = ROOT / "policies" / "counties" / "jinjiang_350582.yaml"
RESULTS = "[...document.querySelectorAll('#search-results a')].map(a => a.getAttribute('href'))"


def _site(policy: Path, folder: Path) -> Path:
    assert main(["doc", str(policy), "-o", str(folder)]) == 0
    return folder / "index.html"


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    index = _site(FUJIAN, tmp_path_factory.mktemp("browser") / "site")
    with browser() as opened:
        opened.open(index)
        yield opened


def _shown(page: Page, selector: str) -> bool:
    return bool(page.evaluate(f"getComputedStyle(document.querySelector({selector!r}))"
                              ".display !== 'none'"))


def _clear_search(page: Page) -> None:
    page.evaluate("(() => { const s = document.getElementById('search'); s.value = '';"
                  "s.dispatchEvent(new Event('input')); })()")


def test_opens_without_console_errors_and_is_not_blank(page: Page) -> None:
    assert page.errors == []
    assert png_distinct_rows(page.screenshot()) > 10
    assert page.shows_chinese_glyphs("h1 .zh")  # the policy's Chinese title drawn, not boxes
    assert page.evaluate("document.querySelectorAll('.policy-article').length") == 18


def test_search_finds_a_rule_and_its_link_goes_there(page: Page) -> None:
    _clear_search(page)
    page.type("#search", "category.unstable")
    assert "#rule-category.unstable" in page.evaluate(RESULTS)
    page.click('#search-results a[href="#rule-category.unstable"]')
    assert page.evaluate("location.hash") == "#rule-category.unstable"
    _clear_search(page)
    page.type("#search", "监测范围")  # Chinese titles are searched
    assert "#parameter-monitoring_line" in page.evaluate(RESULTS)
    _clear_search(page)
    assert page.evaluate(RESULTS) == []
    assert page.errors == []


def test_language_switch_shows_the_policys_english(page: Page) -> None:
    assert page.evaluate("document.documentElement.lang") == "zh"
    assert _shown(page, "h1 .zh") and not _shown(page, "h1 .en")
    page.click("#lang-switch")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert _shown(page, "h1 .en") and not _shown(page, "h1 .zh")
    assert page.evaluate("document.querySelector('#article-2 h2 .en').textContent") == \
        "Monitoring range"
    _clear_search(page)
    page.type("#search", "monitoring_line")  # results are written in the language shown
    texts = page.evaluate("[...document.querySelectorAll('#search-results a')]"
                          ".map(a => a.textContent)")
    assert any("Monitoring line" in text for text in texts)
    page.click("#lang-switch")
    assert page.evaluate("document.documentElement.lang") == "zh" and _shown(page, "h1 .zh")
    assert page.errors == []


def test_the_county_explorer_opens_without_errors(tmp_path: Path) -> None:
    with browser() as county:
        county.open(_site(JINJIANG, tmp_path / "site"))
        assert county.errors == []
        assert county.evaluate("document.querySelectorAll('td.overrides').length") > 0


HOSTILE = textwrap.dedent("""\
    policy:
      id: hostile
      title:
        zh: "<img src=x onerror=\\"window.pwned=1\\">"
        en: "</script><script>window.pwned=2</script>"
      effective: 2021-01-01
    articles:
      §1:
        title: {zh: "<svg onload=\\"window.pwned=3\\">"}
        text: "<script>window.pwned=4</script>"
    decisions:
      low: {title: "</script><script>window.pwned=5</script>", cite: §1, expr: net_income < 1}
    """)


def test_hostile_policy_text_is_shown_never_run(tmp_path: Path) -> None:
    (tmp_path / "policy.yaml").write_text(HOSTILE, encoding="utf-8")
    with browser() as hostile:
        hostile.open(_site(tmp_path / "policy.yaml", tmp_path / "site"))
        assert hostile.evaluate("typeof window.pwned") == "undefined"
        assert hostile.evaluate("document.querySelector('h1 .zh').textContent") == \
            '<img src=x onerror="window.pwned=1">'
        hostile.type("#search", "pwned")  # the results are written as text too
        assert len(hostile.evaluate(RESULTS)) >= 2
        assert hostile.evaluate("typeof window.pwned") == "undefined"
        assert hostile.errors == []
