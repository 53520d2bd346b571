"""Words for people: the names of the record's fields, and how values are written.

The policy file names its own parameters, definitions, decisions and vocabularies (`title`,
`zh`/`en`); the household record's fields are the data contract's, named here once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from fangpin_rules.language import types as t
from fangpin_rules.language.values import DurationValue
from fangpin_rules.policy.document import LocalizedText, localized

INPUT_LABELS: dict[str, tuple[str, str]] = {
    "household_id": ("户编号", "household id"),
    "formerly_poor": ("脱贫户", "formerly poor household"),
    "members": ("家庭成员", "members"),
    "net_income": ("家庭年纯收入", "annual net income"),
    "previous_net_income": ("上年家庭纯收入", "previous year's net income"),
    "rigid_expenditure.medical": ("医疗支出", "medical spending"),
    "rigid_expenditure.education": ("教育支出", "education spending"),
    "rigid_expenditure.disaster": ("灾害支出", "disaster spending"),
    "rigid_expenditure.accident": ("意外事故支出", "accident spending"),
    "food_clothing_secure": ("不愁吃穿", "food and clothing secure"),
    "basic_medical_secure": ("基本医疗有保障", "basic medical care secure"),
    "housing_safe": ("住房安全", "housing safe"),
    "drinking_water_safe": ("饮水安全", "drinking water safe"),
    "dibao.enrolled": ("已纳入低保", "enrolled in dibao"),
    "dibao.since": ("纳入低保日期", "dibao since"),
    "dibao.income_above_standard_on": (
        "复核认定收入超过低保标准的日期", "date income was found above the dibao standard"),
    "tekun": ("特困供养对象", "destitute-person support"),
    "motivation_lacking": ("内生动力不足", "motivation lacking"),
    "monitoring.status": ("监测状态", "monitoring status"),
    "monitoring.category": ("已标注类别", "recorded category"),
    "monitoring.since": ("纳入监测日期", "monitored since"),
    "members[].disability_grade": ("成员残疾等级", "a member's disability grade"),
    "members[].birth_date": ("成员出生日期", "a member's birth date"),
    "members[].labour_capacity": ("成员劳动能力", "a member's labour capacity"),
    "members[].health": ("成员健康状况", "a member's health"),
    "members[].dependent_elderly": ("成员是否失能", "whether a member is dependent"),
    "members[].orphan": ("成员是否孤儿", "whether a member is an orphan"),
    "members[].left_behind_child": ("成员是否留守儿童", "whether a member is left behind"),
    "members[].dropped_out": ("成员是否辍学", "whether a member dropped out"),
}
# The values of the record's coded fields (shared/spec/records.md), in words.
INPUT_VALUE_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "members[].labour_capacity": {
        "normal": ("普通劳动力", "normal labour"), "skilled": ("技能劳动力", "skilled labour"),
        "weak": ("弱劳动力或半劳动力", "weak or half labour"),
        "lost": ("丧失劳动力", "labour lost"), "none": ("无劳动力", "no labour")},
    "members[].health": {
        "healthy": ("健康", "healthy"), "chronic": ("慢性病", "chronic illness"),
        "chronic_heavy": ("负担较重的慢性病", "chronic illness with heavy burden"),
        "serious_illness": ("大病重病", "serious illness")},
    "monitoring.status": {
        "none": ("未纳入监测", "not monitored"), "monitored": ("监测对象", "monitored"),
        "risk_eliminated": ("已标注风险消除", "risk marked eliminated")},
}


def input_value_label(path: str, value: str, lang: str) -> str:
    labels = INPUT_VALUE_LABELS.get(path, {}).get(value)
    if labels is None:
        return value
    return labels[1] if lang == "en" else labels[0]


def null_means_none(path: str, household: Any) -> bool:
    """Inputs whose null is a value, not an unknown (shared/spec/records.md): a null disability
    grade is no disability; a dibao date of a household not in dibao, or a monitoring category
    or date of a household not monitored, does not apply; a case's date is a step not done.
    Only the others are listed as unknown for the officer to check."""
    if path == "members[].disability_grade":
        return True
    if path.startswith("case."):
        return True  # a step's date not given: not done yet, which its deadline says
    dibao = getattr(household, "dibao", None)
    if path in ("dibao.since", "dibao.income_above_standard_on"):
        return dibao is not None and getattr(dibao, "enrolled", None) is False
    monitoring = getattr(household, "monitoring", None)
    if path in ("monitoring.category", "monitoring.since"):
        return monitoring is not None and getattr(monitoring, "status", None) == "none"
    return False


MONEY_INPUTS = frozenset({"net_income", "previous_net_income", "rigid_expenditure.medical",
                          "rigid_expenditure.education", "rigid_expenditure.disaster",
                          "rigid_expenditure.accident"})
WORDS: dict[str, tuple[str, str]] = {
    "yes": ("是", "yes"), "no": ("否", "no"), "unknown": ("未知", "unknown"),
    "yuan": ("元", "yuan"), "and": ("且", "and"), "or": ("或", "or"), "not": ("非", "not"),
    "none": ("无", "none"), "not_evaluated": ("未计算", "not evaluated"),
}


def word(key: str, lang: str) -> str:
    zh, en = WORDS[key]
    return en if lang == "en" else zh


def input_label(path: str, lang: str) -> str:
    labels = INPUT_LABELS.get(path)
    if labels is None:
        return path
    return labels[1] if lang == "en" else labels[0]


def vocabulary_labels(vocabularies: Mapping[str, Any], type_: t.Type,
                      lang: str) -> dict[str, str]:
    """code -> label of the policy vocabulary a decision's type takes its values from (a set
    of labels too), in `lang` (Chinese where a label has no English); {} for other types."""
    type_ = t.strip(type_)
    if isinstance(type_, t.LabelSet):
        type_ = type_.vocabulary
    if isinstance(type_, t.Enum) and type_.name in vocabularies:
        labels = vocabularies[type_.name].labels
        return {k: (en if lang == "en" and en else zh) for k, (zh, en) in labels.items()}
    return {}


def title_in(text: LocalizedText | None, lang: str, name: str) -> str:
    """A policy title in the language asked; else the other language's; else the name."""
    title = localized(text, lang)
    if lang == "en" and title is not None and has_chinese(title):
        title = None
    if title is None and text is not None:
        title = localized(text, "zh")
    return title or name.rpartition(".")[2].replace("_", " ")


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= char <= "\u9fff" for char in text)


_MEMBER_FIELD = re.compile(r"members\[(\d+)\]\.(\w+)")


def field_words(path: str, lang: str) -> str:
    """A field a warning points at, in words: members[1].labour_capacity -> 第2位成员的劳动能力
    (member 2's labour capacity); the path itself stays in the decision's `warnings`."""
    member = _MEMBER_FIELD.fullmatch(path)
    if member is None:
        return input_label(path, lang)
    place, label = int(member.group(1)) + 1, input_label(f"members[].{member.group(2)}", lang)
    if lang == "zh":
        return f"第{place}位成员的{label.removeprefix('成员')}"
    return f"member {place}'s " + label.removeprefix("a member's ")


def short_title(title: str) -> str:
    """A title without its parenthesised gloss: 监测范围（家庭年人均纯收入） -> 监测范围."""
    for open_, close in (("（", "）"), (" (", ")")):
        if title.endswith(close) and open_ in title:
            return title[:title.index(open_)].strip()
    return title


def number(value: int | Decimal, money: bool, lang: str) -> str:
    """7152 -> '7,152 元'; an amount with more than two decimals is shown rounded, marked ≈."""
    approx = ""
    if isinstance(value, Decimal) and value != value.to_integral_value():
        exponent = value.normalize().as_tuple().exponent
        if isinstance(exponent, int) and exponent < -2 and money:
            value, approx = value.quantize(Decimal("0.01")), "≈"
        elif isinstance(exponent, int) and exponent < -4:
            value, approx = value.quantize(Decimal("0.0001")), "≈"
        value = value.normalize()
    text = f"{value:,}" if money else str(value)
    return approx + text + (" " + word("yuan", lang) if money else "")


_DURATION_ZH = {"working_days": "个工作日", "days": "天", "months": "个月", "quarters": "个季度",
                "years": "年"}


def duration(value: DurationValue, lang: str) -> str:
    """12 months -> '12 个月'; 5 working_days -> '5 个工作日' / '5 working days'."""
    if lang == "en":
        return str(value).replace("_", " ")
    return f"{value.amount} {_DURATION_ZH[value.unit]}"


def plain_value(value: Any, lang: str, labels: dict[str, str], money: bool = False) -> str:
    """Any decision or input value, in words; vocabulary values by their label."""
    if value is None:
        return word("unknown", lang)
    if isinstance(value, bool):
        return word("yes" if value else "no", lang)
    if isinstance(value, int | Decimal):
        return number(value, money, lang)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return labels.get(value, value)
    if isinstance(value, DurationValue):
        return duration(value, lang)
    if isinstance(value, list | tuple):
        if not value:
            return word("none", lang)
        sep = ", " if lang == "en" else "、"
        return "[" + sep.join(plain_value(v, lang, labels) for v in value) + "]"
    return str(value)
