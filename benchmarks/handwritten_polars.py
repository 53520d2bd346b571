"""The Fujian 2021 decisions hand-written in vectorised Polars: the ceiling of the columnar engine.

What an engineer writes by hand for a table of households without a policy engine, following
benchmarks/handwritten_fujian.py (the per-record reference, kept equal to the engine by
tests/engine/test_compiled_equals_handwritten.py) decision by decision: money as integers of
1/10000 yuan (the contract's four places, so every valid amount is exact; "integer fen" with
two more digits), every per-capita test cross-multiplied (`net < line * size`), no division;
the members' facts computed once over a flat frame of every household's members and summed back
by household; sets of labels as bit masks, each distinct mask's list built once (a small lookup).

`decide_frame(table, as_of)` takes an Arrow table (or Polars frame) of `input_schema(policy)`
of validated rows and returns a Polars frame with the decisions' keys: per-capita incomes as
exact fractions (`*_num` over `per_capita_den`), the labels as lists (in the policy's order),
objects flattened (`cadre_rank`, `dibao_grace_until`, ...). Warnings are not written (the
engine's figure is measured with and without them; benchmarks/bench_columnar.py).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

SCALE = 10_000  # 1/10000 yuan
LINE = 7152 * SCALE  # §2: the monitoring line and the dibao standard (2021)
DIBAO = 7152 * SCALE
SHARP_DROP = (1, 2)  # §1: a drop of at least half (interpretation)
STABLE = (11, 10)  # §9: 1.1 times the line (interpretation)
SCHOOL = (6, 15)
ELDERLY = 60
LABOUR_MIN = 16
LABOUR = ["normal", "skilled", "weak"]
FULL_LABOUR = ["normal", "skilled"]
CATEGORY_LABELS = {"unstable": "脱贫不稳定户", "sudden_hardship": "突发严重困难户",
                   "marginal": "边缘易致贫户"}
SPECIAL = ["serious_illness", "chronic_heavy", "severe_disability", "dependent_elderly",
           "orphan", "left_behind_child"]
RISKS = ["low_income", "income_drop", "illness", "disability", "schooling", "disaster",
         "accident", "labour_shortage", "housing", "drinking_water", "food_clothing",
         "motivation"]
MEASURES = ["employment", "industry", "health", "education", "housing_safety",
            "drinking_water_safety", "disaster_relief", "motivation_support", "tekun", "dibao",
            "temporary_assistance"]
DEPARTMENTS = ["statistics", "human_resources", "health_commission", "medical_insurance",
               "disabled_persons_federation", "education", "emergency_management",
               "public_security", "civil_affairs", "housing", "water_resources",
               "rural_revitalization", "agriculture"]


def _money(expr: pl.Expr) -> pl.Expr:
    """A decimal(38, 10) amount as an integer of 1/10000 yuan (validated: at most 4 places)."""
    return (expr * SCALE).cast(pl.Int64)


def _age(birth: pl.Expr, as_of: date) -> pl.Expr:
    before = (birth.dt.month().cast(pl.Int32) * 100 + birth.dt.day().cast(pl.Int32)) > \
        (as_of.month * 100 + as_of.day)
    return as_of.year - birth.dt.year().cast(pl.Int32) - before.cast(pl.Int32)


def _member_facts(members: Any, as_of: date) -> pl.DataFrame:
    """One row per household: what its members make true, computed over all members at once."""
    import pyarrow as pa

    lists = members.combine_chunks() if isinstance(members, pa.ChunkedArray) else members
    flat = pl.DataFrame({"h": pl.from_arrow(lists.value_parent_indices()),
                         "m": pl.from_arrow(lists.flatten())}).unnest("m")
    age = _age(pl.col("birth_date"), as_of)
    labour = pl.col("labour_capacity").is_in(LABOUR).fill_null(False)
    adult = ~(pl.col("birth_date").is_not_null() & (age < LABOUR_MIN)).fill_null(False)
    facts = flat.select(
        "h",
        (labour & adult).alias("has_labour"),
        (pl.col("labour_capacity").is_in(FULL_LABOUR).fill_null(False) & adult)
        .alias("can_work_fully"),
        (pl.col("health") == "serious_illness").fill_null(False).alias("serious"),
        (pl.col("health") == "chronic_heavy").fill_null(False).alias("chronic_heavy"),
        (pl.col("disability_grade") <= 2).fill_null(False).alias("severe_disability"),
        ((pl.col("dependent_elderly") == True) & (age >= ELDERLY))  # noqa: E712 (null-safe)
        .fill_null(False).alias("dependent_elderly"),
        (pl.col("orphan") == True).fill_null(False).alias("orphan"),  # noqa: E712
        (pl.col("left_behind_child") == True).fill_null(False)  # noqa: E712
        .alias("left_behind_child"),
        ((pl.col("dropped_out") == True) & age.is_between(*SCHOOL))  # noqa: E712
        .fill_null(False).alias("school_dropout"))
    return facts.group_by("h").agg(pl.all().any()).sort("h")


def _labels(frame: pl.DataFrame, flags: list[tuple[str, pl.Expr]]) -> pl.Series:
    """A list of labels per row from flags, in the given order: one list per distinct mask."""
    mask = frame.select(pl.sum_horizontal(
        [flag.cast(pl.Int64) * (1 << i) for i, (_, flag) in enumerate(flags)])).to_series()
    uniques = mask.unique().to_list()
    lists = pl.Series([[label for i, (label, _) in enumerate(flags) if u >> i & 1]
                       for u in uniques], dtype=pl.List(pl.String))
    index = mask.replace_strict(uniques, list(range(len(uniques))), return_dtype=pl.Int64)
    return lists.gather(index)


def decide_frame(table: Any, as_of: date) -> pl.DataFrame:
    frame = table if isinstance(table, pl.DataFrame) else pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    members = frame.get_column("members").to_arrow()
    facts = _member_facts(members, as_of)
    size = frame.select(pl.col("members").list.len().cast(pl.Int64)).to_series()
    rigid = pl.col("rigid_expenditure").struct
    med, edu = _money(rigid.field("medical")), _money(rigid.field("education"))
    dis, acc = _money(rigid.field("disaster")), _money(rigid.field("accident"))
    df = pl.concat([frame.select(
        "household_id", "formerly_poor",
        _money(pl.col("net_income")).alias("net"),
        _money(pl.col("previous_net_income")).alias("prev"),
        med.alias("med"), edu.alias("edu"), dis.alias("dis"), acc.alias("acc"),
        (pl.col("food_clothing_secure") == False).fill_null(False)  # noqa: E712
        .alias("food_problem"),
        (pl.col("basic_medical_secure") == False).fill_null(False)  # noqa: E712
        .alias("medical_problem"),
        (pl.col("housing_safe") == False).fill_null(False).alias("housing_problem"),  # noqa: E712
        (pl.col("drinking_water_safe") == False).fill_null(False)  # noqa: E712
        .alias("water_problem"),
        (pl.col("tekun") == True).fill_null(False).alias("tekun"),  # noqa: E712
        (pl.col("motivation_lacking") == True).fill_null(False)  # noqa: E712
        .alias("motivation"),
        pl.col("monitoring").struct.field("status").alias("status"),
        pl.col("monitoring").struct.field("category").alias("recorded_category"),
        (pl.col("dibao").struct.field("enrolled") == True).fill_null(False)  # noqa: E712
        .alias("enrolled"),
        pl.col("dibao").struct.field("income_above_standard_on").alias("above_on")),
        facts.drop("h"), size.alias("size").to_frame()], how="horizontal")
    c = pl.col
    df = df.with_columns(
        (c("med").fill_null(0) + c("edu").fill_null(0) + c("dis").fill_null(0)
         + c("acc").fill_null(0)).alias("rigid"))
    df = df.with_columns(
        (c("net") - c("rigid")).alias("after"),
        (c("prev").is_not_null() & (c("prev") > 0) &
         ((c("prev") - c("net")) * SHARP_DROP[1] >= c("prev") * SHARP_DROP[0]))
        .fill_null(False).alias("sharp_drop"),
        (c("net") < LINE * c("size")).alias("in_range"),
        (c("med").fill_null(0) > 0).alias("medical_spending"))
    df = df.with_columns(
        (c("after") < LINE * c("size")).alias("after_below"),
        (c("food_problem") | c("school_dropout") | c("medical_problem") |
         c("housing_problem") | c("water_problem")).alias("guarantee_problem"),
        (c("serious") | c("chronic_heavy") | c("medical_problem") | c("medical_spending"))
        .alias("illness"),
        (c("school_dropout") | (c("edu").fill_null(0) > 0)).alias("schooling"),
        (c("dis").fill_null(0) > 0).alias("disaster_risk"),
        (c("acc").fill_null(0) > 0).alias("accident_risk"))
    category = pl.when(c("formerly_poor")).then(
        pl.when(c("after_below") | c("guarantee_problem")).then(pl.lit("unstable")))\
        .when(c("after_below") & (~c("in_range") | c("sharp_drop")))\
        .then(pl.lit("sudden_hardship"))\
        .when(c("in_range")).then(pl.lit("marginal"))
    df = df.with_columns(category.alias("computed"))
    df = df.with_columns(
        pl.when(c("computed").is_null() & (c("status") == "monitored"))
        .then(c("recorded_category")).otherwise(c("computed")).alias("category"))
    df = df.with_columns((c("category").is_not_null() | (c("status") == "monitored"))
                         .alias("monitored"))
    df = df.with_columns(
        (c("monitored") & (c("food_problem") | ((c("rigid") > 0) &
                                               (c("after") < DIBAO * c("size")))))
        .alias("temporary_assistance"),
        (c("net") < DIBAO * c("size")).alias("below_dibao"))
    m = c("monitored")
    work = m & (c("in_range") | c("sharp_drop"))
    measure_flags = [
        ("employment", work & c("can_work_fully")),
        ("industry", work & ~c("can_work_fully") & c("has_labour")),
        ("health", m & (c("illness") | c("severe_disability"))),
        ("education", m & c("schooling")),
        ("housing_safety", m & c("housing_problem")),
        ("drinking_water_safety", m & c("water_problem")),
        ("disaster_relief", m & c("disaster_risk")),
        ("motivation_support", m & c("motivation")),
        ("tekun", m & c("tekun")),
        ("dibao", m & ~c("tekun") & c("below_dibao")),
        ("temporary_assistance", c("temporary_assistance")),
    ]
    risk_flags = [
        ("low_income", c("in_range")), ("income_drop", c("sharp_drop")),
        ("illness", c("illness")), ("disability", c("severe_disability")),
        ("schooling", c("schooling")), ("disaster", c("disaster_risk")),
        ("accident", c("accident_risk")), ("labour_shortage", ~c("has_labour")),
        ("housing", c("housing_problem")), ("drinking_water", c("water_problem")),
        ("food_clothing", c("food_problem")), ("motivation", c("motivation")),
    ]
    department_flags = [
        ("statistics", c("in_range") | c("sharp_drop")),
        ("human_resources", c("sharp_drop") | (work & c("can_work_fully"))),
        ("health_commission", c("illness") | c("severe_disability")),
        ("medical_insurance", c("medical_spending") | c("medical_problem")),
        ("disabled_persons_federation", c("severe_disability")),
        ("education", c("schooling")),
        ("emergency_management", c("disaster_risk")),
        ("public_security", c("accident_risk")),
        ("civil_affairs", ~c("has_labour") | c("food_problem") | (m & c("tekun")) |
         (m & ~c("tekun") & c("below_dibao")) | c("temporary_assistance")),
        ("housing", c("housing_problem")), ("water_resources", c("water_problem")),
        ("rural_revitalization", c("motivation")),
        ("agriculture", work & ~c("can_work_fully") & c("has_labour")),
    ]
    special_flags = [("serious_illness", c("serious")), *((name, c(name)) for name in SPECIAL[1:])]
    risk_count = pl.sum_horizontal([flag.cast(pl.Int32) for _, flag in risk_flags])
    reason = pl.when(c("status") != "monitored").then(pl.lit("not_monitored"))\
        .when(~c("has_labour")).then(pl.lit("no_labour"))\
        .when(c("guarantee_problem")).then(pl.lit("guarantee_problem"))\
        .when(c("after_below")).then(pl.lit("income_below_line"))\
        .when(c("sharp_drop") | (c("net") * STABLE[1] < LINE * STABLE[0] * c("size")))\
        .then(pl.lit("income_not_stable"))\
        .when((c("serious") | c("chronic_heavy")) & c("medical_spending"))\
        .then(pl.lit("spending_not_controlled"))
    grace = pl.when(c("enrolled") & (c("net") > DIBAO * c("size")) & c("above_on").is_not_null())\
        .then(c("above_on").dt.offset_by("12mo") - pl.duration(days=1))
    out = df.select(
        "household_id",
        c("net").alias("per_capita_income_num"), c("after").alias("per_capita_after_rigid_num"),
        (c("size") * SCALE).alias("per_capita_den"),
        "in_range", "category",
        c("category").replace_strict(CATEGORY_LABELS, default=None, return_dtype=pl.String)
        .alias("category_label"),
        (m & pl.any_horizontal([flag for _, flag in special_flags])).alias("priority_attention"),
        pl.when(m).then(pl.when(risk_count >= 2).then(pl.lit("comprehensive"))
                        .when(risk_count == 1).then(pl.lit("single"))).alias("assistance_mode"),
        pl.when(m).then(pl.when(c("has_labour")).then(pl.lit("development"))
                        .otherwise(pl.lit("safety_net"))).alias("orientation"),
        pl.when(c("category").is_in(["unstable", "marginal"]))
        .then(pl.lit("deputy_section_or_above"))
        .when(c("category") == "sudden_hardship").then(pl.lit("experienced"))
        .alias("cadre_rank"),
        pl.when(c("category").is_in(["unstable", "marginal"])).then(True)
        .when(c("category") == "sudden_hardship").then(False).alias("cadre_pairing"),
        (m & ~c("tekun") & c("below_dibao") & ~c("enrolled")).alias("dibao_recommend_enrolment"),
        grace.alias("dibao_grace_until"),
        "temporary_assistance",
        reason.is_null().alias("risk_elimination_eligible"),
        reason.alias("risk_elimination_reason"))
    return out.with_columns(_labels(df, special_flags).alias("special_groups"),
                            _labels(df, risk_flags).alias("risks"),
                            _labels(df, measure_flags).alias("measures"),
                            _labels(df, department_flags).alias("departments"))
