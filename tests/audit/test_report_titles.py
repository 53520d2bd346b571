"""The audit report's changes are named by the policy's own titles in both languages: every
section's item (a rule, a step, a data-consistency rule, a duty, a parameter) shows its
Chinese title, and its English one after the switch."""

from __future__ import annotations

import re
from pathlib import Path

from fangpin_rules import load_policy
from fangpin_rules.audit import diff_policies
from fangpin_rules.audit.report_html import render_html

from support import FUJIAN

EDITS = [  # one change in each of five sections
    ("        when: monitored and low_income_or_drop and can_work_fully\n        add: employment\n"
     "        cite: §12\n",
     "        when: monitored and low_income_or_drop and can_work_fully\n        add: employment\n"
     "        cite: §12\n        basis: interpretation\n"),
    ("    title: {zh: 日汇总, en: Daily summary of the warning}\n    cite: §7\n",
     "    title: {zh: 日汇总, en: Daily summary of the warning}\n    cite: §7\n"
     "    basis: interpretation\n"),
    ("    title: {zh: 常态化摸排, en: Routine screening by village and township staff}\n"
     "    frequency: monthly\n",
     "    title: {zh: 常态化摸排, en: Routine screening by village and township staff}\n"
     "    frequency: weekly\n"),
    ("and age(m.birth_date) < 16\n", "and age(m.birth_date) < 18\n"),
    ("      - {from: 2021-01-01, until: 2021-12-31, value: 7152, source: 闽委振兴组〔2021〕5号}\n"
     "  dibao_standard:",
     "      - {from: 2021-01-01, until: 2021-12-31, value: 7500, source: 闽委振兴组〔2021〕5号}\n"
     "  dibao_standard:"),
]
TITLES = {  # section -> (zh, en), as fujian_2021.yaml writes them
    "rule": ("收入低或大幅缩减，且有年满16周岁的普通或技能劳动力",
             "Low income or a sharp drop with a normal or skilled worker aged 16 or over"),
    "step": ("日汇总", "Daily summary of the warning"),
    "duty": ("常态化摸排", "Routine screening by village and township staff"),
    "warning": ("未满16周岁的成员登记有劳动能力（不计为劳动力）",
                "A member under 16 recorded with labour capacity (not counted as labour)"),
    "parameter": ("监测范围（家庭年人均纯收入）",
                  "Monitoring line (household annual net income per capita)"),
}


def test_every_changed_item_is_named_by_its_own_titles(tmp_path: Path) -> None:
    text = FUJIAN.read_text(encoding="utf-8")
    for old, new in EDITS:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    (tmp_path / "new.yaml").write_text(text, encoding="utf-8")
    old_policy, new_policy = load_policy(FUJIAN), load_policy(tmp_path / "new.yaml")
    diff = diff_policies(old_policy, new_policy)
    assert {c.section for c in diff.changes} == set(TITLES)
    page = render_html(diff, old_policy, new_policy)
    table = page.split('<table id="changes">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr><td>\d+</td><td><span class=\"zh\">[^<]*</span>"
                      r"<span class=\"en\">([^<]*)</span>.*?<br>(.*?)</td>", table)
    assert len(rows) == len(diff)
    shown = {section: title for section, title in rows}
    sections_en = {"rule": "Rules", "step": "Procedure deadlines", "duty": "Recurring duties",
                   "warning": "Data-consistency rules", "parameter": "Parameters"}
    for section, (zh, en) in TITLES.items():
        assert shown[sections_en[section]] == \
            f'<span class="zh">{zh}</span><span class="en">{en}</span>', section
