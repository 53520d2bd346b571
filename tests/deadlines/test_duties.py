"""The policy's periodic duties (§5, §6, §11, §16): what the document says, and each one's
current period on a date."""

from __future__ import annotations

from datetime import date

import pytest

from fangpin_rules import Policy

# The articles' words, from the document (闽委振兴组〔2021〕5号).
ARTICLES = {
    "§5": "健全工作机制，依靠乡村干部、驻村干部、乡村网格员等基层力量，每月组织开展常态化摸排。"
    "以县（市、区）为单位，建立风险预警信息台帐，每月一汇总，每季一调度，每半年开展一次集中排查。",
    "§6": "各相关行业主管部门根据职责分工，每月组织开展一次专项筛查，并及时将预警信息分类分级"
    "反馈基层核实，同时推送同级乡村振兴部门汇总。各级乡村振兴部门牵头监测预警工作，每月向同级各行业"
    "主管部门推送监测对象认定及风险消除信息，推动帮扶政策精准落实。",
    "§7": "对农户申报和排查筛查发现的预警信息，以县（市、区）为单位，实行“日汇总、周核实”制度，"
    "每天汇总一次信息，次日交办，乡镇党委政府5个工作日内完成初审，1个月内完成核实。",
    "§11": "挂钩干部每季度至少入户帮扶一次。",
    "§16": "各级行业主管部门根据职责分工，共同开展筛查预警和监测帮扶，每季度集中研判规模性返贫"
    "风险隐患，制定应对措施，有力有序抓好落实。",
}
HOW_OFTEN = {"daily": "每天", "weekly": "周核实", "monthly": "每月", "quarterly": "每季",
             "half_yearly": "每半年"}


def test_each_duty_cites_its_article_and_quotes_it(fujian: Policy) -> None:
    duties = fujian.checked.document.duties
    assert {name: (d.cite, d.frequency) for name, d in duties.items()} == {
        "routine_screening": ("§5", "monthly"),
        "ledger_summary": ("§5", "monthly"),
        "sector_screening": ("§6", "monthly"),
        "monitoring_push": ("§6", "monthly"),
        "dispatch": ("§5", "quarterly"),
        "regional_risk_review": ("§16", "quarterly"),
        "cadre_visit": ("§11", "quarterly"),
        "concentrated_screening": ("§5", "half_yearly"),
        "daily_summary": ("§7", "daily"),
        "weekly_verification": ("§7", "weekly"),
    }
    for name, duty in duties.items():
        assert duty.text is not None
        words = duty.text.rstrip("。").replace("……", "…")
        for piece in words.split("…"):
            assert piece in ARTICLES[duty.cite], name
        assert HOW_OFTEN[duty.frequency] in duty.text, name


@pytest.mark.parametrize(("as_of", "expected"), [
    ("2021-10-08", {"daily_summary": ("2021-10-08", date(2021, 10, 8), date(2021, 10, 8)),
                    # a Friday: the ISO week runs to Sunday, its last working day is Saturday
                    # 2021-10-09, a make-up working day after National Day
                    "weekly_verification": ("2021-W40", date(2021, 10, 10), date(2021, 10, 9)),
                    "routine_screening": ("2021-10", date(2021, 10, 31), date(2021, 10, 29)),
                    "cadre_visit": ("2021Q4", date(2021, 12, 31), date(2021, 12, 31)),
                    "concentrated_screening": ("2021H2", date(2021, 12, 31),
                                               date(2021, 12, 31))}),
    ("2024-02-10", {"routine_screening": ("2024-02", date(2024, 2, 29), date(2024, 2, 29)),
                    "cadre_visit": ("2024Q1", date(2024, 3, 31), date(2024, 3, 29)),
                    "concentrated_screening": ("2024H1", date(2024, 6, 30), date(2024, 6, 28))}),
])
def test_current_periods(fujian: Policy, as_of: str,
                         expected: dict[str, tuple[str, date, date]]) -> None:
    duties = {d["duty"]: d for d in fujian.duties_on(as_of)}
    for name, (period, ends, last_working) in expected.items():
        assert (duties[name]["period"], duties[name]["ends"],
                duties[name]["last_working_day"]) == (period, ends, last_working)
