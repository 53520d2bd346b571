"""The browser checks themselves (tests/browser_support.py): they see a console error, a blank
page, Chinese text drawn as missing-glyph boxes, and a missing chromium."""

from __future__ import annotations

from pathlib import Path

import pytest

import browser_support
from browser_support import browser, png_distinct_rows

pytestmark = pytest.mark.slow

PAGE = ("<!doctype html><html lang=zh><head><meta charset=utf-8></head><body>"
        "<h1 id=title>审计报告 fujian-2021</h1></body></html>")
LATIN_FONTS = [d for d in ("/usr/share/fonts/truetype/dejavu",
                           "/usr/share/fonts/truetype/liberation") if Path(d).is_dir()]


def test_the_check_sees_a_console_error_and_a_blank_page(tmp_path: Path) -> None:
    broken = tmp_path / "broken.html"
    broken.write_text("<html><body><script>console.error('x'); undefinedName();</script>"
                      "</body></html>", encoding="utf-8")
    with browser() as page:
        page.open(broken)
        assert len(page.errors) == 2
        assert png_distinct_rows(page.screenshot()) == 1  # a blank page is seen as blank


def test_chinese_text_is_drawn_with_a_cjk_font(tmp_path: Path) -> None:
    """`make test` installs a CJK font (fonts-wqy-microhei) with chromium: without one every
    screenshot shows boxes for the policy's Chinese."""
    (tmp_path / "page.html").write_text(PAGE, encoding="utf-8")
    with browser() as page:
        page.open(tmp_path / "page.html")
        assert page.shows_chinese_glyphs("#title")
        assert page.evaluate("document.getElementById('title').textContent") == \
            "审计报告 fujian-2021"  # put back as it was
        assert page.errors == []


def test_the_glyph_check_sees_boxes_when_no_font_has_chinese(tmp_path: Path) -> None:
    assert LATIN_FONTS, "no Latin font to draw the rest of the page with"
    config = tmp_path / "fonts.conf"
    config.write_text('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n'
                      "<fontconfig>" + "".join(f"<dir>{d}</dir>" for d in LATIN_FONTS)
                      + f"<cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>\n",
                      encoding="utf-8")
    (tmp_path / "page.html").write_text(PAGE, encoding="utf-8")
    with browser({"FONTCONFIG_FILE": str(config)}) as page:
        page.open(tmp_path / "page.html")
        assert png_distinct_rows(page.screenshot("#title")) > 1  # the Latin text is drawn
        assert not page.shows_chinese_glyphs("#title")


def test_the_glyph_check_needs_chinese_text(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text("<html><body><p id=p>fujian</p></body></html>",
                                        encoding="utf-8")
    with browser() as page:
        page.open(tmp_path / "page.html")
        with pytest.raises(AssertionError, match="no Chinese text"):
            page.shows_chinese_glyphs("#p")


def test_a_missing_chromium_fails_and_says_make_test_installs_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(browser_support, "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setattr(browser_support.shutil, "which", lambda name: None)
    with pytest.raises(pytest.fail.Exception, match="make test` installs it"):
        browser_support.chromium_path()
