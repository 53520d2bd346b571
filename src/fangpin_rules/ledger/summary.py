"""The monthly ledger summary (population/ledger.py, `fangpin report ledger`) as a sheet: its
rows by region, each figure headed in words (Chinese, or English with `lang="en"`), for the
workbook of `fangpin report ledger -o ledger.xlsx` and as one more sheet of the decisions
workbook of `fangpin eval -o decisions.xlsx`.

The figures are the population package's own (`household_figures`, `ledger_table`): this
module sums nothing of its own beyond adding each household's figures to its region's row as
the decisions come (`SummarySums`), and gives the figure names their words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import IO, Any

from fangpin_rules.engine.regions import AnyPolicy, base_of
from fangpin_rules.population.deciding import Decided, Period
from fangpin_rules.population.ledger import household_figures, ledger_table
from fangpin_rules.population.regions import Level, row_region
from fangpin_rules.population.tables import Table

Cell = str | int | None

SHEET_NAMES = {"zh": "月度台账汇总", "en": "monthly ledger"}
_FIXED: dict[str, tuple[str, str]] = {
    "region": ("区划代码", "region"), "level": ("层级", "level"),
    "screened": ("研判户数", "households screened"),
    "monitored": ("监测户数", "households monitored"),
    "newly_identified": ("本月新识别", "newly identified this month"),
    "eliminated": ("本月风险消除", "risk eliminated this month"),
    "should_monitor_not_monitored": ("应纳未纳", "should be monitored, not monitored"),
    "dibao_not_enrolled": ("应保未保", "should have dibao, not enrolled"),
    "cases.received": ("受理案件", "cases received"),
    "cases.assigned": ("分派案件", "cases assigned"),
    "cases.reviewed": ("初审案件", "cases reviewed"),
    "cases.verified": ("核实案件", "cases verified"),
}
_PREFIXES: dict[str, tuple[str, str]] = {
    "monitored": ("监测户", "monitored"), "risk": ("风险", "risk"),
    "measure": ("措施", "measure"), "cases.received.source": ("受理案件来源", "cases from"),
    "steps.overdue": ("逾期未办环节", "steps overdue"),
    "steps.late": ("逾期办结环节", "steps done late"),
    "warnings": ("数据提示", "warning"),
}
_LEVELS = {"county": ("县", "county"), "township": ("乡镇", "township"),
           "village": ("村", "village"), "unknown": ("未知", "unknown"),
           "total": ("合计", "total")}
_SOURCES: dict[str, tuple[str, str]] = {
    "self_report_online": ("网上自主申报", "self-report online"),
    "hotline_12317": ("12317热线", "12317 hotline"),
    "department_hotline": ("部门热线", "department hotline"),
    "routine_visit": ("日常走访", "routine visit"),
    "sector_screening": ("部门筛查预警", "sector screening"),
    "media": ("媒体反映", "media"), "petition": ("信访", "petition"),
}


def _in(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


class FigureWords:
    """The words of a ledger's figure names under a policy: its vocabularies' labels for
    categories, risks and measures, its warnings' titles, the articles as they are."""

    def __init__(self, policy: AnyPolicy, lang: str) -> None:
        checked = base_of(policy).checked
        self.lang = lang
        self.labels: dict[str, dict[str, str]] = {}
        for name in ("category", "risk", "measure"):
            vocabulary = checked.vocabularies.get(name)
            if vocabulary is not None:
                self.labels[name] = {code: (en if lang == "en" and en else zh)
                                     for code, (zh, en) in vocabulary.labels.items()}
        self.warnings: dict[str, str] = {}
        for warning in checked.warnings:
            title = warning.title_en if lang == "en" and warning.title_en else warning.title_zh
            self.warnings.setdefault(warning.code, title)

    def __call__(self, name: str) -> str:
        fixed = _FIXED.get(name)
        if fixed is not None:
            return _in(fixed, self.lang)
        for prefix, words in _PREFIXES.items():
            if name.startswith(prefix + "."):
                code = name[len(prefix) + 1:]
                return f"{_in(words, self.lang)}{': ' if self.lang == 'en' else '：'}" \
                       f"{self.value(prefix, code)}"
        return name

    def value(self, prefix: str, code: str) -> str:
        if prefix == "monitored":
            return self.labels.get("category", {}).get(code, code)
        if prefix in ("risk", "measure"):
            return self.labels.get(prefix, {}).get(code, code)
        if prefix == "warnings":
            return self.warnings.get(code, code)
        if prefix == "cases.received.source":
            return _in(_SOURCES[code], self.lang) if code in _SOURCES else code
        return code  # an article, as the policy cites it


def summary_headers(table: Table, words: FigureWords) -> list[str]:
    return [words("region"), words("level"), *(words(column) for column in table.columns)]


def summary_rows(table: Table, lang: str) -> Iterable[list[Cell]]:
    """The table's rows and its total, as cells: counts as numbers (a share, which the ledger
    does not have, would be its exact text)."""
    for row in [*table.rows, *([table.total] if table.total else [])]:
        level = _LEVELS.get(row.level)
        region = _in(_LEVELS["total"], lang) if row.region == "total" else row.region
        yield [region, _in(level, lang) if level else row.level,
               *(_cell(row.figures.get(column)) for column in table.columns)]


def _cell(value: Any) -> Cell:
    if value is None or isinstance(value, int):
        return value
    return str(value)


def month_to(as_of: date) -> Period:
    """The month of `as_of`, up to `as_of`: what a decisions workbook's summary covers."""
    return Period(f"{as_of:%Y-%m}", as_of.replace(day=1), as_of)


class SummarySums:
    """The monthly ledger summed as the decisions come, a household at a time: memory holds
    the regions' rows only."""

    def __init__(self, policy: AnyPolicy, period: Period, level: Level = "village") -> None:
        self.policy = policy
        self.period = period
        self.level = level
        self.by_region: dict[str, dict[str, int]] = {}

    def add(self, household: Any, decision: dict[str, Any], cases: list[Any]) -> None:
        decided = Decided(household, decision, cases, None)
        row = self.by_region.setdefault(row_region(decided.region_code, self.level), {})
        for name, value in household_figures(decided, self.period).items():
            row[name] = row.get(name, 0) + value

    def table(self) -> Table:
        return ledger_table(self.policy, self.by_region, self.period, self.level)


def sheet_name(lang: str) -> str:
    return SHEET_NAMES["en" if lang == "en" else "zh"]


def table_sheet(table: Table, policy: AnyPolicy, lang: str
                ) -> tuple[str, list[str], Iterable[list[Cell]]]:
    """(sheet name, headers, rows) of a ledger summary, for `XlsxLedger.summary_sheet`."""
    return sheet_name(lang), summary_headers(table, FigureWords(policy, lang)), \
        summary_rows(table, lang)


def write_summary_workbook(out: IO[bytes], table: Table, policy: AnyPolicy, lang: str,
                           as_of: date, engine_version: str, counts: Mapping[str, int]) -> None:
    """A report's workbook: the ledger summary sheet and the about sheet (the policy, its
    sha256, the date, the engine's version, the households read, decided and rejected)."""
    from fangpin_rules.ledger.write import Labeller, XlsxLedger

    workbook = XlsxLedger(out, Labeller(base_of(policy).checked, lang), decisions=False)
    try:
        workbook.summary_sheet(*table_sheet(table, policy, lang))
        workbook.close(as_of, engine_version, counts)
    finally:
        workbook.discard()


__all__ = ["FigureWords", "SummarySums", "month_to", "sheet_name", "summary_headers",
           "summary_rows", "table_sheet", "write_summary_workbook"]
