"""Hand-written Fujian 2021 decisions: the speed (and correctness) reference for the engine.

This is what a careful engineer writes by hand for the decisions of
`shared/spec/fujian_2021_reference.md` (闽委振兴组〔2021〕5号) without a policy engine: plain
Python, locals, one pass over the members, `decimal.Decimal` arithmetic in the default context
(never float). The compiled policy is measured against it, for speed and for agreement.

`decide(household, as_of)` returns exactly the keys

    per_capita_income, per_capita_after_rigid, monitoring_line, in_range, category,
    category_label, special_groups, priority_attention, risks, measures, assistance_mode,
    orientation, cadre, dibao, temporary_assistance, risk_elimination, departments, warnings

with sets returned as lists (order not significant) and decimals unrounded.

Interpretations fixed here (where the document gives no test of its own):
- Age is whole years completed on `as_of`: a birthday counts as reached when
  `(month, day) <= (as_of.month, as_of.day)`. So a member born on 29 February turns a year older
  on 1 March in a non-leap year (on 28 February the pair (2, 29) is not yet reached).
  A member whose birth date is unknown satisfies no age test.
- An unknown (`None`) state is never a problem: a problem is `field is False`, and a flag such as
  `dropped_out` or `orphan` counts only when it `is True`. An unknown rigid amount counts as 0.
- The dibao grace period (§14) of 12 months runs from `dibao.income_above_standard_on`
  through the day before the same date 12 months later, the month end clamped:
  2021-07-15 -> 2022-07-14, 2024-02-29 -> 2025-02-27. Without that date it is unknown (None),
  never counted from `as_of` (edition 2).

Edition 2 (shared/spec/fujian_2021_reference.md, [E2]): a member under 16 on `as_of` is not
labour (Labour Law art. 15; an unknown birth date is not known to be a minor); a household
recorded `monitored` stays monitored, with the recorded category when none applies now;
temporary assistance is any rigid spending leaving income after it below the dibao standard;
risk elimination also refuses a sharp drop (`income_not_stable`) and serious or heavy chronic
illness with medical spending (`spending_not_controlled`); departments follow §6's list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:  # only named in annotations: the script runs without importing the engine
    from fangpin_rules.model import Household


@dataclass(frozen=True, slots=True)
class FujianParameters:
    """The policy's parameters (2021 province values, then five interpretations and the law's
    minimum working age)."""

    monitoring_line: Decimal = Decimal("7152")  # §2 (document)
    dibao_standard: Decimal = Decimal("7152")  # §2 (document)
    sharp_drop_ratio: Decimal = Decimal("0.5")  # §1 (interpretation)
    stability_margin: Decimal = Decimal("0.1")  # §9 (interpretation)
    compulsory_education_min_age: int = 6  # §1 (interpretation)
    compulsory_education_max_age: int = 15  # §1 (interpretation)
    dependent_elderly_min_age: int = 60  # §1 (interpretation)
    labour_min_age: int = 16  # Labour Law art. 15 (law)


DEFAULT: Final = FujianParameters()

CATEGORY_LABELS: Final[dict[str, str]] = {
    "unstable": "脱贫不稳定户",
    "sudden_hardship": "突发严重困难户",
    "marginal": "边缘易致贫户",
}

_ZERO: Final = Decimal(0)
_ONE: Final = Decimal(1)
_LABOUR: Final = frozenset(("normal", "skilled", "weak"))
_FULL_LABOUR: Final = frozenset(("normal", "skilled"))
_DAYS_IN_MONTH: Final = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def grace_until(start: date) -> date:
    """Last day of the 12-month dibao grace period starting on `start` (§14).

    The period covers `start` through the day before the same date 12 months later; when that
    month has no such day (29 February), the date clamps to the month's last day first.
    """
    year = start.year + 1
    month = start.month
    last = 29 if month == 2 and _is_leap(year) else _DAYS_IN_MONTH[month - 1]
    day = start.day if start.day <= last else last
    return date(year, month, day) - timedelta(days=1)


def age_on(birth: date, as_of: date) -> int:
    """Whole years completed on `as_of` (birthday reached when (month, day) <= as_of's)."""
    years = as_of.year - birth.year
    if (birth.month, birth.day) > (as_of.month, as_of.day):
        years -= 1
    return years


def decide(h: Household, as_of: date, p: FujianParameters = DEFAULT) -> dict[str, object]:
    """Decide one household on `as_of` under the Fujian 2021 measures."""
    line = p.monitoring_line
    dibao_standard = p.dibao_standard
    school_min = p.compulsory_education_min_age
    school_max = p.compulsory_education_max_age
    elderly_min = p.dependent_elderly_min_age
    labour_min = p.labour_min_age
    as_of_md = (as_of.month, as_of.day)
    as_of_year = as_of.year

    # One pass over the members.
    members = h.members
    has_labour = False
    can_work_fully = False
    serious = False
    chronic_heavy = False
    severe_disability = False
    dependent_elderly = False
    orphan = False
    left_behind = False
    school_dropout = False
    for m in members:
        labour = m.labour_capacity
        if labour is not None and labour in _LABOUR:
            birth = m.birth_date
            minor = birth is not None and (
                as_of_year - birth.year - ((birth.month, birth.day) > as_of_md) < labour_min
            )
            if not minor:
                has_labour = True
                if labour in _FULL_LABOUR:
                    can_work_fully = True
        health = m.health
        if health == "serious_illness":
            serious = True
        elif health == "chronic_heavy":
            chronic_heavy = True
        grade = m.disability_grade
        if grade is not None and grade <= 2:
            severe_disability = True
        if m.orphan is True:
            orphan = True
        if m.left_behind_child is True:
            left_behind = True
        dep = m.dependent_elderly is True
        drop = m.dropped_out is True
        if dep or drop:
            birth = m.birth_date
            if birth is not None:
                age = as_of_year - birth.year
                if (birth.month, birth.day) > as_of_md:
                    age -= 1
                if dep and age >= elderly_min:
                    dependent_elderly = True
                if drop and school_min <= age <= school_max:
                    school_dropout = True

    # Money.
    size = len(members)
    net = h.net_income
    rigid_in = h.rigid_expenditure
    medical = rigid_in.medical
    education = rigid_in.education
    disaster = rigid_in.disaster
    accident = rigid_in.accident
    rigid = _ZERO
    if medical is not None:
        rigid += medical
    if education is not None:
        rigid += education
    if disaster is not None:
        rigid += disaster
    if accident is not None:
        rigid += accident
    per_capita_income = net / size
    per_capita_after_rigid = (net - rigid) / size
    previous = h.previous_net_income
    sharp_drop = (
        previous is not None
        and previous > _ZERO
        and (previous - net) / previous >= p.sharp_drop_ratio
    )

    # Guarantee problems (两不愁三保障 + drinking water).
    food_problem = h.food_clothing_secure is False
    medical_problem = h.basic_medical_secure is False
    housing_problem = h.housing_safe is False
    water_problem = h.drinking_water_safe is False
    has_guarantee_problem = (
        food_problem or school_dropout or medical_problem or housing_problem or water_problem
    )

    # Category (§1, first that applies).
    in_range = per_capita_income < line
    after_below = per_capita_after_rigid < line
    category: str | None
    if h.formerly_poor:
        category = "unstable" if after_below or has_guarantee_problem else None
    elif after_below and (not in_range or sharp_drop):
        category = "sudden_hardship"
    elif in_range:
        category = "marginal"
    else:
        category = None
    recorded = h.monitoring
    recorded_monitored = recorded.status == "monitored"
    if category is None and recorded_monitored:
        category = recorded.category  # monitored until its risk is marked eliminated (§9)
    monitored = category is not None or recorded_monitored

    # Special groups (§1).
    special_groups: list[str] = []
    if serious:
        special_groups.append("serious_illness")
    if chronic_heavy:
        special_groups.append("chronic_heavy")
    if severe_disability:
        special_groups.append("severe_disability")
    if dependent_elderly:
        special_groups.append("dependent_elderly")
    if orphan:
        special_groups.append("orphan")
    if left_behind:
        special_groups.append("left_behind_child")

    # Risks (§1, §6) and their departments (§6).
    risks: list[str] = []
    departments: set[str] = set()
    if in_range:
        risks.append("low_income")
        departments.add("statistics")
    if sharp_drop:
        risks.append("income_drop")
        departments.add("statistics")
        departments.add("human_resources")
    medical_spending = medical is not None and medical > _ZERO
    illness = serious or chronic_heavy or medical_problem or medical_spending
    if illness:
        risks.append("illness")
        departments.add("health_commission")
    if medical_spending or medical_problem:
        departments.add("medical_insurance")
    if severe_disability:
        risks.append("disability")
        departments.add("disabled_persons_federation")
        departments.add("health_commission")
    schooling = school_dropout or (education is not None and education > _ZERO)
    if schooling:
        risks.append("schooling")
        departments.add("education")
    disaster_risk = disaster is not None and disaster > _ZERO
    if disaster_risk:
        risks.append("disaster")
        departments.add("emergency_management")
    if accident is not None and accident > _ZERO:
        risks.append("accident")
        departments.add("public_security")
    if not has_labour:
        risks.append("labour_shortage")
        departments.add("civil_affairs")
    if housing_problem:
        risks.append("housing")
        departments.add("housing")
    if water_problem:
        risks.append("drinking_water")
        departments.add("water_resources")
    if food_problem:
        risks.append("food_clothing")
        departments.add("civil_affairs")
    motivation = h.motivation_lacking is True
    if motivation:
        risks.append("motivation")
        departments.add("rural_revitalization")

    # Temporary assistance (§14, 急难型).
    temporary_assistance = monitored and (
        food_problem or (rigid > _ZERO and per_capita_after_rigid < dibao_standard)
    )

    # Measures (§10, §12, §14), for monitored households only.
    measures: list[str] = []
    dibao_measure = False
    if monitored:
        if in_range or sharp_drop:
            if can_work_fully:
                measures.append("employment")
                departments.add("human_resources")
            elif has_labour:
                measures.append("industry")
                departments.add("agriculture")
        if illness or severe_disability:
            measures.append("health")
        if schooling:
            measures.append("education")
        if housing_problem:
            measures.append("housing_safety")
        if water_problem:
            measures.append("drinking_water_safety")
        if disaster_risk:
            measures.append("disaster_relief")
        if motivation:
            measures.append("motivation_support")
        tekun = h.tekun is True
        if tekun:
            measures.append("tekun")
            departments.add("civil_affairs")
        elif per_capita_income < dibao_standard:
            measures.append("dibao")
            departments.add("civil_affairs")
            dibao_measure = True
        if temporary_assistance:
            measures.append("temporary_assistance")
            departments.add("civil_affairs")

    # Dibao (§14).
    dibao_in = h.dibao
    enrolled = dibao_in.enrolled is True
    grace: date | None = None
    start = dibao_in.income_above_standard_on
    if enrolled and per_capita_income > dibao_standard and start is not None:
        grace = grace_until(start)

    # Risk elimination (§9), first reason that applies.
    reason: str | None
    if h.monitoring.status != "monitored":
        reason = "not_monitored"
    elif not has_labour:
        reason = "no_labour"
    elif has_guarantee_problem:
        reason = "guarantee_problem"
    elif after_below:
        reason = "income_below_line"
    elif sharp_drop or per_capita_income < line * (_ONE + p.stability_margin):
        reason = "income_not_stable"
    elif (serious or chronic_heavy) and medical_spending:
        reason = "spending_not_controlled"
    else:
        reason = None

    cadre: dict[str, object] | None
    if category == "unstable" or category == "marginal":
        cadre = {"rank": "deputy_section_or_above", "pairing": True}
    elif category == "sudden_hardship":
        cadre = {"rank": "experienced", "pairing": False}
    else:
        cadre = None

    decision: dict[str, object] = {
        "per_capita_income": per_capita_income,
        "per_capita_after_rigid": per_capita_after_rigid,
        "monitoring_line": line,
        "in_range": in_range,
        "category": category,
        "category_label": CATEGORY_LABELS[category] if category is not None else None,
        "special_groups": special_groups,
        "priority_attention": monitored and bool(special_groups),
        "risks": risks,
        "measures": measures,
        "assistance_mode": (
            ("comprehensive" if len(risks) >= 2 else "single" if risks else None)
            if monitored else None
        ),
        "orientation": ("development" if has_labour else "safety_net") if monitored else None,
        "cadre": cadre,
        "dibao": {
            "recommend_enrolment": dibao_measure and not enrolled,
            "grace_until": grace,
        },
        "temporary_assistance": temporary_assistance,
        "risk_elimination": {"eligible": reason is None, "reason": reason},
        "departments": list(departments),
    }
    decision["warnings"] = data_warnings(h, as_of, decision, monitored, has_labour, p)
    return decision


def _check_field(code: str, field: str, cite: str) -> dict[str, str]:
    return {"code": code, "field": field, "cite": cite}


def data_warnings(h: Household, as_of: date, decision: dict[str, object], monitored: bool,
                  has_labour: bool, p: FujianParameters = DEFAULT) -> list[dict[str, str]]:
    """The data-consistency warnings (§18, item 14 of the reference), in the order the policy
    lists them: by rule id (category_mismatch, dibao_dates_inconsistent, ...), then by member."""
    found: list[dict[str, str]] = []
    ages = [age_on(m.birth_date, as_of) if m.birth_date is not None else None
            for m in h.members]
    monitoring, dibao = h.monitoring, h.dibao
    category = decision["category"]
    measures = decision["measures"]
    risks = decision["risks"]
    assert isinstance(measures, list) and isinstance(risks, list)
    if monitoring.category is not None and category is not None \
            and monitoring.category != category:
        found.append(_check_field("category_mismatch", "monitoring.category", "§1"))
    above_on, since = dibao.income_above_standard_on, dibao.since
    if above_on is not None and since is not None and above_on < since:
        found.append(_check_field("dibao_dates_inconsistent", "dibao.income_above_standard_on",
                                  "§14"))
    for i, (m, age) in enumerate(zip(h.members, ages, strict=True)):
        school_age = age is None or p.compulsory_education_min_age <= age \
            <= p.compulsory_education_max_age
        if m.dropped_out is True and not school_age:
            found.append(_check_field("dropout_outside_school_age", f"members[{i}].dropped_out",
                                      "§18"))
    if monitoring.status == "risk_eliminated" and not has_labour:
        found.append(_check_field("eliminated_without_labour", "monitoring.status", "§9"))
    for i, m in enumerate(h.members):
        if m.birth_date is not None and m.birth_date > as_of:
            found.append(_check_field("future_date", f"members[{i}].birth_date", "§18"))
    for field, value in (("dibao.since", since), ("dibao.income_above_standard_on", above_on),
                         ("monitoring.since", monitoring.since)):
        if value is not None and value > as_of:
            found.append(_check_field("future_date", field, "§18"))
    per_capita = decision["per_capita_income"]
    assert isinstance(per_capita, Decimal)
    if dibao.enrolled is True and per_capita > p.dibao_standard and above_on is None:
        found.append(_check_field("grace_start_unknown", "dibao.income_above_standard_on",
                                  "§14"))
    for i, (m, age) in enumerate(zip(h.members, ages, strict=True)):
        if age is not None and age < 16 and m.labour_capacity in _LABOUR:
            found.append(_check_field("minor_with_labour", f"members[{i}].labour_capacity",
                                      "§18"))
    if monitoring.status == "monitored" and monitoring.category is None and category is None:
        found.append(_check_field("monitored_without_category", "monitoring.category", "§1"))
    if monitored and risks and not measures:
        found.append(_check_field("no_measure", "measures", "§10"))
    if decision["assistance_mode"] == "single" and len(measures) > 1:
        found.append(_check_field("welfare_trap", "measures", "§12"))
    return found
