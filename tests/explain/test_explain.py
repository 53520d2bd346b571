"""`explain` and `fangpin explain`: an account for people, from the trace, with articles."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from fangpin_rules import Policy, RecordError
from fangpin_rules.cli.main import main
from fangpin_rules.explain import explain, render_text

from support import FUJIAN, RECORDS_MD_HOUSEHOLD, household, members, policy_from_text


def _rules(account: dict[str, Any], name: str) -> list[dict[str, Any]]:
    (decision,) = [d for d in account["decisions"] if d["name"] == name]
    return list(decision["rules"])


def test_records_md_example_names_every_rule_behind_category_and_measures(
        fujian: Policy) -> None:
    account = explain(fujian, RECORDS_MD_HOUSEHOLD, "2021-09-01")
    category = [r for r in _rules(account, "category") if r["result"]]
    assert [(r["id"], r["cite"]) for r in category] == [("category.unstable", "§1")]
    measures = [r for r in _rules(account, "measures") if r["result"]]
    assert [(r["id"], r["cite"]) for r in measures] == [
        ("measure.health", "§10"), ("measure.temporary_assistance", "§14")]
    cited = {a["cite"]: a for a in account["articles"]}
    assert {"§1", "§10", "§14"} <= set(cited)
    assert "符合低保条件的监测对象，及时纳入低保范围" in cited["§14"]["text"]
    text = render_text(account)
    for line in ("■ 监测对象类别: 脱贫不稳定户  [§1]",
                 # [E2] item 4: the income test of `unstable` is marked interpretation
                 "依据 规则 category.unstable (§1, 本项目解释) 成立",
                 "✓ 扣除刚性支出后的人均收入 6,000 元 < 监测范围 7,152 元 ✓ 或 "
                 "“两不愁三保障”及饮水安全存在问题 否",
                 "■ 帮扶措施: [健康帮扶、临时救助（急难型）]  [§10, §12]",
                 "依据 规则 measure.health (§10) 成立",
                 "依据 规则 measure.temporary_assistance (§14) 成立",
                 "§14 强化兜底保障: 保持低保、医疗、养老保险和特困人员救助供养等"):
        assert line in text


def test_values_compared_are_shown_with_the_line(fujian: Policy) -> None:
    record = household(members=members(1), net_income=5800)
    text = render_text(explain(fujian, record, "2021-09-01"))
    assert "= 家庭年人均纯收入 5,800 元 < 监测范围 7,152 元" in text
    assert "■ 监测对象类别: 边缘易致贫户  [§1]" in text


def test_a_negative_decision_shows_the_condition_that_failed(fujian: Policy) -> None:
    account = explain(fujian, household(), "2021-09-01")
    rules = _rules(account, "category")
    # [E2]: the three rules that keep a recorded category fail too
    assert [r["result"] for r in rules] == [False] * 6
    first = rules[0]["conditions"][0]
    assert (first["expr"], first["value"], first["text"]) == ("formerly_poor", False, "脱贫户 否")
    text = render_text(account)
    assert "■ 监测对象类别: 无  [§1]" in text
    assert "→ 以上规则均不适用" in text
    assert "✗ 脱贫户 否" in text


def test_unknown_inputs_are_listed_for_the_officer(fujian: Policy) -> None:
    record = household(housing_safe=None)
    account = explain(fujian, record, "2021-09-01")
    assert {"input": "housing_safe", "label": "住房安全"} in account["unknown_inputs"]
    text = render_text(account)
    assert "以下输入未知（请核实）:" in text and "\n  住房安全 (housing_safe)\n" in text


def test_english(fujian: Policy) -> None:
    account = explain(fujian, RECORDS_MD_HOUSEHOLD, "2021-09-01", lang="en")
    text = render_text(account)
    assert "■ Monitoring category: formerly poor, not yet stable  [§1]" in text
    assert "per-capita income after rigid expenditure 6,000 yuan < monitoring line 7,152 yuan" \
        in text
    assert "§9 Marking risk eliminated: A household whose income is continuously stable" in text


def test_bad_record_and_bad_language(fujian: Policy) -> None:
    with pytest.raises(RecordError):
        explain(fujian, {"household_id": "x"}, "2021-09-01")
    with pytest.raises(ValueError, match="lang"):
        explain(fujian, RECORDS_MD_HOUSEHOLD, "2021-09-01", lang="fr")


def test_cli_text_json_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = tmp_path / "h.json"
    record.write_text(json.dumps(RECORDS_MD_HOUSEHOLD), encoding="utf-8")
    assert main(["explain", str(FUJIAN), str(record), "--as-of", "2021-09-01"]) == 0
    assert "依据 规则 category.unstable (§1, 本项目解释) 成立" in capsys.readouterr().out
    assert main(["explain", str(FUJIAN), str(record), "--as-of", "2021-09-01",
                 "--format", "json", "--lang", "en"]) == 0
    account = json.loads(capsys.readouterr().out)
    assert account["household_id"] == "350181-0001" and account["lang"] == "en"
    bad = tmp_path / "bad.json"
    bad.write_text('{"household_id": "x", "formerly_poor": true}', encoding="utf-8")
    assert main(["explain", str(FUJIAN), str(bad), "--as-of", "2021-09-01"]) == 1
    assert "household x" in capsys.readouterr().err
    two = tmp_path / "two.jsonl"
    two.write_text(json.dumps(RECORDS_MD_HOUSEHOLD) + "\n" + json.dumps(RECORDS_MD_HOUSEHOLD)
                   + "\n", encoding="utf-8")
    assert main(["explain", str(FUJIAN), str(two), "--as-of", "2021-09-01"]) == 2
    assert main(["explain", str(FUJIAN), str(record), "--as-of", "2020-01-01"]) == 2


def test_durations_and_dates_read_naturally_in_each_language() -> None:
    from fangpin_rules import load_policy
    from fangpin_rules.explain import explain, render_text

    from support import FUJIAN, RECORDS_MD_HOUSEHOLD

    policy = load_policy(FUJIAN)
    zh = render_text(explain(policy, RECORDS_MD_HOUSEHOLD, "2021-09-01", lang="zh"))
    en = render_text(explain(policy, RECORDS_MD_HOUSEHOLD, "2021-09-01", lang="en"))
    assert "乡镇初审时限 5 个工作日 (§7, 2021-06-04 起)" in zh
    assert "低保延保渐退期 12 个月" in zh
    assert "5 working days (§7, from 2021-06-04)" in en


def test_deadlines_are_explained_with_their_article_and_status() -> None:
    from fangpin_rules import load_policy
    from fangpin_rules.explain import explain, render_text

    from support import FUJIAN, RECORDS_MD_HOUSEHOLD

    case = {"case_id": "C-7", "household_id": "350181-0001", "source": "media",
            "received_on": "2021-09-30", "assigned_on": "2021-10-11"}
    policy = load_policy(FUJIAN)
    account = explain(policy, RECORDS_MD_HOUSEHOLD, "2021-10-20", cases=[case])
    steps = {s["step"]: s for s in account["deadlines"]}
    assert (steps["assignment"]["status"], steps["assignment"]["late_working_days"]) == (
        "late", 2)
    text = render_text(account)
    assert "次日交办 [§7]: 应于 2021-10-08 · 完成于 2021-10-11 · 逾期完成 (2 个工作日)" in text
    # 5 working days after Mon 11 October 2021: the 12th, 13th, 14th, 15th and 18th
    assert "乡镇党委政府5个工作日内完成初审 [§7]: 应于 2021-10-18 · 尚未完成 · 已逾期" in text
    assert "§7 及时组织核实: 对农户申报和排查筛查发现的预警信息" in text
    english = render_text(explain(policy, RECORDS_MD_HOUSEHOLD, "2021-10-20", lang="en",
                                  cases=[case]))
    assert "Assignment the next (working) day [§7]: due 2021-10-08 · done 2021-10-11 · LATE " \
        "(2 working days)" in english


def test_explain_cli_reads_the_households_cases(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from fangpin_rules.cli.main import main

    from support import FUJIAN, RECORDS_MD_HOUSEHOLD

    record = tmp_path / "household.json"
    record.write_text(json.dumps(RECORDS_MD_HOUSEHOLD), encoding="utf-8")
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps({"case_id": "C-8", "household_id": "350181-0001",
                                 "source": "media", "received_on": "2021-09-30"}) + "\n"
                     + json.dumps({"case_id": "OTHER", "household_id": "someone-else",
                                   "source": "media", "received_on": "2021-09-30"}) + "\n",
                     encoding="utf-8")
    assert main(["explain", str(FUJIAN), str(record), "--as-of", "2021-10-20",
                 "--cases", str(cases), "--format", "json"]) == 0
    account = json.loads(capsys.readouterr().out)
    assert {s["case_id"] for s in account["deadlines"]} == {"C-8"}


def test_conditions_over_members_read_in_words() -> None:
    from fangpin_rules import load_policy
    from fangpin_rules.explain import explain, render_text

    from support import FUJIAN, RECORDS_MD_HOUSEHOLD

    policy = load_policy(FUJIAN)
    zh = render_text(explain(policy, RECORDS_MD_HOUSEHOLD, "2021-09-01"))
    en = render_text(explain(policy, RECORDS_MD_HOUSEHOLD, "2021-09-01", lang="en"))
    assert "✓ 有家庭成员满足：成员健康状况 = 大病重病" in zh
    assert "✓ some of members: a member's health = serious illness" in en
    assert "for m in members" not in zh


# -- read as an officer would: hand-written expected lines for the records.md household ---------
def _both(policy: Policy, record: dict[str, Any] = RECORDS_MD_HOUSEHOLD,
          as_of: str = "2021-09-01") -> tuple[str, str]:
    return (render_text(explain(policy, record, as_of)),
            render_text(explain(policy, record, as_of, lang="en")))


def test_a_comparison_shows_the_relation_that_holds_and_whether_the_test_held(
        fujian: Policy) -> None:
    zh, en = _both(fujian)
    # `per_capita_income < monitoring_line` fails: 18,000 is not below 7,152
    assert ("■ 收入低于监测范围: 否  [§2, 本项目解释]\n"
            "  = 家庭年人均纯收入 18,000 元 ≥ 监测范围 7,152 元 ✗\n") in zh
    assert "  = annual net income per capita 18,000 yuan ≥ monitoring line 7,152 yuan ✗\n" in en
    assert ("不愁吃穿 是 ≠ 否 ✗ 或 (刚性支出合计（医疗、教育、灾害、意外） 12,000 元 > 0 ✓ 且 "
            "扣除刚性支出后的人均收入 6,000 元 < 农村低保标准 7,152 元 ✓)") in zh


def test_no_raw_expression_where_a_title_can_stand(fujian: Policy) -> None:
    zh, en = _both(fujian)
    assert "✓ 风险类型数 2 ≥ 2" in zh and "✓ number of risks 2 ≥ 2" in en
    assert "且 特殊群体数 1 > 0 ✓" in zh
    for raw in ("count(", "if dibao", " then ", "?? as_of", "_or_", "1 day else"):
        assert raw not in zh, raw
    assert ("= 若 已纳入低保 否 ≠ 是 ✗ 且 "
            "家庭年人均纯收入 18,000 元 > 农村低保标准 7,152 元 ✓ 且 "
            "复核认定收入超过低保标准的日期 未知 = 无 ✗，则为 ") in zh
    assert "；否则为 无\n" in zh and "; otherwise none\n" in en


def test_structured_values_and_coded_inputs_read_in_words(fujian: Policy) -> None:
    zh, en = _both(fujian)
    cadre = zh.split("■ 帮扶干部: ")[1].split("\n")[0]
    assert "副科级以上干部挂钩帮扶" in cadre
    assert "■ 农村低保: 建议纳入低保（应保尽保） 否；延保渐退期最后一天 无  [§14]" in zh
    assert "■ Rural dibao: recommend dibao enrolment no; last day of the dibao grace period none" \
        in en
    assert "✓ 监测状态 未纳入监测 ≠ 监测对象" in zh
    assert "✓ monitoring status not monitored ≠ monitored" in en
    # a rule says what it tests by its title, in the language asked, with its basis
    assert "依据 规则 mode.comprehensive (§12, 本项目解释) 成立: 有两种及以上风险" in zh
    assert "by rule mode.comprehensive (§12, interpretation) holds: Two or more risks" in en


def test_english_has_no_chinese_where_the_policy_gives_english(fujian: Policy) -> None:
    _, en = _both(fujian)
    body = en.split("\nArticles:\n")[0].split("\n", 1)[1]  # the head names the document
    chinese = [line for line in body.splitlines()
               if any("\u4e00" <= char <= "\u9fff" for char in line)]
    assert chinese == []


def test_an_input_whose_null_means_none_is_not_listed_as_unknown(fujian: Policy) -> None:
    # records.md: a null disability grade is no disability; a dibao date of a household not in
    # dibao does not apply
    zh, en = _both(fujian)
    assert "以下输入未知" not in zh and "Unknown inputs" not in en
    unknown = {**RECORDS_MD_HOUSEHOLD, "housing_safe": None}
    zh, _ = _both(fujian, unknown)
    assert "以下输入未知（请核实）:\n  住房安全 (housing_safe)\n\n" in zh


def test_interpretation_marks_are_shown(fujian: Policy) -> None:
    zh, en = _both(fujian)
    assert "■ 临时救助（急难型）: 是  [§14, 本项目解释]" in zh
    assert "■ Emergency temporary assistance: yes  [§14, interpretation]" in en
    assert "收入大幅缩减的比例 0.5 (§1, 2021-06-04 起, 本项目解释)" in zh


def test_an_article_of_several_paragraphs_stays_indented(fujian: Policy) -> None:
    zh, _ = _both(fujian)
    six = zh.split("  §6 强化筛查预警: ", 1)[1].split("\n  §", 1)[0]
    lines = six.splitlines()
    assert len(lines) == 13 and all(line.startswith("      ") for line in lines[1:])
    assert lines[-1].strip() == "残联部门监测重度残疾人情况。"


def test_a_rule_resting_on_law_is_marked_so(tmp_path: Path) -> None:
    from support import policy_from_text

    policy = policy_from_text(tmp_path, """\
policy: {id: law-case, title: law case, effective: 2021-01-01}
articles:
  §1: {title: {zh: 劳动年龄, en: Working age}, text: 未满十六周岁的不是劳动力。,
       text_en: A minor under 16 is not labour.}
decisions:
  minors_only:
    title: {zh: 家庭成员均未满十六周岁, en: Every member is under 16}
    cite: §1
    basis: law
    expr: all(age(m.birth_date) < 16 for m in members)
""")
    record = {**RECORDS_MD_HOUSEHOLD}
    zh = render_text(explain(policy, record, "2021-09-01"))
    en = render_text(explain(policy, record, "2021-09-01", lang="en"))
    assert "■ 家庭成员均未满十六周岁: 否  [§1, 法律规定]" in zh
    assert "■ Every member is under 16: no  [§1, by law]" in en


def test_every_example_household_reads_without_expression_syntax(fujian: Policy) -> None:
    """Over the example households and their cases, in both languages: no expression syntax
    (rule ids and input paths in brackets are references an auditor looks up, and stay)."""
    root = Path(__file__).resolve().parents[2] / "examples"
    households = [json.loads(line) for line in
                  (root / "households.jsonl").read_text(encoding="utf-8").splitlines()]
    cases = [json.loads(line) for line in
             (root / "cases.jsonl").read_text(encoding="utf-8").splitlines()]
    syntax = re.compile(r"count\(|\?\?|\bfor [a-z] in\b|==|!=|>=|<=|\bif\b|\bthen\b|\belse\b")
    references = re.compile(r"(规则|rule) [a-z_]+\.[a-z_]+|\([a-z_.\[\]]+\)$")
    for record in households:
        own = [c for c in cases if c["household_id"] == record["household_id"]]
        for lang in ("zh", "en"):
            text = render_text(explain(fujian, record, "2025-06-30", lang=lang, cases=own))
            body = re.split(r"\n(条文|Articles):\n", text)[0].split("\n", 1)[1]
            for line in body.splitlines():
                plain = references.sub("", line)
                assert not syntax.search(plain), (record["household_id"], lang, line)
                assert not re.search(r"[a-z]+_[a-z_]+", plain), (record["household_id"], line)
                if lang == "en":
                    assert not re.search("[\u4e00-\u9fff]", line), line
                assert "case." not in line


UNTITLED = """\
policy: {id: bands, title: bands, effective: 2021-01-01}
articles:
  §1: {title: 收入分档, text: 收入低于标准的为低收入。, text_en: Income below the line is low.}
vocabularies:
  band:
    low: {zh: 低收入, en: low}
    high: {zh: 高收入, en: high}
parameters:
  line: {type: money, title: {zh: 标准, en: line}, cite: §1, basis: document, value: 100}
decisions:
  band:
    kind: first_match
    type: band
    cite: §1
    rules:
      - {id: band.low, when: net_income < line, then: low, cite: §1}
      - {id: band.high, when: net_income >= line, then: high, cite: §1, title: 收入达到标准}
    otherwise: null
"""


@pytest.mark.parametrize(("net_income", "lang", "line"), [
    (80, "zh", "依据 规则 band.low (§1) 成立: 低收入"),
    (80, "en", "by rule band.low (§1) holds: low"),
    (120, "zh", "依据 规则 band.high (§1) 成立: 收入达到标准"),
    # a Chinese-only title: the English says the outcome instead
    (120, "en", "by rule band.high (§1) holds: high"),
])
def test_a_rule_without_a_title_is_explained_by_its_outcome(
        tmp_path: Path, net_income: int, lang: str, line: str) -> None:
    policy = policy_from_text(tmp_path, UNTITLED)
    record = household(members=members(1), net_income=net_income)
    account = explain(policy, record, "2021-09-01", lang=lang)
    low = _rules(account, "band")[0]  # the rules up to the first that holds
    assert low["title"] is None and low["outcome"] == ["低收入" if lang == "zh" else "low"]
    text = render_text(account)
    assert line in [shown.strip() for shown in text.splitlines()], text


def test_a_nested_aggregate_tells_the_two_members_apart(tmp_path: Path) -> None:
    """Inside the aggregate over `n`, a field of the outer item `m` is "that" member's."""
    policy = policy_from_text(tmp_path, """\
policy:
  id: nested
  title: nested
  effective: 2021-01-01
decisions:
  twins:
    expr: any(count(n.birth_date == m.birth_date for n in members) > 1 for m in members)
""")
    born = [{"member_id": str(k), "birth_date": day, "health": "healthy"}
            for k, day in enumerate(["1980-01-01", "1985-03-04", "1980-01-01"])]
    record = household(members=born)
    (zh,) = explain(policy, record, "2021-09-01")["decisions"]
    (en,) = explain(policy, record, "2021-09-01", lang="en")["decisions"]
    assert zh["value"] is True
    assert zh["computed"] == ("有家庭成员满足：家庭成员中满足「成员出生日期 = 该成员出生日期」"
                              "的人数 > 1")
    assert "a member's birth date = that member's birth date" in en["computed"]
