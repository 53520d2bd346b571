"""Random procedure steps added to the province's, decided by both engines: every deadline
entry field by field (due, done, status, late working days, reason), with the households'
cases and without. The steps mix what a county may write: steps that read no case and steps
that read one, each kind, a `when`, dates shifted by working days, days, months and the
province's durations, `next_working_day`, `??`, and steps reading the steps before them (the
province's and each other), on evaluation dates up to the calendar's last years and after
them, with the province's durations or a region table's (each county its own), so that a
combination no hand-written test thought of is still held to the record path (a household
step that did not apply had failed the record path so)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fangpin_rules.columnar import records_to_arrow
from fangpin_rules.columnar.engine import ColumnarUnsupported, columnar_plan
from fangpin_rules.engine.policy import parse_date
from fangpin_rules.engine.regions import load_regions

from columnar_support import DURATION_COUNTIES, DURATION_REGIONS, engines_agree
from support import benchmark_module, province_with_steps

DATES = ["2021-09-01", "2022-06-30", "2026-11-30"]
HOUSEHOLD_DATES = ["monitoring.since", "dibao.since", "dibao.income_above_standard_on"]
CASE_DATES = ["case.assigned_on", "case.verified_on", "case.confirmed_on",
              "steps.assignment", "steps.preliminary_review", "steps.verification"]
SHIFTS = [" + 3 working_days", " + 12 working_days", " - 2 working_days", " + 10 days",
          " - 1 day", " + 1 month", " + review_period", " + public_notice_period"]


def _dates(atoms: list[str], depth: int) -> st.SearchStrategy[str]:
    leaf = st.sampled_from(atoms)
    if depth <= 0:
        return leaf
    inner = _dates(atoms, depth - 1)
    return st.one_of(
        leaf,
        st.tuples(inner, st.sampled_from(SHIFTS)).map(lambda p: f"({p[0]}){p[1]}"),
        inner.map(lambda d: f"next_working_day({d})"),
        st.tuples(inner, leaf).map(lambda p: f"({p[0]} ?? {p[1]})"))


def _conditions(atoms: list[str]) -> st.SearchStrategy[str]:
    day = _dates(atoms, 1)
    return st.one_of(
        day.map(lambda d: f"{d} != null"),
        st.tuples(day, day).map(lambda p: f"{p[0]} > {p[1]}"),
        day.map(lambda d: f"{d} <= as_of"),
        day.map(lambda d: f"is_working_day({d} ?? as_of)"),
        day.map(lambda d: f"working_days_between({d} ?? as_of, as_of) > 10"))


@st.composite
def _steps(draw: Callable[[Any], Any]) -> str:
    """One to four steps, x0 to x3, each reading the dates before it."""
    text = ""
    household: list[str] = []  # the steps reading no case, by name
    every: list[str] = []
    for number in range(draw(st.integers(1, 4))):
        reads_case = draw(st.booleans())
        atoms = HOUSEHOLD_DATES + [f"steps.{name}" for name in household]
        if reads_case:
            atoms += CASE_DATES + [f"steps.{name}" for name in every if name not in household]
        kind = draw(st.sampled_from(["deadline", "deadline", "not_before", "minimum_period",
                                     "notice", "quarterly"] if reads_case else
                                    ["deadline", "deadline", "not_before", "minimum_period"]))
        step = f"  x{number}:\n    title: {{zh: 测试, en: step {number}}}\n    cite: §7\n" \
               f"    kind: {kind}\n    due: '{draw(_dates(atoms, 2))}'\n"
        if draw(st.booleans()):
            step += f"    when: '{draw(_conditions(atoms))}'\n"
        if kind == "quarterly":
            step += "    done: case.visits\n"
            if draw(st.booleans()):
                step += f"    until: '{draw(_dates(atoms, 1))}'\n"
        elif kind in ("minimum_period", "notice") or draw(st.booleans()):
            step += f"    done: '{draw(_dates(atoms, 1))}'\n"
        if kind == "notice" and draw(st.booleans()):
            step += f"    required_by: '{draw(_dates(atoms, 1))}'\n"
        text += step
        name = f"x{number}"
        every.append(name)
        if not reads_case:
            household.append(name)
    return text


@functools.cache
def _sample() -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    generator = benchmark_module("boundary_households")
    households = list(generator.boundary_households(160, seed=43))
    for number, record in enumerate(households[:80]):  # monitored from days across the years
        record["monitoring"] = {"status": "monitored", "category": "marginal",
                                "since": date.fromordinal(date(2020, 11, 2).toordinal() +
                                                          number * 29).isoformat()}
    return households, generator.boundary_cases(households, 44, 0.6)


@functools.cache
def _regional_sample() -> list[dict[str, Any]]:
    """The sample's households placed in the region table's counties, in turn."""
    households, _ = _sample()
    return [{**record, "region_code": DURATION_COUNTIES[number % len(DURATION_COUNTIES)]
             + "001001"}
            for number, record in enumerate(households)]


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(_steps(), st.sampled_from(DATES), st.booleans(), st.booleans())
def test_random_steps_decide_alike(tmp_path_factory: pytest.TempPathFactory, steps: str,
                                   as_of: str, with_cases: bool, with_regions: bool) -> None:
    folder = tmp_path_factory.mktemp("policy")
    province = province_with_steps(folder, steps)
    policy: Any = province
    households, cases = _sample()
    if with_regions:
        table = folder / "regions.yaml"
        table.write_text(DURATION_REGIONS, encoding="utf-8")
        policy, households = load_regions(province, table), _regional_sample()
    try:
        columnar_plan(policy, parse_date(as_of))
    except ColumnarUnsupported as refused:  # named, at its place: never silently different
        (diagnostic,) = refused.diagnostics
        assert "pass engine='record'" in diagnostic.message
        pytest.fail(f"refused: {diagnostic.message}\n{steps}")
    engines_agree(policy, records_to_arrow(province, households), as_of,
                  cases if with_cases else None)
