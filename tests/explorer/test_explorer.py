"""`fangpin doc`: the explorer of the province's policy and of a county's, escaped, linked,
searchable, and written atomically."""

from __future__ import annotations

import json
import re
import textwrap
from html import escape
from pathlib import Path

import pytest

from fangpin_rules import load_policy
from fangpin_rules.cli.main import main
from fangpin_rules.explorer import SiteRefused, collect, write_site

from explorer_support import block, parse, read, search_index
from support import FUJIAN, ROOT

JINJIANG = ROOT / "policies" / "counties" / "jinjiang_350582.yaml"


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("explorer") / "site"
    assert main(["doc", str(FUJIAN), "-o", str(out)]) == 0
    return read(out)


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("explorer") / "site"
    assert main(["doc", str(JINJIANG), "-o", str(out)]) == 0
    return read(out)


def test_every_in_page_link_has_its_target(province: str, county: str) -> None:
    for page in (province, county):
        anchors = parse(page)
        assert len(anchors.ids) == len(set(anchors.ids)), "an id given twice"
        missing = set(anchors.links) - set(anchors.ids)
        assert not missing
        assert len(anchors.links) > 300  # names, uses, contents: the page is linked through


def test_each_article_shows_its_text_and_what_encodes_it(province: str) -> None:
    policy = load_policy(FUJIAN)
    articles = policy.checked.document.articles
    for key, article in articles.items():
        assert f'id="article-{key.lstrip("§")}"' in province
        assert article.text is not None and article.text.splitlines()[0] in province
    section = province[province.index('id="article-2"'):province.index('id="article-3"')]
    for anchor in ('id="parameter-monitoring_line"', 'id="name-in_range"'):
        assert anchor in section
    # cited by §1 and §2: shown under §1, and a link to it under §2
    assert 'class="see-also"' in section and 'href="#rule-category.marginal"' in section
    assert "Monitoring range" in section  # the English title, from the policy


def test_basis_marks_and_dated_values_with_sources(province: str) -> None:
    line = block(province, "parameter-monitoring_line")
    assert "basis-document" in line and "7152" in line and "闽委振兴组〔2021〕5号" in line
    assert "2021-01-01" in line and "2021-12-31" in line
    assert "not_below" in line  # its bounds
    assert "basis-interpretation" in block(province, "name-in_range")


def test_names_link_to_their_definition_and_their_uses(province: str) -> None:
    in_range = block(province, "name-in_range")
    # the expression's names are links to their definitions
    assert '<a class="name" href="#name-per_capita_income">per_capita_income</a>' in in_range
    assert '<a class="name" href="#parameter-monitoring_line">monitoring_line</a>' in in_range
    # and a definition lists what reads it
    assert 'href="#name-in_range"' in block(province, "name-per_capita_income")
    assert 'href="#rule-category.marginal"' in block(province, "name-in_range").split(
        "used-by")[1]
    # a step reading another step links it
    assert 'href="#step-assignment"' in block(province, "step-preliminary_review")


def test_search_index_covers_every_rule_and_name(province: str) -> None:
    policy = load_policy(FUJIAN)
    entries = search_index(province)
    named = {entry["n"] for entry in entries}
    assert {rule.id for rule in policy.checked.rules()} <= named
    assert set(policy.checked.parameters) <= named and set(policy.checked.nodes) <= named
    assert {step.name for step in policy.checked.steps} <= named
    ids = set(parse(province).ids)
    assert all(entry["a"] in ids for entry in entries)


def test_county_shows_what_it_overrides_beside_the_base_value(county: str) -> None:
    line = block(county, "parameter-monitoring_line")
    assert "10500" in line and "示例：晋江市2023年监测范围" in line
    overridden = line.split('class="overrides">')
    assert len(overridden) > 1 and overridden[-1].split("<")[0].strip()  # the base's figure
    assert "quanzhou_350500.yaml" in line or "fujian_2021.yaml" in line
    rule = block(county, "rule-elimination.income_not_stable")
    assert 'class="origin"' in rule and "fujian_2021.yaml" in rule.split('class="origin"')[1]
    assert "jinjiang_350582.yaml" in rule
    assert "quanzhou-350500" in county and "fujian-2021" in county  # the chain


def test_county_values_beside_the_province_value_are_the_provinces(county: str) -> None:
    explorer = collect(load_policy(JINJIANG).checked)
    line = next(item for item in explorer.items if item.name == "monitoring_line")
    own = [v for v in line.values if v["file"].endswith("jinjiang_350582.yaml")]
    assert own and all("overrides" in v for v in own)
    assert not any("overrides" in v for v in line.values if v["file"].endswith("fujian_2021.yaml"))


HOSTILE = textwrap.dedent("""\
    policy:
      id: hostile
      title: {zh: "<script>alert('zh')</script>", en: "</script><img src=x onerror=alert(1)>"}
      effective: 2021-01-01
    articles:
      §1:
        title: {zh: "<b>粗</b> & \\"引号\\"", en: "<!-- comment"}
        text: "</script><script>alert(2)</script>"
    parameters:
      line:
        type: money
        title: {zh: "<iframe src=javascript:alert(3)>", en: "x"}
        cite: §1
        basis: document
        values:
          - {from: 2021-01-01, value: 100, source: "<svg onload=alert(4)>"}
    decisions:
      low:
        title: "<a href='javascript:alert(5)'>低</a>"
        cite: §1
        expr: net_income < line
      odd: {expr: 'household_id == "</script><b>x&amp;"', cite: "<i>no article</i>"}
    """)


def test_hostile_policy_texts_are_escaped_everywhere(tmp_path: Path) -> None:
    (tmp_path / "policy.yaml").write_text(HOSTILE, encoding="utf-8")
    out = tmp_path / "site"
    assert main(["doc", str(tmp_path / "policy.yaml"), "-o", str(out)]) == 0
    page = read(out)
    for raw in ("<script>alert", "<img", "<iframe", "<svg", "<a href='javascript", "<b>",
                "<!-- comment"):
        assert raw not in page
    assert "&lt;script&gt;alert(&#x27;zh&#x27;)&lt;/script&gt;" in page
    anchors = parse(page)
    # two scripts only: the index (data) and the page's own script file
    assert page.count("<script") == 2 and len(anchors.scripts) == 2
    index_text = anchors.scripts[0]
    assert "<" not in index_text and ">" not in index_text and "&" not in index_text
    titles = {entry["zh"] for entry in json.loads(index_text)}
    assert "<iframe src=javascript:alert(3)>" in titles  # the text itself, kept whole
    assert "&quot;&lt;/script&gt;&lt;b&gt;x&amp;amp;&quot;" in page  # a string literal
    assert "&lt;i&gt;no article&lt;/i&gt;" in block(page, "name-odd")
    assert 'id="article-other"' in page  # a citation naming no article has its own section


def test_a_policy_that_does_not_check_writes_nothing(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    bad = ROOT / "tests" / "checker" / "bad" / "unknown_name.yaml"
    assert main(["doc", str(bad), "-o", str(tmp_path / "site")]) == 2
    assert "unknown name" in capsys.readouterr().err
    assert not (tmp_path / "site").exists()


def test_output_folder_holding_other_files_is_refused(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me", encoding="utf-8")
    assert main(["doc", str(FUJIAN), "-o", str(folder)]) == 2
    assert "not an explorer site" in capsys.readouterr().err
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]


def test_output_folder_holding_the_policy_is_refused(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "policy.yaml").write_text(HOSTILE, encoding="utf-8")
    assert main(["doc", str(tmp_path / "policy.yaml"), "-o", str(tmp_path)]) == 2
    assert "would destroy it" in capsys.readouterr().err
    assert (tmp_path / "policy.yaml").read_text(encoding="utf-8") == HOSTILE


def test_a_second_run_replaces_the_site_and_a_failed_one_keeps_it(tmp_path: Path) -> None:
    site = tmp_path / "site"
    write_site({"index.html": "first", "old.html": "old"}, str(site))
    write_site({"index.html": "second"}, str(site))
    assert (site / "index.html").read_text(encoding="utf-8") == "second"
    assert not (site / "old.html").exists()
    with pytest.raises(FileNotFoundError):  # a file that cannot be written ends the run
        write_site({"index.html": "third", "no/such/folder.html": "x"}, str(site))
    assert (site / "index.html").read_text(encoding="utf-8") == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]  # no staging left behind
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(SiteRefused):
        write_site({"index.html": "x"}, str(tmp_path / "file"))


def test_warnings_are_shown_under_their_article_with_their_field(province: str) -> None:
    warnings = load_policy(FUJIAN).checked.warnings
    assert warnings
    sections = {match.split('"')[0]: province.index(f'id="article-{match}')
                for match in re.findall(r'id="article-([^"]+)"', province)}
    for warning in warnings:
        item = block(province, f"warning-{warning.id}")
        assert warning.title_zh in item and escape(warning.field) in item
        article = re.search(r"§(\d+)", warning.cite)
        assert article, warning.cite
        start = province.index(f'id="warning-{warning.id}"')
        enclosing = max(position for position in sections.values() if position < start)
        assert enclosing == sections[article.group(1)]  # under (the first of) its articles
        if warning.var:  # a check of every item of a list says which list
            assert f"{warning.var} in {warning.iterable}" in item
    assert any(warning.var for warning in warnings)
    mismatch = block(province, "warning-category_mismatch")
    assert 'href="#name-category"' in mismatch  # its condition's names are linked
    assert 'href="#warning-category_mismatch"' in block(province, "name-category")  # a use


def test_the_site_opens_offline_nothing_outside_its_folder(tmp_path: Path) -> None:
    """Every file the page loads is in the site's folder; no address leaves it."""
    out = tmp_path / "site"
    assert main(["doc", str(FUJIAN), "-o", str(out)]) == 0
    page = read(out)
    loaded = re.findall(r"<(?:link|script|img|iframe|source)\b[^>]*\b(?:href|src)=\"([^\"]*)\"",
                        page)
    assert sorted(loaded) == ["explorer.css", "explorer.js"]
    assert all((out / name).is_file() for name in loaded)
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "explorer.css", "explorer.js", "index.html"]
    for name in ("index.html", "explorer.css", "explorer.js"):
        text = (out / name).read_text(encoding="utf-8")
        assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", text), name
        assert "@import" not in text and "url(" not in text.replace("url(#", ""), name
