"""Reading the explorer's HTML back in the tests: ids, links, one item's block, the index."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any


class Anchors(HTMLParser):
    """Every element id and every in-page link (`href="#..."`) of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.links: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.append(str(values["id"]))
        href = values.get("href")
        if href and href.startswith("#"):
            self.links.append(href[1:])
        if tag == "script":
            self._in_script = True
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def parse(page: str) -> Anchors:
    anchors = Anchors()
    anchors.feed(page)
    return anchors


def block(page: str, anchor: str) -> str:
    """The HTML of the item whose id is `anchor` (up to its closing tag)."""
    start = page.rindex("<article", 0, page.index(f'id="{anchor}"'))
    return page[start:page.index("</article>", start)]


def search_index(page: str) -> list[dict[str, Any]]:
    match = re.search(r'<script type="application/json" id="search-index">(.*?)</script>',
                      page, re.S)
    assert match, "no search index"
    entries: list[dict[str, Any]] = json.loads(match.group(1))
    return entries


def read(folder: Path) -> str:
    return (folder / "index.html").read_text(encoding="utf-8")
