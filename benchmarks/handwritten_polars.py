"""The Fujian 2021 decisions hand-written in vectorised Polars: the ceiling of the columnar engine.

What an engineer writes by hand for speed, for a table of households and without a policy
engine, following benchmarks/handwritten_fujian.py (the per-record reference, kept equal to the
engine by tests/engine/test_compiled_equals_handwritten.py) decision by decision:
- money as integers of 1/10000 yuan (the contract's four places, so every valid amount is
  exact; "integer fen" with two more digits), every per-capita test cross-multiplied
  (`net < line * size`), no division;
- ages as birth-date thresholds: age(d) >= K on `as_of` exactly when d is on or before the
  last birth date of someone K years old (`_last_birth_date`), one date comparison a test;
- the members' facts as the bits of one integer a member, summed by household in one segment
  reduction over the flat members (the Arrow list's offsets), not one group_by per fact;
- only the columns read are converted (the members' ids and the regions stay in Arrow);
- the string outputs gathered from a small integer code each, the sets of labels from a bit
  mask each, each distinct mask's list built once.

`decide_frame(table, as_of)` takes an Arrow table of `input_schema(policy)` of validated rows
(or a Polars frame of one) and returns a Polars frame with the decisions' keys, equal to the
engine's by tests/columnar/test_handwritten_polars.py: the per-capita incomes as exact
fractions (`*_num` over `per_capita_den`), the labels as lists in the policy's order, objects
flattened (`cadre_rank`, `dibao_grace_until`, ...). It does not write what the engine's output
adds to the decisions: the per-capita incomes' decimal text, the warnings, the deadlines (and
their overdue and violations), the policy's reference, `as_of` and the monitoring line.
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
CATEGORY_LABELS = {"unstable": "脱贫不稳定户", "sudden_hardship": "突发严重困难户",
                   "marginal": "边缘易致贫户"}
# The values of the string outputs, each written from its index here (its code).
CATEGORIES = ["unstable", "sudden_hardship", "marginal"]
UNSTABLE, SUDDEN_HARDSHIP, MARGINAL = range(3)
CADRE_RANKS = ["deputy_section_or_above", "experienced", "deputy_section_or_above"]
CADRE_PAIRING = [True, False, True]
MODES = ["comprehensive", "single"]
REASONS = ["not_monitored", "no_labour", "guarantee_problem", "income_below_line",
           "income_not_stable", "spending_not_controlled"]
# The data warnings (§18 and others) in the engine's order, by rule name: (name, code, field,
# cite); a field with "[]" is about a member, written with the member's index.
WARNINGS = [
    ("category_mismatch", "category_mismatch", "monitoring.category", "§1"),
    ("dibao_dates_inconsistent", "dibao_dates_inconsistent", "dibao.income_above_standard_on",
     "§14"),
    ("dropout_outside_school_age", "dropout_outside_school_age", "members[].dropped_out", "§18"),
    ("eliminated_without_labour", "eliminated_without_labour", "monitoring.status", "§9"),
    ("future_date.birth_date", "future_date", "members[].birth_date", "§18"),
    ("future_date.dibao_since", "future_date", "dibao.since", "§18"),
    ("future_date.income_above_standard_on", "future_date", "dibao.income_above_standard_on",
     "§18"),
    ("future_date.monitoring_since", "future_date", "monitoring.since", "§18"),
    ("grace_start_unknown", "grace_start_unknown", "dibao.income_above_standard_on", "§14"),
    ("minor_with_labour", "minor_with_labour", "members[].labour_capacity", "§18"),
    ("monitored_without_category", "monitored_without_category", "monitoring.category", "§1"),
    ("no_measure", "no_measure", "measures", "§10"),
    ("welfare_trap", "welfare_trap", "measures", "§12"),
]
WARNING_ORDER = {name: order for order, (name, *_) in enumerate(WARNINGS)}
WARNING = pl.Struct({"code": pl.String, "field": pl.String, "cite": pl.String})
SPECIAL = ["serious_illness", "chronic_heavy", "severe_disability", "dependent_elderly",
           "orphan", "left_behind_child"]


def _money(expr: pl.Expr) -> pl.Expr:
    """A decimal(38, 10) amount as an integer of 1/10000 yuan (validated: at most 4 places)."""
    return (expr * SCALE).cast(pl.Int64)


def _last_birth_date(as_of: date, years: int) -> date:
    """The last birth date of someone `years` old or more on `as_of`: age(d) >= years exactly
    when d <= it (a person born on 29 February is a year older on 1 March of a common year)."""
    try:
        return as_of.replace(year=as_of.year - years)
    except ValueError:  # as_of is 29 February and that year is common: its last such day
        return date(as_of.year - years, 2, 28)


# The members' facts, in the order of their bits in a member's mask.
MEMBER_FACTS = ["has_labour", "can_work_fully", "serious", "chronic_heavy", "severe_disability",
                "dependent_elderly", "orphan", "left_behind_child", "school_dropout"]


def _member_facts(members: Any, as_of: date, warnings: bool = False
                  ) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """One row per household: what its members make true (and with `warnings`, each warning
    about a member: its household's row, the rule's place in WARNINGS, the member's index).
    Each member's facts are bits of one integer, each bit given a field wide enough to count
    every member of the largest household;
    one sum per household (a segment sum over the flat members) then says which facts any of
    its members makes true: one reduction for all the facts, not one per fact."""
    import pyarrow as pa
    import pyarrow.compute as pc

    lists = members.combine_chunks() if isinstance(members, pa.ChunkedArray) else members
    flat = lists.flatten()
    # strings are compared in Arrow: converting them to Polars costs more than the tests
    capacity, health = pc.struct_field(flat, "labour_capacity"), pc.struct_field(flat, "health")
    m = pl.DataFrame({
        **{name: pl.from_arrow(pc.struct_field(flat, name)) for name in (
            "birth_date", "disability_grade", "dependent_elderly", "orphan",
            "left_behind_child", "dropped_out")},
        **{value: pl.from_arrow(pc.equal(capacity, value))
           for value in ("normal", "skilled", "weak")},
        **{value: pl.from_arrow(pc.equal(health, value))
           for value in ("serious_illness", "chronic_heavy")}})
    c, birth = pl.col, pl.col("birth_date")
    child = (birth > _last_birth_date(as_of, LABOUR_MIN)).fill_null(False)  # under 16
    school_age = (birth <= _last_birth_date(as_of, SCHOOL[0])) & \
        (birth > _last_birth_date(as_of, SCHOOL[1] + 1))
    full = c("normal") | c("skilled")
    facts = [
        ((full | c("weak")) & ~child),
        (full & ~child),
        c("serious_illness"),
        c("chronic_heavy"),
        (c("disability_grade") <= 2),
        (c("dependent_elderly") & (birth <= _last_birth_date(as_of, ELDERLY))),
        c("orphan"),
        c("left_behind_child"),
        (c("dropped_out") & school_age),
    ]
    size = int(pc.max(pc.list_value_length(lists)).as_py() or 0)
    width = max(1, size.bit_length())  # bits to count up to `size` members
    per_word = 63 // width
    offsets = pc.subtract(lists.offsets, lists.offsets[0])
    hits = _member_warnings(m, lists, as_of) if warnings else None
    out: dict[str, pl.Series] = {}
    for first in range(0, len(facts), per_word):
        word = list(range(first, min(first + per_word, len(facts))))
        packed = m.select(_bits([(facts[i], width * (i - first)) for i in word])).to_series()
        # the members' lists again, of their packed facts: one sum a household
        sums = pl.from_arrow(pa.ListArray.from_arrays(offsets, packed.to_arrow())).list.sum()
        field_mask = (1 << width) - 1
        for i in word:
            out[MEMBER_FACTS[i]] = (sums & (field_mask << (width * (i - first)))) != 0
    return pl.DataFrame(out), hits


def _member_warnings(m: pl.DataFrame, lists: Any, as_of: date) -> pl.DataFrame:
    """(row, rule, item) of each warning about a member (`rule` its place in WARNINGS)."""
    import pyarrow.compute as pc

    c, birth = pl.col, pl.col("birth_date")
    minor = birth > _last_birth_date(as_of, LABOUR_MIN)  # null when the date is unknown
    rules = {"minor_with_labour": (c("normal") | c("skilled") | c("weak")) & minor,
             "dropout_outside_school_age": c("dropped_out") & (
                 (birth > _last_birth_date(as_of, SCHOOL[0]))
                 | (birth <= _last_birth_date(as_of, SCHOOL[1] + 1))),
             "future_date.birth_date": birth > as_of}
    orders = [WARNING_ORDER[name] for name in rules]
    mask = m.select(_bits([(rule, WARNING_ORDER[name]) for name, rule in rules.items()])
                    .alias("mask"))
    held = mask.with_row_index("member").filter(pl.col("mask") != 0)
    offsets = pl.from_arrow(pc.subtract(lists.offsets, lists.offsets[0])).cast(pl.Int64)
    row = offsets.search_sorted(held.get_column("member").cast(pl.Int64), side="right") - 1
    held = held.with_columns(row.cast(pl.UInt32).alias("row"))
    held = held.with_columns(
        (pl.col("member").cast(pl.Int64) - offsets.gather(row)).alias("item"))
    return pl.concat([
        held.filter((pl.col("mask") & (1 << order)) != 0)
        .select("row", pl.lit(order, dtype=pl.UInt32).alias("rule"), "item")
        for order in orders])


def _bits(flags: list[tuple[pl.Expr, int]]) -> pl.Expr:
    """An integer of the bits (flag, position): a sum of when/then (a null flag is false),
    which Polars computes faster than sum_horizontal of the flags cast."""
    total: pl.Expr = pl.lit(0, dtype=pl.Int64)
    for flag, position in flags:
        total = total + pl.when(flag).then(pl.lit(1 << position, dtype=pl.Int64)).otherwise(0)
    return total


def _mask(flags: list[tuple[str, pl.Expr]]) -> pl.Expr:
    """The flags as the bits of one integer, the first flag the lowest bit."""
    return _bits([(flag, i) for i, (_, flag) in enumerate(flags)])


def _labels(mask: pl.Series, labels: list[str]) -> pl.Series:
    """A list of labels per row from its mask, in the labels' order: each distinct mask's list
    built once, then gathered by row through a dense index of every possible mask."""
    import pyarrow as pa

    uniques = mask.unique()
    lists = pl.from_arrow(pa.array(
        [[label for i, label in enumerate(labels) if u >> i & 1] for u in uniques.to_list()],
        pa.list_(pa.string())))
    assert isinstance(lists, pl.Series)
    position = pl.zeros(1 << len(labels), dtype=pl.UInt32, eager=True).scatter(
        uniques, pl.int_range(uniques.len(), dtype=pl.UInt32, eager=True))
    return lists.gather(position.gather(mask))


def _warning_lists(mask: pl.Series, member_hits: pl.DataFrame | None) -> pl.Series:
    """Each row's warnings, in rule order then member order (the engine's): from the mask of
    the household's rules (bits at their place in WARNINGS), one list per distinct mask as
    for the labels; the few rows with a warning about a member get their own list, their
    entries (row, rule, item: -1 for a household's rule) sorted."""
    entry = [dict(zip(("code", "field", "cite"), w[1:], strict=True)) for w in WARNINGS]
    uniques = mask.unique()
    lists = pl.Series([[entry[i] for i in range(len(WARNINGS)) if u >> i & 1]
                       for u in uniques.to_list()], dtype=pl.List(WARNING))
    position = pl.zeros(1 << len(WARNINGS), dtype=pl.UInt32, eager=True).scatter(
        uniques, pl.int_range(uniques.len(), dtype=pl.UInt32, eager=True))
    index = position.gather(mask)
    if member_hits is None or member_hits.height == 0:
        return lists.gather(index)
    rows = member_hits.get_column("row").unique()
    theirs = pl.DataFrame({"row": rows, "mask": mask.gather(rows)})
    household = [theirs.filter((pl.col("mask") & (1 << order)) != 0).select(
        "row", pl.lit(order, dtype=pl.UInt32).alias("rule"),
        pl.lit(-1, dtype=pl.Int64).alias("item"))
        for order in range(len(WARNINGS))]
    entries = pl.concat([member_hits, *household]).sort("row", "rule", "item")
    orders = list(range(len(WARNINGS)))

    def by_rule(values: list[str]) -> pl.Expr:
        return pl.col("rule").replace_strict(orders, values, return_dtype=pl.String)

    prefix = by_rule([w[2].split("[]")[0] for w in WARNINGS])
    suffix = by_rule([w[2].split("[]")[-1] if "[]" in w[2] else "" for w in WARNINGS])
    own = entries.select("row", pl.struct(
        by_rule([w[1] for w in WARNINGS]).alias("code"),
        pl.when(pl.col("item") >= 0).then(pl.concat_str(
            prefix, pl.lit("["), pl.col("item").cast(pl.String), pl.lit("]"), suffix))
        .otherwise(prefix).alias("field"),
        by_rule([w[3] for w in WARNINGS]).alias("cite")).alias("entry")) \
        .group_by("row", maintain_order=True).agg("entry")
    index = index.scatter(own.get_column("row"), pl.int_range(
        uniques.len(), uniques.len() + own.height, dtype=pl.UInt32, eager=True))
    # one chunk: a gather from a series of two chunks of lists of structs costs 80 times more
    return pl.concat([lists, own.get_column("entry")], rechunk=True).gather(index)


def _named(values: list[str], code: pl.Series, name: str) -> pl.Series:
    """The string at each row's code (null where the code is)."""
    return pl.Series(name, values, dtype=pl.String).gather(code)


def decide_frame(table: Any, as_of: date, *, warnings: bool = False) -> pl.DataFrame:
    """The decisions of the validated households of `table` on `as_of` (with `warnings`, their
    data warnings too, column `warnings`, as the engine writes them)."""
    import pyarrow.compute as pc

    if isinstance(table, pl.DataFrame):
        table = table.to_arrow()
    members = table.column("members")
    facts, member_hits = _member_facts(members, as_of, warnings)
    size = pl.from_arrow(pc.list_value_length(members)).cast(pl.Int64)
    # the households' own fields only: the members (nested, with strings) are read above
    frame = pl.from_arrow(table.drop_columns(["members", "region_code"]))
    assert isinstance(frame, pl.DataFrame) and isinstance(size, pl.Series)
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
        pl.col("dibao").struct.field("income_above_standard_on").alias("above_on"),
        pl.col("dibao").struct.field("since").alias("dibao_since"),
        pl.col("monitoring").struct.field("since").alias("monitoring_since")),
        facts, size.alias("size").to_frame()], how="horizontal")
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
    # Strings are written last, each gathered from its few values by a small integer code:
    # a chain of when/then over string literals costs ten times the same chain over integers.
    category = pl.when(c("formerly_poor")).then(
        pl.when(c("after_below") | c("guarantee_problem")).then(UNSTABLE))\
        .when(c("after_below") & (~c("in_range") | c("sharp_drop"))).then(SUDDEN_HARDSHIP)\
        .when(c("in_range")).then(MARGINAL)
    recorded = pl.when(c("recorded_category") == "unstable").then(UNSTABLE)\
        .when(c("recorded_category") == "sudden_hardship").then(SUDDEN_HARDSHIP)\
        .when(c("recorded_category") == "marginal").then(MARGINAL)
    df = df.with_columns((c("status") == "monitored").alias("recorded_monitored"),
                         category.alias("computed"))
    df = df.with_columns(
        pl.when(c("computed").is_null() & c("recorded_monitored")).then(recorded)
        .otherwise(c("computed")).alias("category"))
    df = df.with_columns((c("category").is_not_null() | c("recorded_monitored"))
                         .alias("monitored"))
    m = c("monitored")
    df = df.with_columns(
        (m & (c("food_problem") | ((c("rigid") > 0) & (c("after") < DIBAO * c("size")))))
        .alias("temporary_assistance"),
        (c("net") < DIBAO * c("size")).alias("below_dibao"),
        (m & (c("in_range") | c("sharp_drop"))).alias("work"))
    df = df.with_columns(
        (c("work") & c("can_work_fully")).alias("employment"),
        (c("work") & ~c("can_work_fully") & c("has_labour")).alias("industry"),
        (m & c("tekun")).alias("tekun_measure"),
        (m & ~c("tekun") & c("below_dibao")).alias("dibao_measure"))
    measure_flags = [
        ("employment", c("employment")),
        ("industry", c("industry")),
        ("health", m & (c("illness") | c("severe_disability"))),
        ("education", m & c("schooling")),
        ("housing_safety", m & c("housing_problem")),
        ("drinking_water_safety", m & c("water_problem")),
        ("disaster_relief", m & c("disaster_risk")),
        ("motivation_support", m & c("motivation")),
        ("dibao", c("dibao_measure")),
        ("tekun", c("tekun_measure")),
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
        ("human_resources", c("sharp_drop") | c("employment")),
        ("health_commission", c("illness") | c("severe_disability")),
        ("medical_insurance", c("medical_spending") | c("medical_problem")),
        ("disabled_persons_federation", c("severe_disability")),
        ("education", c("schooling")),
        ("housing", c("housing_problem")), ("water_resources", c("water_problem")),
        ("emergency_management", c("disaster_risk")),
        ("public_security", c("accident_risk")),
        ("civil_affairs", ~c("has_labour") | c("food_problem") | c("tekun_measure") |
         c("dibao_measure") | c("temporary_assistance")),
        ("rural_revitalization", c("motivation")),
        ("agriculture", c("industry")),
    ]
    special_flags = [("serious_illness", c("serious")), *((name, c(name)) for name in SPECIAL[1:])]
    label_sets = {"special_groups": special_flags, "risks": risk_flags,
                  "measures": measure_flags, "departments": department_flags}
    df = df.with_columns(_mask(flags).alias(f"{key}_mask") for key, flags in label_sets.items())
    risk_count = c("risks_mask").bitwise_count_ones()
    mode = pl.when(m).then(pl.when(risk_count >= 2).then(0).when(risk_count == 1).then(1))
    reason = pl.when(~c("recorded_monitored")).then(0)\
        .when(~c("has_labour")).then(1)\
        .when(c("guarantee_problem")).then(2)\
        .when(c("after_below")).then(3)\
        .when(c("sharp_drop") | (c("net") * STABLE[1] < LINE * STABLE[0] * c("size"))).then(4)\
        .when((c("serious") | c("chronic_heavy")) & c("medical_spending")).then(5)
    grace = pl.when(c("enrolled") & (c("net") > DIBAO * c("size")) & c("above_on").is_not_null())\
        .then(c("above_on").dt.offset_by("12mo") - pl.duration(days=1))
    codes = df.select(c("category").cast(pl.UInt32), mode.cast(pl.UInt32).alias("mode"),
                      reason.cast(pl.UInt32).alias("reason"))
    category_code, reason_code = codes.get_column("category"), codes.get_column("reason")
    out = df.select(
        "household_id",
        c("net").alias("per_capita_income_num"), c("after").alias("per_capita_after_rigid_num"),
        (c("size") * SCALE).alias("per_capita_den"),
        "in_range",
        (m & (c("special_groups_mask") != 0)).alias("priority_attention"),
        pl.when(m).then(pl.when(c("has_labour")).then(pl.lit("development"))
                        .otherwise(pl.lit("safety_net"))).alias("orientation"),
        (m & ~c("tekun") & c("below_dibao") & ~c("enrolled")).alias("dibao_recommend_enrolment"),
        grace.alias("dibao_grace_until"),
        "temporary_assistance",
        reason_code.is_null().alias("risk_elimination_eligible"))
    if warnings:
        held = {
            "category_mismatch": c("recorded_category").is_not_null() &
            c("category").is_not_null() & (c("category") != recorded),
            "dibao_dates_inconsistent": c("above_on") < c("dibao_since"),
            "eliminated_without_labour": (c("status") == "risk_eliminated") & ~c("has_labour"),
            "future_date.dibao_since": c("dibao_since") > as_of,
            "future_date.income_above_standard_on": c("above_on") > as_of,
            "future_date.monitoring_since": c("monitoring_since") > as_of,
            "grace_start_unknown": c("enrolled") & (c("net") > DIBAO * c("size")) &
            c("above_on").is_null(),
            "monitored_without_category": c("recorded_monitored") &
            c("recorded_category").is_null() & c("category").is_null(),
            "no_measure": m & (risk_count >= 1) & (c("measures_mask") == 0),
            "welfare_trap": (mode == 1) & (c("measures_mask").bitwise_count_ones() > 1)}
        mask = df.select(_bits([(rule, WARNING_ORDER[name]) for name, rule in held.items()])
                         ).to_series()
        out = out.with_columns(_warning_lists(mask, member_hits).alias("warnings"))
    return out.with_columns(
        _named(CATEGORIES, category_code, "category"),
        _named([CATEGORY_LABELS[name] for name in CATEGORIES], category_code, "category_label"),
        _named(MODES, codes.get_column("mode"), "assistance_mode"),
        _named(CADRE_RANKS, category_code, "cadre_rank"),
        pl.Series("cadre_pairing", CADRE_PAIRING, dtype=pl.Boolean).gather(category_code),
        _named(REASONS, reason_code, "risk_elimination_reason"),
        *(_labels(df.get_column(f"{key}_mask"), [label for label, _ in flags]).alias(key)
          for key, flags in label_sets.items()))
