"""The province's policy carries the whole text of all 18 articles, as the document has it,
each with an English rendering: an explanation or an audit quotes the article a rule rests on,
never a cut of it."""

from __future__ import annotations

import re

import pytest

from fangpin_rules import Policy

from support import ROOT

SOURCE = ROOT / "policies" / "sources" / "fujian_2021_implementation_measures.txt"
SHARED = ROOT.parent / "shared" / "seed" / "fujian_2021_implementation_measures.txt"
# Where an article's text ends: the next article, the next chapter, or the closing clause.
_END = re.compile(r"\d+\.[^。]{2,12}。|[一二三四五六七八九十]+、|本《实施办法》")


def _flat(text: str) -> str:
    """Without whitespace: the document's lines break inside words at its page ends."""
    return re.sub(r"\s+", "", text)


def _document_articles() -> dict[str, tuple[str, str]]:
    """§N -> (title, text) as the document has them, whitespace removed."""
    flat = _flat(SOURCE.read_text(encoding="utf-8"))
    body = flat[flat.index("一、科学确定监测对象和范围"):]
    found: dict[str, tuple[str, str]] = {}
    for number in range(1, 19):
        head = re.search(rf"(?<![\d.]){number}\.([^。]{{2,12}})。", body)
        assert head is not None, f"article {number} not found in the document"
        rest = body[head.end():]
        end = _END.search(rest)
        found[f"§{number}"] = (head.group(1), rest[:end.start()] if end else rest)
    return found


DOCUMENT = _document_articles()


@pytest.mark.parametrize("article", sorted(DOCUMENT, key=lambda a: int(a[1:])))
def test_article_text_is_the_documents_whole_text(fujian: Policy, article: str) -> None:
    spec = fujian.checked.document.articles[article]
    title, text = DOCUMENT[article]
    assert spec.title is not None and spec.title.zh == title
    assert spec.text is not None and _flat(spec.text) == text
    assert spec.text_en and spec.title.en


def test_the_text_a_rule_rests_on_is_there(fujian: Policy) -> None:
    articles = fujian.checked.document.articles
    assert articles["§9"].text is not None and "不再按“监测对象”进行监测帮扶" in articles["§9"].text
    assert articles["§12"].text is not None and "防止陷入福利陷阱" in articles["§12"].text
    six = articles["§6"].text
    assert six is not None and len(six.splitlines()) == 13  # the duty, then 12 departments
    assert six.splitlines()[-1] == "残联部门监测重度残疾人情况。"
    assert "welfare trap" in (articles["§12"].text_en or "")
    assert "no longer monitored" in (articles["§9"].text_en or "")


def test_the_extraction_finds_all_and_only_the_articles() -> None:
    assert len(DOCUMENT) == 18
    assert DOCUMENT["§18"][1].endswith("防止层层加码。")  # not the closing clause
    assert DOCUMENT["§2"][1].endswith("相应调整年度监测范围。")  # not the next chapter


@pytest.mark.skipif(not SHARED.exists(), reason="no ../shared beside the repository")
def test_the_committed_document_is_the_shared_one() -> None:
    assert SOURCE.read_bytes() == SHARED.read_bytes()
