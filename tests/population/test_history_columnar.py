"""`fangpin report history --engine columnar`: each month's households decided in columns give
the record engine's histories, findings, rejects and counts byte for byte; the months are still
merged by id, a bounded number of households read ahead; what it cannot express is refused."""

from __future__ import annotations

import io
import json
import re
from datetime import date
from pathlib import Path

import pytest

from fangpin_rules import load_policy
from fangpin_rules.cli.main import main
from fangpin_rules.population import history as history_module
from fangpin_rules.population.history import HistoryRun, MonthFile, history

from population_support import CASES, policy_beyond_columns
from support import FUJIAN, benchmark_module

MONTHS = ("2022-01", "2022-02", "2022-03", "2022-04")
HOUSEHOLDS = 1_200
_ID = re.compile(r'"household_id":"G\d+-\d{6}-(\d{7})"')


def month_lines(month: int) -> list[str]:
    """The same ids every month (sorted), the data drawn afresh (statuses and incomes change),
    a few households missing in some months, and bad records: not JSON, outside the contract,
    a member twice, the same id twice."""
    generate = benchmark_module("gen_households").generate_lines
    lines = [_ID.sub(r'"household_id":"H\1"', line)
             for line in generate(HOUSEHOLDS, seed=month, as_of=date(2022, month, 1))]
    lines = [line for number, line in enumerate(lines) if (number + month) % 17]
    first = json.loads(lines[10])
    lines[10] = json.dumps({**first, "members": first["members"] + first["members"][:1]})
    lines.insert(20, "{not json")
    lines.insert(30, json.dumps({"household_id": "H0000031x", "members": 3}))
    lines.insert(40, lines[39])
    return lines


def write_months(folder: Path) -> list[str]:
    values = []
    for number, label in enumerate(MONTHS, start=1):
        path = folder / f"{label}.jsonl"
        path.write_text("\n".join(month_lines(number)) + "\n", encoding="utf-8")
        values.append(f"{label}={path}")
    return values


def _run(tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str],
         engine: str) -> tuple[int, bytes, bytes, str]:
    out, rejects = tmp_path / f"{engine}.out", tmp_path / f"{engine}.rejects"
    code = main([*arguments, "--engine", engine, "-o", str(out), "--rejects", str(rejects)])
    return code, out.read_bytes(), rejects.read_bytes(), capsys.readouterr().err


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """500 households a month read ahead: each month decided in several chunks."""
    monkeypatch.setattr(history_module, "COLUMNAR_CHUNK", 1_000)


@pytest.mark.parametrize("form", ["json", "csv"])
def test_the_histories_are_the_record_engines(tmp_path: Path, small_chunks: None,
                                              capsys: pytest.CaptureFixture[str],
                                              form: str) -> None:
    command = ["report", "history", *write_months(tmp_path), "--cases", str(CASES),
               "--format", form]
    by_record = _run(tmp_path, capsys, command, "record")
    by_column = _run(tmp_path, capsys, command, "columnar")
    assert by_column == by_record
    code, _, rejects, err = by_column
    assert code == 1 and rejects.count(b"\n") == 4 * len(MONTHS)
    found = dict(re.findall(r"(\w+) (\d+)", err.split("findings: ")[1]))
    assert len([n for n in found.values() if int(n) > 0]) >= 3  # several kinds of finding
    households, read, decided, rejected = (int(n) for n in re.search(
        r"households (\d+); records read (\d+), decided (\d+), rejected (\d+)",
        err).groups())  # type: ignore[union-attr]
    assert read == decided + rejected and households > 1_000


def test_with_earlier_decision_files(tmp_path: Path, small_chunks: None,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    """Decisions read from files; only the eliminated households decided again, in columns."""
    months = write_months(tmp_path)[:2]
    decisions = []
    for value, last_day in zip(months, ("2022-01-31", "2022-02-28"), strict=True):
        label, path = value.split("=")
        out = tmp_path / f"decisions-{label}.jsonl"
        main(["eval", str(FUJIAN), path, "--as-of", last_day, "-o", str(out)])
        decisions += ["--decisions", f"{label}={out}"]
    capsys.readouterr()
    command = ["report", "history", *months, *decisions]
    by_record = _run(tmp_path, capsys, command, "record")
    by_column = _run(tmp_path, capsys, command, "columnar")
    assert by_column == by_record
    assert "eliminated_not_eligible" in by_column[1].decode()
    assert re.search(r"decisions read (\d+), used \1, rejected 0", by_column[3])


def test_the_months_are_still_streamed(small_chunks: None) -> None:
    """The first history comes before any month is read whole: a chunk a month read ahead."""
    policy = load_policy(FUJIAN)
    read: dict[str, int] = {}

    class Source(io.StringIO):
        def __init__(self, text: str, name: str) -> None:
            super().__init__(text)
            self.name = name

        def readline(self, size: int | None = -1) -> str:
            read[self.name] = read.get(self.name, 0) + 1
            return super().readline(size)

    lines = {label: month_lines(number) for number, label in enumerate(MONTHS, start=1)}
    months = [MonthFile(label, label, Source("\n".join(text) + "\n", label))
              for label, text in lines.items()]
    counts = HistoryRun()
    histories = history(policy, months, run=counts, engine="columnar")
    next(histories)
    assert all(400 < read[label] <= 502 for label in MONTHS) and len(read) == len(MONTHS)
    assert sum(1 for _ in histories) + 1 == counts.households


def test_a_policy_it_cannot_express_is_refused_with_its_position(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = policy_beyond_columns(tmp_path)
    assert main(["report", "history", *write_months(tmp_path)[:1], "--policy", str(policy),
                 "--engine", "columnar"]) == 2
    err = capsys.readouterr().err
    assert "policy.yaml:" in err and "round()" in err and "Traceback" not in err
