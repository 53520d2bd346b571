"""Synthetic ledgers in the national platform's layout, with their JSON-lines twins.

Every name and ID number is made up (the ID numbers carry valid GB 11643 check digits, so they
look like the real thing to a reader; no real person's data is used). A ledger has the title
rows of an export (merged across the sheet), every label of the national format, every date
form, money as number cells, text and a formula whose cached value carries a binary-float tail,
households whose fields are written only on the head's row, and households whose fields are
merged down their rows. Its twin holds the same households as the records a JSON line gives.

    python -m fangpin_rules.ledger.synthetic --households 40 --xlsx ledger.xlsx \\
        --csv ledger.csv --encoding gb18030 --jsonl ledger.jsonl
"""

from __future__ import annotations

import argparse
import csv
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from fangpin_rules.ledger.format import LedgerFormat, label_tables, load_format
from fangpin_rules.ledger.ids import id_check_digit

SHEET = "监测对象信息"
TITLE = "防止返贫监测对象信息台帐（合成数据，非真实个人信息）"
SUBTITLE = "导出日期：2021-09-01　单位：元"
HEADERS = [
    "县", "乡", "村", "行政区划代码", "户编号", "户类型", "姓名", "证件号码", "与户主关系",
    "出生日期", "劳动技能", "健康状况", "残疾等级", "是否失能老人", "是否孤儿", "是否留守儿童",
    "是否辍学", "家庭年纯收入", "上年家庭年纯收入", "医疗支出", "教育支出", "灾害支出",
    "意外支出", "是否解决吃穿问题", "是否有基本医疗保障", "住房是否安全", "饮水是否安全",
    "是否享受低保", "纳入低保时间", "收入超低保标准时间", "是否特困供养", "是否内生动力不足",
    "监测状态", "监测对象类别", "识别监测时间", "风险类型1", "风险类型2",
]
# The household's columns (written on every row of it, or only on the head's, or merged).
HOUSEHOLD_COLUMNS = frozenset({
    "县", "乡", "村", "行政区划代码", "户类型", "家庭年纯收入", "上年家庭年纯收入", "医疗支出",
    "教育支出", "灾害支出", "意外支出", "是否解决吃穿问题", "是否有基本医疗保障", "住房是否安全",
    "饮水是否安全", "是否享受低保", "纳入低保时间", "收入超低保标准时间", "是否特困供养",
    "是否内生动力不足", "监测状态", "监测对象类别", "识别监测时间", "风险类型1", "风险类型2",
})
COUNTIES = (("闽侯县", "350121"), ("福清市", "350181"), ("晋江市", "350582"),
            ("长汀县", "350821"))
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国福春"
_RELATIONS = ("配偶", "之子", "之女", "之母", "之父", "之孙子", "之孙女")
_DATE_FORMS = ("YYYYMMDD", "YYYYMM", "YYYY-MM-DD", "YYYY/MM/DD", "excel")
FORMULA_TAIL = 7151.990000000001  # what =21455.97/3 leaves in the cell: 7151.99 shown


@dataclass(frozen=True)
class Cell:
    """A cell as it is written: `kind` text, number, date (an Excel date cell), formula (a
    number computed by a formula whose cached result is `value`), or empty."""

    kind: str
    value: Any = None
    text: str = ""  # what a CSV export writes for it


EMPTY = Cell("empty")


@dataclass
class SyntheticLedger:
    records: list[dict[str, Any]] = field(default_factory=list)
    rows: list[list[Cell]] = field(default_factory=list)
    merges: list[tuple[int, int, int]] = field(default_factory=list)  # (first, last row, column)


def synthetic_ledger(households: int, seed: int = 2021,
                     ledger_format: LedgerFormat | None = None) -> SyntheticLedger:
    """`households` made-up households (deterministic for a seed) in the national layout."""
    tables = label_tables(ledger_format or load_format())
    maker = _Maker(random.Random(seed), tables)
    ledger = SyntheticLedger()
    for index in range(households):
        maker.household(index, ledger)
    return ledger


class _Maker:
    def __init__(self, rng: random.Random, tables: dict[str, dict[str, Any]]) -> None:
        self.rng = rng
        self.tables = tables
        self.turns: dict[str, int] = {}
        self.sequence: dict[str, int] = {}

    def turn(self, table: str) -> str:
        """The next label of `table`, in turn, so that a few households show every one."""
        labels = list(self.tables[table])
        count = self.turns.get(table, 0)
        self.turns[table] = count + 1
        return labels[count % len(labels)]

    def date_cell(self, when: date) -> tuple[Cell, date]:
        form = _DATE_FORMS[self.turns.setdefault("date", 0) % len(_DATE_FORMS)]
        self.turns["date"] += 1
        if form == "YYYYMM":
            when = when.replace(day=1)
            return Cell("text", f"{when:%Y%m}", f"{when:%Y%m}"), when
        if form == "excel":
            return Cell("date", when, when.isoformat()), when
        text = {"YYYYMMDD": f"{when:%Y%m%d}", "YYYY-MM-DD": when.isoformat(),
                "YYYY/MM/DD": f"{when:%Y/%m/%d}"}[form]
        return Cell("text", text, text), when

    def money_cell(self, amount: Decimal) -> Cell:
        count = self.turns.setdefault("money", 0)
        self.turns["money"] += 1
        plain = format(amount, "f")
        if count % 3 == 2:
            return Cell("text", f"{amount:,.2f}", f"{amount:,.2f}")
        return Cell("number", float(amount), plain)

    def yes_no(self, value: bool | None) -> Cell:
        if value is None:
            return EMPTY
        text = "是" if value else "否"
        return Cell("text", text, text)

    def household(self, index: int, ledger: SyntheticLedger) -> None:
        rng = self.rng
        county, code = COUNTIES[index % len(COUNTIES)]
        town, village = 1 + index % 7, 1 + index % 13
        division = f"{code}{town:03d}{village:03d}"
        household_id = f"{code}-{index + 1:05d}"
        size = 1 + index % 5 if index % 11 else 6
        household_type = self.turn("household_type")
        formerly_poor = bool(self.tables["household_type"][household_type])
        if index == 0:
            # A formula's cell (=21455.97/3) caches 7151.990000000001 and shows 7151.99: one
            # member under the 7152 line by a fen, read as the fen shown.
            net_income = Decimal("7151.99")
            size = 1
        else:
            per_head = Decimal(rng.randrange(300_000, 1_500_000)) / 100
            net_income = (per_head * size).quantize(Decimal("0.01"))
        previous = (net_income * Decimal(rng.choice(("1.0", "1.3", "2.0")))).quantize(
            Decimal("0.01"))
        spending = {kind: Decimal(rng.choice((0, 0, 1500, 12000, 30000)))
                    for kind in ("medical", "education", "disaster", "accident")}
        status_label = self.turn("monitoring_status")
        status = self.tables["monitoring_status"][status_label]
        category_label = ""
        monitoring: dict[str, Any] = {"status": status, "category": None, "since": None}
        household_cells: dict[str, Cell] = {}
        if status != "none":
            category_label = self.turn("category")
            monitoring["category"] = self.tables["category"][category_label]
            since_cell, since = self.date_cell(date(2021, 1 + index % 8, 1 + index % 27))
            monitoring["since"] = since
            household_cells["识别监测时间"] = since_cell
        enrolled = index % 4 == 1
        dibao: dict[str, Any] = {"enrolled": enrolled, "since": None,
                                 "income_above_standard_on": None}
        if enrolled:
            since_cell, since = self.date_cell(date(2020, 1 + index % 12, 1 + index % 28))
            dibao["since"] = since
            household_cells["纳入低保时间"] = since_cell
            if index % 8 == 1:
                above_cell, above = self.date_cell(date(2021, 3, 10))
                dibao["income_above_standard_on"] = above
                household_cells["收入超低保标准时间"] = above_cell
        secure = {key: (index + offset) % 9 != 0
                  for offset, key in enumerate(("food_clothing_secure", "basic_medical_secure",
                                                "housing_safe", "drinking_water_safe"))}
        tekun, motivation = index % 13 == 5, index % 17 == 3
        net_cell = (Cell("formula", FORMULA_TAIL, "7151.99") if index == 0
                    else self.money_cell(net_income))
        household_cells.update({
            "县": Cell("text", county, county), "乡": Cell("text", f"第{town}镇", f"第{town}镇"),
            "村": Cell("text", f"第{village}村", f"第{village}村"),
            "行政区划代码": Cell("text", division, division),
            "户类型": Cell("text", household_type, household_type),
            "家庭年纯收入": net_cell, "上年家庭年纯收入": self.money_cell(previous),
            "医疗支出": self.money_cell(spending["medical"]),
            "教育支出": self.money_cell(spending["education"]),
            "灾害支出": self.money_cell(spending["disaster"]),
            "意外支出": self.money_cell(spending["accident"]),
            "是否解决吃穿问题": self.yes_no(secure["food_clothing_secure"]),
            "是否有基本医疗保障": self.yes_no(secure["basic_medical_secure"]),
            "住房是否安全": self.yes_no(secure["housing_safe"]),
            "饮水是否安全": self.yes_no(secure["drinking_water_safe"]),
            "是否享受低保": self.yes_no(enrolled), "是否特困供养": self.yes_no(tekun),
            "是否内生动力不足": self.yes_no(motivation),
            "监测状态": Cell("text", status_label, status_label),
            "监测对象类别": Cell("text", category_label, category_label) if category_label
            else EMPTY,
        })
        if status != "none":  # the platform's own risk type: not read, the policy decides
            risk = self.turn("risk")
            household_cells["风险类型1"] = Cell("text", risk, risk)
        members: list[dict[str, Any]] = []
        first_row = len(ledger.rows)
        head_only = index % 4 == 3  # the household's fields on the head's row alone
        for number in range(size):
            member, cells = self.member(index, number, code)
            members.append(member)
            row = []
            for header in HEADERS:
                if header in HOUSEHOLD_COLUMNS:
                    row.append(household_cells.get(header, EMPTY)
                               if number == 0 or not head_only else EMPTY)
                elif header == "户编号":
                    row.append(Cell("text", household_id, household_id))
                else:
                    row.append(cells.get(header, EMPTY))
            ledger.rows.append(row)
        if index % 5 == 4 and size > 1:  # merged down the household's rows
            last = first_row + size - 1
            for column, header in enumerate(HEADERS):
                if header in HOUSEHOLD_COLUMNS or header == "户编号":
                    ledger.merges.append((first_row, last, column))
        ledger.records.append({
            "household_id": household_id, "region_code": division,
            "formerly_poor": formerly_poor,
            "members": members, "net_income": net_income, "previous_net_income": previous,
            "rigid_expenditure": spending, **secure,
            "dibao": dibao, "tekun": tekun, "motivation_lacking": motivation,
            "monitoring": monitoring,
        })

    def member(self, index: int, number: int, county_code: str
               ) -> tuple[dict[str, Any], dict[str, Cell]]:
        rng = self.rng
        if number == 0:
            born = date(rng.randrange(1945, 1990), rng.randrange(1, 13), rng.randrange(1, 29))
            relation = "户主"
        else:
            born = date(rng.randrange(1935, 2019), rng.randrange(1, 13), rng.randrange(1, 29))
            relation = _RELATIONS[(index + number) % len(_RELATIONS)]
        born_cell, born = self.date_cell(born)
        child = born.year >= 2006
        labour_label = "无劳动力" if child else self.turn("labour_capacity")
        health_label = self.turn("health")
        health = self.tables["health"][health_label]
        grade_label = self.turn("disability_grade") if health_label == "残疾" else "无"
        # the order code: one number a person of that county and birth day, so none repeats
        key = f"{county_code}{born:%Y%m%d}"
        self.sequence[key] = self.sequence.get(key, 0) + 1
        first17 = f"{key}{self.sequence[key]:03d}"
        name = _SURNAMES[rng.randrange(len(_SURNAMES))] + "".join(
            rng.choice(_GIVEN) for _ in range(rng.randrange(1, 3)))
        flags = {"dependent_elderly": born.year < 1950 and (index + number) % 3 == 0,
                 "orphan": child and (index + number) % 29 == 7,
                 "left_behind_child": child and (index + number) % 5 == 2,
                 "dropped_out": child and (index + number) % 19 == 4}
        member = {"member_id": str(number + 1), "birth_date": born,
                  "labour_capacity": self.tables["labour_capacity"][labour_label],
                  "health": health, "disability_grade": self.tables["disability_grade"][
                      grade_label], **flags}
        cells = {"姓名": Cell("text", name, name),
                 "证件号码": Cell("text", first17 + id_check_digit(first17),
                                  first17 + id_check_digit(first17)),
                 "与户主关系": Cell("text", relation, relation), "出生日期": born_cell,
                 "劳动技能": Cell("text", labour_label, labour_label),
                 "健康状况": Cell("text", health_label, health_label),
                 "残疾等级": Cell("text", grade_label, grade_label),
                 "是否失能老人": self.yes_no(flags["dependent_elderly"]),
                 "是否孤儿": self.yes_no(flags["orphan"]),
                 "是否留守儿童": self.yes_no(flags["left_behind_child"]),
                 "是否辍学": self.yes_no(flags["dropped_out"])}
        return member, cells


def write_xlsx(ledger: SyntheticLedger, path: str | Path) -> None:
    """The ledger as the platform exports it: two merged title rows, the header on row 3."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    book.set_properties({"created": datetime(2021, 9, 1)})  # the same bytes for the same seed
    sheet = book.add_worksheet(SHEET)
    as_date = book.add_format({"num_format": "yyyy-mm-dd"})
    money = book.add_format({"num_format": "0.00"})
    last = len(HEADERS) - 1
    sheet.merge_range(0, 0, 0, last, TITLE)
    sheet.merge_range(1, 0, 1, last, SUBTITLE)
    sheet.write_row(2, 0, HEADERS)
    merged = {(row, column): (first, end) for first, end, column in ledger.merges
              for row in range(first, end + 1)}
    for offset, row in enumerate(ledger.rows):
        for column, cell in enumerate(row):
            span = merged.get((offset, column))
            if span is not None:
                if span[0] == offset:
                    sheet.merge_range(3 + span[0], column, 3 + span[1], column, None)
                    _write_cell(sheet, 3 + offset, column, cell, as_date, money)
                continue
            _write_cell(sheet, 3 + offset, column, cell, as_date, money)
    book.close()


def _write_cell(sheet: Any, row: int, column: int, cell: Cell, as_date: Any, money: Any) -> None:
    if cell.kind == "text":
        sheet.write_string(row, column, cell.value)
    elif cell.kind == "number":
        sheet.write_number(row, column, cell.value, money)
    elif cell.kind == "date":
        sheet.write_datetime(row, column, cell.value, as_date)
    elif cell.kind == "formula":
        sheet.write_formula(row, column, "=21455.97/3", money, cell.value)


def csv_rows(ledger: SyntheticLedger) -> list[list[str]]:
    """The rows a CSV export of the ledger holds (title rows first, every cell as text)."""
    width = len(HEADERS)
    rows = [[TITLE] + [""] * (width - 1), [SUBTITLE] + [""] * (width - 1), list(HEADERS)]
    rows.extend([cell.text for cell in row] for row in ledger.rows)
    return rows


def write_csv(ledger: SyntheticLedger, path: str | Path, encoding: str = "utf-8-sig") -> None:
    with open(path, "w", encoding=encoding, newline="") as stream:
        csv.writer(stream).writerows(csv_rows(ledger))


def write_jsonl(ledger: SyntheticLedger, path: str | Path) -> None:
    from fangpin_rules.engine.serialize import dumps

    with open(path, "w", encoding="utf-8", newline="\n") as stream:
        for record in ledger.records:
            stream.write(dumps(record) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fangpin_rules.ledger.synthetic",
                                     description="Write a synthetic national-layout ledger.")
    parser.add_argument("--households", type=int, default=40)
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--xlsx", metavar="FILE")
    parser.add_argument("--csv", metavar="FILE")
    parser.add_argument("--encoding", default="utf-8-sig",
                        choices=("utf-8", "utf-8-sig", "gb18030"))
    parser.add_argument("--jsonl", metavar="FILE", help="the same households as JSON lines")
    args = parser.parse_args(argv)
    ledger = synthetic_ledger(args.households, args.seed)
    if args.xlsx:
        write_xlsx(ledger, args.xlsx)
    if args.csv:
        write_csv(ledger, args.csv, args.encoding)
    if args.jsonl:
        write_jsonl(ledger, args.jsonl)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
