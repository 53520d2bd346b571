"""Attribution: which of a diff's changes moved each household, on a constructed pair; the
audit report (HTML), read as text and opened in headless Chromium."""

from __future__ import annotations

import json
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fangpin_rules import Policy, load_policy
from fangpin_rules.audit import diff_policies
from fangpin_rules.audit.attribution import Attribution, attribute
from fangpin_rules.audit.impact import ImpactReport
from fangpin_rules.audit.variants import Variants, apply_edits, edits_of
from fangpin_rules.cli.main import main
from fangpin_rules.source import plain

from support import FUJIAN, ROOT, household, members

HOSTILE_ZH = "监测范围</td><script>alert('zh')</script>"
HOSTILE_EN = "\"><img src=http://evil.example/x onerror=alert(1)>"

# The new version: (1) the line raised from 7152 to 7500 (with a hostile title), (2) a sharp
# drop from 40% instead of 50%, (3) in range when on the line too (`<=`).
EDITS = [
    ("      - {from: 2021-01-01, until: 2021-12-31, value: 7152, source: 闽委振兴组〔2021〕5号}\n"
     "  dibao_standard:",
     "      - {from: 2021-01-01, until: 2021-12-31, value: 7500, source: 闽委振兴组〔2021〕5号}\n"
     "  dibao_standard:"),
    ("title: {zh: 监测范围（家庭年人均纯收入）, en: Monitoring line (household annual net income "
     "per capita)}",
     "title: {zh: " + json.dumps(HOSTILE_ZH, ensure_ascii=False) + ", en: "
     + json.dumps(HOSTILE_EN) + "}"),
    ("    value: 0.5\n", "    value: 0.4\n"),
    ("expr: per_capita_income < monitoring_line\n", "expr: per_capita_income <= monitoring_line\n"),
]
LINE, DROP, ON_LINE = 0, 1, 2  # the edits, in the diff's order (parameters, then decisions)

# id -> (region, net income of one member, previous income, the edits that suffice, how)
HOUSEHOLDS: dict[str, tuple[str, str, str | None, tuple[int, ...], str]] = {
    "between": ("350181", "7300", None, (LINE,), "alone"),
    "between-2": ("350182", "7499", None, (LINE,), "alone"),
    "on-old-line": ("350181", "7152", None, (LINE, ON_LINE), "alone"),
    "on-new-line": ("350182", "7500", None, (LINE, ON_LINE), "combination"),
    "drop-45": ("350182", "20000", "36000", (DROP,), "alone"),
    "far-above": ("350181", "9000", None, (), ""),
    "drop-30": ("350181", "20000", "28000", (), ""),
}
AS_OF = "2021-09-01"


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Policy, Policy, Path]:
    folder = tmp_path_factory.mktemp("pair")
    text = FUJIAN.read_text(encoding="utf-8")
    for old, new in EDITS:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    (folder / "old.yaml").write_text(FUJIAN.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "new.yaml").write_text(text, encoding="utf-8")
    return load_policy(folder / "old.yaml"), load_policy(folder / "new.yaml"), folder


def _records() -> list[dict[str, Any]]:
    out = []
    for hid, (region, income, previous, _, _) in HOUSEHOLDS.items():
        extra = {"previous_net_income": Decimal(previous)} if previous else {}
        out.append(household(household_id=hid, region_code=region, members=members(1),
                             net_income=Decimal(income), **extra))
    return out


@pytest.fixture(scope="module")
def attributed(pair: tuple[Policy, Policy, Path]) -> tuple[ImpactReport, Attribution]:
    old, new, _ = pair
    return attribute(old, new, diff_policies(old, new), _records(), AS_OF)


def test_every_household_is_attributed_to_the_changes_that_move_it(
        attributed: tuple[ImpactReport, Attribution]) -> None:
    report, attribution = attributed
    assert [e.label for e in attribution.edits] == [
        "parameters.monitoring_line", "parameters.sharp_drop_ratio", "decisions.in_range"]
    rows = {row.household_id: row for row in attribution.rows}
    moved = {hid for hid, spec in HOUSEHOLDS.items() if spec[3]}
    assert set(rows) == moved and report.changed == len(moved) == attribution.households
    for hid, (_, _, _, sufficient, how) in HOUSEHOLDS.items():
        if not sufficient:
            continue
        row = rows[hid]
        assert (row.sufficient, row.how, row.minimal) == (sufficient, how, True), hid
        if how == "alone":
            assert row.alone == sufficient
        else:  # neither alone; both together, and so the cumulative prefix of all three
            assert row.alone == () and row.cumulative == 3
    assert rows["on-new-line"].items == ("parameters.monitoring_line", "decisions.in_range")
    assert rows["on-new-line"].articles == ("§2",) and rows["drop-45"].articles == ("§1",)
    between = dict((name, (old, new)) for name, old, new in rows["between"].outputs)
    assert between["in_range"] == (False, True) and between["category"] == (None, "marginal")
    assert dict((n, (o, v)) for n, o, v in rows["drop-45"].outputs)["risks"] == (
        [], ["income_drop"])


def test_counts_per_change_and_combination(attributed: tuple[ImpactReport, Attribution]) -> None:
    _, attribution = attributed
    expected_alone: Counter[int] = Counter()
    expected_in: Counter[int] = Counter()
    for _, _, _, sufficient, how in HOUSEHOLDS.values():
        expected_in.update(sufficient)
        if how == "alone":
            expected_alone.update(sufficient)
    assert attribution.moved_alone == expected_alone
    assert attribution.attributed == expected_in
    assert attribution.by_combination == Counter(
        {(LINE,): 2, (LINE, ON_LINE): 2, (DROP,): 1})
    assert attribution.by_how == Counter({"alone": 4, "combination": 1})
    data = attribution.to_json()
    assert [e["articles"] for e in data["edits"]] == [["§2"], ["§1"], ["§2"]]
    assert [e["changes"] for e in data["edits"]] == [[1, 2], [3], [4]]  # value and title


def test_matrix_and_regions_reconcile_with_the_decisions_summed_independently(
        pair: tuple[Policy, Policy, Path],
        attributed: tuple[ImpactReport, Attribution]) -> None:
    old, new, _ = pair
    report, attribution = attributed
    matrix: Counter[tuple[Any, Any]] = Counter()
    regions: dict[str, Counter[str]] = {}
    for record in _records():
        before, after = old.evaluate(record, AS_OF), new.evaluate(record, AS_OF)
        matrix[(before["category"], after["category"])] += 1
        figures = regions.setdefault(record["region_code"], Counter())
        figures["compared"] += 1
        figures["changed"] += before["in_range"] != after["in_range"] or \
            before["risks"] != after["risks"]
        figures[f"category {before['category']} {after['category']}"] += 1
    assert report.transitions["category"] == matrix
    assert set(attribution.regions) == set(regions)
    for region, figures in attribution.regions.items():
        assert (figures.compared, figures.changed) == (regions[region]["compared"],
                                                       regions[region]["changed"])
        for (before, after), count in figures.transitions["category"].items():
            assert regions[region][f"category {before} {after}"] == count
    assert sum(f.compared for f in attribution.regions.values()) == report.compared


def test_a_variant_is_the_old_tree_with_the_new_items(pair: tuple[Policy, Policy, Path]) -> None:
    old, new, _ = pair
    assert old.sourced is not None and new.sourced is not None
    edits = edits_of(diff_policies(old, new), old.sourced.tree, new.sourced.tree)
    everything = apply_edits(old.sourced.tree, new.sourced.tree, edits)
    assert plain(everything) == plain(new.sourced.tree)
    assert plain(apply_edits(old.sourced.tree, new.sourced.tree, ())) == plain(old.sourced.tree)
    variants = Variants(old, new, edits)
    line_only = variants.build([LINE])
    assert line_only.parameters_on(AS_OF)["monitoring_line"] == 7500
    assert line_only.parameters_on(AS_OF)["sharp_drop_ratio"] == Decimal("0.5")
    # the grafted value keeps the line it has in the new file; the rest, the old file's
    assert line_only.checked.parameters["monitoring_line"].values[0].location.file.endswith(
        "new.yaml")
    assert line_only.checked.parameters["sharp_drop_ratio"].location.file.endswith("old.yaml")
    assert variants.build([LINE]) is line_only  # compiled once


def test_beyond_the_variant_limit_attribution_is_left_out_and_says_why(
        pair: tuple[Policy, Policy, Path]) -> None:
    old, new, _ = pair
    report, attribution = attribute(old, new, diff_policies(old, new), _records(), AS_OF,
                                    limit=4)
    assert report.changed == 5 and attribution.households == 0 and not attribution.rows
    assert attribution.skipped is not None
    assert "5 policy variants, more than 4" in attribution.skipped
    assert "MAX_ATTRIBUTION_VARIANTS" in attribution.skipped
    assert attribution.regions["350182"].changed == 3  # regions are still counted


def test_a_combination_search_cut_short_reports_the_prefix_as_not_minimal(
        pair: tuple[Policy, Policy, Path]) -> None:
    old, new, _ = pair
    records = [r for r in _records() if r["household_id"] == "on-new-line"]
    # 3 alone + the prefixes of 2 and 3 = 5 variants: none left for the pair {1, 3}
    _, attribution = attribute(old, new, diff_policies(old, new), records, AS_OF, limit=5)
    (row,) = attribution.rows
    assert (row.how, row.sufficient, row.minimal) == ("cumulative", (0, 1, 2), False)


def _cli(pair: tuple[Policy, Policy, Path], *more: str) -> int:
    _, _, folder = pair
    records = folder / "h.jsonl"
    lines = [json.dumps(r, default=str) for r in _records()] + ['{"household_id": "broken"']
    records.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return main(["diff", str(folder / "old.yaml"), str(folder / "new.yaml"), "--impact",
                 str(records), "--as-of", AS_OF, *more])


def test_cli_exits_1_with_rejects_and_writes_attribution_everywhere(
        pair: tuple[Policy, Policy, Path], capsys: pytest.CaptureFixture[str]) -> None:
    folder = pair[2]
    changed = folder / "changed.jsonl"
    assert _cli(pair, "--format", "json", "--impact-out", str(changed)) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["impact"]["rejected"] == 1 and data["attribution"]["households"] == 5
    lines = [json.loads(line) for line in changed.read_text(encoding="utf-8").splitlines()]
    assert {line["household_id"]: line["attribution"]["edits"] for line in lines} == {
        hid: [i + 1 for i in spec[3]] for hid, spec in HOUSEHOLDS.items() if spec[3]}
    assert _cli(pair, "--format", "markdown") == 1
    markdown = capsys.readouterr().out
    assert "| [1] | `parameters.monitoring_line` | 1, 2 | §2 | 3 | 4 |" in markdown
    assert "| on-new-line | [1] + [3] | 组合 |" in markdown
    assert re.search(r"\| 影响 \|\n", markdown)  # the column the text output has
    assert "| 350182 | 3 | 3 |" in markdown
    assert _cli(pair) == 1
    text = capsys.readouterr().out
    assert "  on-new-line: [1] + [3] 组合" in text
    assert "[2] parameters.sharp_drop_ratio（变更 #3，依据 §1）：单独即可 1 户，归入 1 户" in text


@pytest.fixture(scope="module")
def report_html(pair: tuple[Policy, Policy, Path]) -> Path:
    out = pair[2] / "report.html"
    assert _cli(pair, "--html", str(out), "-o", str(pair[2] / "report.txt")) == 1
    return out


def test_the_report_is_one_file_that_refers_to_nothing_outside(report_html: Path) -> None:
    page = report_html.read_text(encoding="utf-8")
    tags = _tags(page)
    assert {name for name, _ in tags} <= {"html", "head", "meta", "title", "style", "body",
                                          "button", "h1", "h2", "h3", "p", "code", "span",
                                          "table", "tr", "th", "td", "br", "svg", "line",
                                          "text", "tspan", "circle", "script"}
    for name, attrs in tags:
        for key, value in attrs:
            assert key not in ("src", "href", "xlink:href", "action"), (name, key, value)
    assert "@import" not in page and "url(" not in page
    for text in ("审计报告", "Audit report", "变更归因", "Attribution", "<svg id=\"chart\"",
                 'class="matrix" data-output="category"', "on-new-line", "[1] + [3]",
                 "§2", "old.yaml:", "new.yaml:"):
        assert text in page, text


def _tags(page: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    from html.parser import HTMLParser

    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Tags(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, attrs))

    Tags().feed(page)
    return found


def test_hostile_titles_are_escaped_in_the_page_and_its_script(report_html: Path) -> None:
    page = report_html.read_text(encoding="utf-8")
    assert HOSTILE_ZH not in page and HOSTILE_EN not in page
    assert "<script>alert" not in page and "<img" not in page
    assert not any(key.startswith("on") for _, attrs in _tags(page) for key, _ in attrs)
    assert "监测范围&lt;/td&gt;&lt;script&gt;alert(&#x27;zh&#x27;)&lt;/script&gt;" in page
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", page, re.DOTALL)
    assert len(scripts) == 2  # the report's data and the language switch
    assert "<" not in scripts[0] and ">" not in scripts[0] and "&" not in scripts[0]
    data = json.loads(scripts[0])
    titles = [c["title"] for c in data["changes"] if c["field"] == "title"]
    assert titles == [HOSTILE_ZH]  # the JSON still says exactly what the policy says


@pytest.mark.slow
def test_the_report_opens_in_chromium_switches_language_and_draws(report_html: Path) -> None:
    from browser_support import browser, png_distinct_rows

    with browser() as page:
        page.open(report_html)
        visible = ("(s) => getComputedStyle(document.querySelector(s)).display !== 'none'")
        assert page.evaluate(f"({visible})('h1 .zh') && !({visible})('h1 .en')") is True
        assert page.shows_chinese_glyphs("h1 .zh")  # drawn, not boxes
        assert page.evaluate("document.querySelectorAll('#chart circle').length") == 5
        first = page.screenshot()
        page.click("#lang-switch")
        assert page.evaluate(f"({visible})('h1 .en') && !({visible})('h1 .zh')") is True
        assert page.evaluate("document.documentElement.lang") == "en"
        assert "Audit report" in page.evaluate("document.body.innerText")
        assert "审计报告" not in page.evaluate("document.body.innerText")
        second = page.screenshot()
        assert png_distinct_rows(first) > 20 and png_distinct_rows(second) > 20
        assert first != second  # the switch changed what is shown
        assert page.errors == []


def test_a_county_that_extends_the_province_is_attributed_on_the_merged_tree() -> None:
    old, new = load_policy(FUJIAN), load_policy(ROOT / "policies" / "counties" /
                                                "jinjiang_350582.yaml")
    record = household(household_id="A", members=members(1), net_income=Decimal("7300"))
    _, attribution = attribute(old, new, diff_policies(old, new), [record], AS_OF)
    (row,) = attribution.rows
    # the county raises its dibao standard and its line: neither alone is a policy that checks
    # or moves A (below the county's dibao standard it gains dibao too); together they do
    assert row.items == ("parameters.monitoring_line", "parameters.dibao_standard")
    assert (row.how, row.minimal) == ("combination", True)
    dibao_alone = str(1 + [e.label for e in attribution.edits].index(
        "parameters.dibao_standard"))
    problem = attribution.variants_failed[dibao_alone]
    assert "not_below" in problem and "fujian_2021.yaml:" in problem


def test_a_long_run_on_a_terminal_shows_its_progress(
        pair: tuple[Policy, Policy, Path], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import io

    from fangpin_rules.cli import progress

    terminal = io.StringIO()
    shown: list[progress.Progress] = []

    def on_a_terminal(stderr: Any, source: Any, out: Any = None) -> progress.Progress:
        shown.append(progress.Progress(terminal, interval=0))
        return shown[-1]

    monkeypatch.setattr(progress, "progress_for", on_a_terminal)
    assert _cli(pair, "--format", "json") == 1
    capsys.readouterr()
    assert shown and shown[0].records == len(HOUSEHOLDS) + 1  # the rejected line counts too
    assert terminal.getvalue().rstrip("\n").endswith("\x1b[K")
    assert f"\r{len(HOUSEHOLDS) + 1:,} records" in terminal.getvalue()


def test_every_section_of_a_diff_is_an_edit_and_the_report_names_it(
        pair: tuple[Policy, Policy, Path]) -> None:
    from fangpin_rules.audit.changes import SECTIONS, Change, PolicyDiff
    from fangpin_rules.audit.report_html import SECTION_EN

    old, new, _ = pair
    assert old.sourced is not None and new.sourced is not None
    assert set(SECTION_EN) == set(SECTIONS)
    names = {"rule": "category.marginal", "definition": "size", "decision": "category"}
    changes = tuple(Change(section, "changed", names.get(section, "x"), "title", "a", "b")
                    for section in SECTIONS)
    diff = PolicyDiff(diff_policies(old, new).old, diff_policies(old, new).new, changes)
    edits = edits_of(diff, old.sourced.tree, new.sourced.tree)
    assert [e.label for e in edits] == [
        "policy.title", "articles.x", "vocabularies.x", "parameters.x", "definitions.size",
        "decisions.category", "decisions.category.rules[category.marginal]", "procedure.x",
        "warnings.x", "duties.x", "calendar.years.x"]
