"""The anchors workload's rules (shared/bench/anchors/handwritten.py) written by hand in
vectorised Polars and in NumPy over data already in columns, as anchors-workload.md measured
them: the figures bench_anchors.py sets the columnar engine beside, in one run.

Both compute in binary floating point as the reference does (the workload's records carry
floats); bench_anchors.py checks every output against the reference. `columns(records)` puts
the records in columns first (not timed): household fields as arrays, members flattened with
the household each belongs to.
"""

from __future__ import annotations

from typing import Any

import polars as pl

LABOR = ["normal", "skilled", "weak"]
MEASURES = ["employment", "dibao", "housing", "water", "education", "health"]
CATEGORIES = [None, "unstable", "marginal", "sudden_hardship"]


def columns(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The records in columns: a Polars frame of households, one of members, and NumPy arrays."""
    keys = ("size", "annual_net_income", "rigid_expenditure", "monitoring_line",
            "dibao_standard", "is_former_poor", "housing_safe", "water_safe", "child_dropout",
            "on_dibao")
    households = pl.DataFrame({key: [r[key] for r in records] for key in keys},
                              schema_overrides={k: pl.Float64 for k in keys[1:5]})
    members = pl.DataFrame({
        "h": [i for i, r in enumerate(records) for _ in r["members"]],
        "age": [m["age"] for r in records for m in r["members"]],
        "labor_capacity": [m["labor_capacity"] for r in records for m in r["members"]],
        "serious_illness": [m["serious_illness"] for r in records for m in r["members"]],
        "severe_disability": [m["severe_disability"] for r in records for m in r["members"]]})
    data = {"households": households, "members": members, "n": len(records)}
    try:
        import numpy as np
    except ImportError:  # numpy is optional: the NumPy version is then not measured
        return data
    arrays = {key: households.get_column(key).to_numpy() for key in keys}
    arrays["m_h"] = members.get_column("h").to_numpy()
    arrays["m_age"] = members.get_column("age").to_numpy()
    arrays["m_labor"] = members.get_column("labor_capacity").is_in(LABOR).to_numpy()
    arrays["m_lost"] = (members.get_column("labor_capacity") == "lost").to_numpy()
    arrays["m_ill"] = members.get_column("serious_illness").to_numpy()
    arrays["m_dis"] = members.get_column("severe_disability").to_numpy()
    starts = np.searchsorted(arrays["m_h"], np.arange(len(records)))
    arrays["starts"] = starts
    return {**data, "arrays": arrays}


def _measure_lists(mask: Any, n: int) -> list[list[str]]:
    """One list per distinct mask, then each household's."""
    import numpy as np

    uniques, inverse = np.unique(mask, return_inverse=True)
    lists = [[name for i, name in enumerate(MEASURES) if int(u) >> i & 1] for u in uniques]
    return [lists[i] for i in inverse] if n else []


def polars_version(data: dict[str, Any]) -> pl.DataFrame:
    h, m = data["households"], data["members"]
    c = pl.col
    by_member = m.group_by("h").agg(
        (c("serious_illness") | c("severe_disability") |
         ((c("age") >= 60) & (c("labor_capacity") == "lost")) | (c("age") < 18)).any()
        .alias("special_group"),
        c("labor_capacity").is_in(LABOR).any().alias("has_labor"),
        c("serious_illness").any().alias("any_ill")).sort("h")
    df = pl.concat([h, by_member.drop("h")], how="horizontal").with_columns(
        (c("annual_net_income") / c("size")).alias("per_capita"),
        ((c("annual_net_income") - c("rigid_expenditure")) / c("size"))
        .alias("per_capita_after_rigid"),
        (~c("housing_safe") | ~c("water_safe") | c("child_dropout"))
        .alias("three_guarantees_problem"))
    df = df.with_columns((c("per_capita") < c("monitoring_line")).alias("in_range"))
    category = pl.when(c("is_former_poor") & (c("in_range") | c("three_guarantees_problem")))\
        .then(pl.lit("unstable"))\
        .when(~c("is_former_poor") & (c("per_capita") < 1.5 * c("monitoring_line")) &
              (c("in_range") | c("three_guarantees_problem") | c("special_group")))\
        .then(pl.lit("marginal"))\
        .when((c("per_capita_after_rigid") < c("monitoring_line")) &
              (c("rigid_expenditure") > 0.5 * c("annual_net_income")))\
        .then(pl.lit("sudden_hardship"))
    df = df.with_columns(category.alias("category"))
    has_category = c("category").is_not_null()
    flags = [c("has_labor") & has_category, has_category & ~c("has_labor"), ~c("housing_safe"),
             ~c("water_safe"), c("child_dropout"), c("any_ill")]
    mask = pl.sum_horizontal([flag.cast(pl.Int64) * (1 << i) for i, flag in enumerate(flags)])
    out = df.select("per_capita", "per_capita_after_rigid", "in_range",
                    "three_guarantees_problem", "special_group", "category", "has_labor",
                    (c("on_dibao") & (c("per_capita") > c("dibao_standard")))
                    .alias("dibao_grace"), mask.alias("mask"))
    masks = out.get_column("mask")
    uniques = masks.unique().to_list()
    lists = pl.Series([[name for i, name in enumerate(MEASURES) if u >> i & 1]
                       for u in uniques], dtype=pl.List(pl.String))
    index = masks.replace_strict(uniques, list(range(len(uniques))), return_dtype=pl.Int64)
    return out.drop("mask").with_columns(lists.gather(index).alias("measures"))


def numpy_version(data: dict[str, Any]) -> dict[str, Any]:
    import numpy as np

    a = data["arrays"]
    n = data["n"]
    starts = a["starts"]
    special_m = a["m_ill"] | a["m_dis"] | ((a["m_age"] >= 60) & a["m_lost"]) | (a["m_age"] < 18)
    special = np.logical_or.reduceat(special_m, starts) if n else special_m
    has_labor = np.logical_or.reduceat(a["m_labor"], starts) if n else special_m
    any_ill = np.logical_or.reduceat(a["m_ill"], starts) if n else special_m
    income, rigid, size = a["annual_net_income"], a["rigid_expenditure"], a["size"]
    line = a["monitoring_line"]
    per_capita = income / size
    after = (income - rigid) / size
    in_range = per_capita < line
    problem = ~a["housing_safe"] | ~a["water_safe"] | a["child_dropout"]
    former = a["is_former_poor"]
    unstable = former & (in_range | problem)
    marginal = ~unstable & ~former & (per_capita < 1.5 * line) & (in_range | problem | special)
    sudden = ~unstable & ~marginal & (after < line) & (rigid > 0.5 * income)
    category = unstable * 1 + marginal * 2 + sudden * 3
    has_category = category > 0
    mask = ((has_labor & has_category) * 1 + (has_category & ~has_labor) * 2
            + ~a["housing_safe"] * 4 + ~a["water_safe"] * 8 + a["child_dropout"] * 16
            + any_ill * 32)
    return {"per_capita": per_capita, "per_capita_after_rigid": after, "in_range": in_range,
            "three_guarantees_problem": problem, "special_group": special,
            "category": category, "has_labor": has_labor,
            "dibao_grace": a["on_dibao"] & (per_capita > a["dibao_standard"]), "mask": mask}


def numpy_records(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The NumPy result as the reference's records (for the check, not timed)."""
    lists = _measure_lists(result["mask"], len(result["mask"]))
    keys = ("per_capita", "per_capita_after_rigid", "in_range", "three_guarantees_problem",
            "special_group", "has_labor", "dibao_grace")
    values = {key: result[key].tolist() for key in keys}
    category = result["category"].tolist()
    return [{**{key: values[key][i] for key in keys}, "category": CATEGORIES[category[i]],
             "measures": lists[i]} for i in range(len(category))]
