"""`impact(old, new, records, as_of)`: whom a new version of a policy decides differently.

Each household is decided under both versions and the two decisions compared output by output.
The report keeps counters only: households changed per output, for every `first_match` output
a transition table (old label x new label, unknown included), for every `collect` output the
households gaining and losing each label, and the first few household ids of each kind of change.
Its size depends on the policies' vocabularies, never on the number of households, so a million
households run in constant memory; `on_change` sees every changed household as it passes.

An output that reads no household field (the monitoring line in force, say) is the same for every
household: it is compared and counted, but a change of it alone does not make a household
"changed" (else raising the line would change every household and hide the ones it moves).

Under a region table (both versions RegionalPolicy, the same table applied to each) every
household is decided with its county's parameters by both, and one of no county in the table is
rejected naming `region_code`. A parameter then differs from county to county, so no output is
the same for every household: each is compared household by household.

The data-consistency warnings (`warnings`, §18) are compared like a `collect` output: as the
set of warnings a decision carries, each its code and the field it names (its `cite` is the
rule's and moves no household); the households gaining and losing each code are counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fangpin_rules.engine.policy import Policy, parse_date
from fangpin_rules.engine.records import RecordError, Rejection
from fangpin_rules.engine.regions import AnyPolicy, RegionalPolicy, base_of
from fangpin_rules.engine.stream import COLUMNAR_CHUNK, read_item
from fangpin_rules.engine.typed_json import typed_reader

# Keys of a decision record that are not outputs to compare: identity, and what repeats the
# deadlines (`overdue`, `violations`) or explains the decision (`trace`).
NOT_COMPARED = frozenset({"household_id", "policy", "as_of", "trace", "overdue", "violations"})
SAMPLE_SIZE = 5
REJECTION_SAMPLE = 20


@dataclass(frozen=True, slots=True)
class ChangedHousehold:
    """A household decided differently, with both decisions (trace left out)."""

    household_id: str
    line: int
    changed: tuple[str, ...]  # the outputs that differ, in the new policy's order
    old: dict[str, Any]
    new: dict[str, Any]

    def to_json(self, numbered_by: str = "line") -> dict[str, Any]:
        """`numbered_by`: the key of the household's number ("row" for a Parquet file's)."""
        return {"household_id": self.household_id, numbered_by: self.line,
                "changed": list(self.changed), "old": self.old, "new": self.new}


@dataclass
class ImpactReport:
    """Counts of households decided differently by two versions on one date."""

    as_of: date
    outputs: tuple[str, ...]  # compared outputs, in the new policy's order
    kinds: dict[str, str]  # output -> first_match | collect | value | object | deadlines | warnings
    uniform: frozenset[str] = frozenset()  # outputs that read no household field
    sample_size: int = SAMPLE_SIZE
    read: int = 0
    compared: int = 0
    rejected: int = 0
    changed: int = 0  # households with at least one output changed (outside `uniform`)
    by_output: Counter[str] = field(default_factory=Counter)
    transitions: dict[str, Counter[tuple[str | None, str | None]]] = field(default_factory=dict)
    gained: dict[str, Counter[str]] = field(default_factory=dict)
    lost: dict[str, Counter[str]] = field(default_factory=dict)
    samples: dict[str, list[str]] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)  # the first few
    numbered_by: str = "line"  # what a record's number counts: "row" for a Parquet file's

    def sample(self, kind: str, household_id: str) -> None:
        ids = self.samples.setdefault(kind, [])
        if len(ids) < self.sample_size:
            ids.append(household_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "read": self.read, "compared": self.compared, "rejected": self.rejected,
            "changed": self.changed,
            "outputs": [{"output": name, "kind": self.kinds[name],
                         "same_for_every_household": name in self.uniform,
                         "changed": self.by_output.get(name, 0),
                         "sample": self.samples.get(name, [])} for name in self.outputs],
            "transitions": {
                name: [{"old": old, "new": new, "households": count,
                        "sample": self.samples.get(transition_key(name, old, new), [])}
                       for (old, new), count in sorted(table.items(), key=_cell_order)]
                for name, table in self.transitions.items()},
            "labels": {
                name: [{"label": label, "gained": self.gained[name].get(label, 0),
                        "lost": self.lost[name].get(label, 0),
                        "sample_gained": self.samples.get(label_key(name, "+", label), []),
                        "sample_lost": self.samples.get(label_key(name, "-", label), [])}
                       for label in sorted(self.gained[name].keys() | self.lost[name].keys())]
                for name in self.gained},
            "rejections": [r.to_json(self.numbered_by) for r in self.rejections],
        }


@dataclass(frozen=True, slots=True)
class Decided:
    """A compared household as the run saw it: the record, its cases, both decisions and the
    outputs that changed (outside those that read no household field). On the columnar path
    the decisions of a household no output of which that reads household fields changed hold
    only what the comparison reads (its `first_match` outputs and the outputs the same for
    every household); `decide` decides it with another policy."""

    household: Any
    line: int
    cases: Sequence[Any]
    old: dict[str, Any]
    new: dict[str, Any]
    changed: tuple[str, ...]
    uniform: frozenset[str]  # the outputs that read no household field
    batch: ColumnarBatch | None = None  # the chunk it was decided in, on the columnar path

    def decide(self, policy: AnyPolicy, when: date) -> dict[str, Any] | None:
        """Its decision by another policy on `when` (a variant of attribution's), None when
        that policy cannot decide it: in columns with its chunk on the columnar path."""
        if self.batch is not None:
            return self.batch.decision(policy, self.household)
        try:
            return policy.evaluate(self.household, when, cases=self.cases)
        except RecordError:
            return None


WARNINGS = "warnings"  # the decision record's data-consistency warnings, compared as a set


def same_output(kind: str, old_value: Any, new_value: Any) -> bool:
    """Whether two decisions agree on an output (a `collect` output is a set of labels, the
    warnings a set of (code, field))."""
    if kind == "collect":
        return set(old_value or ()) == set(new_value or ())
    if kind == WARNINGS:
        return warning_set(old_value) == warning_set(new_value)
    return bool(old_value == new_value)


def warning_set(warnings: Any) -> frozenset[tuple[str, str]]:
    """A decision's warnings as what they say: each code with the field it names."""
    return frozenset((str(w.get("code")), str(w.get("field"))) for w in warnings or ())


def transition_key(output: str, old: str | None, new: str | None) -> str:
    return f"{output}: {old or 'null'} -> {new or 'null'}"


def label_key(output: str, sign: str, label: str) -> str:
    return f"{output} {sign}{label}"


def _cell_order(item: tuple[tuple[str | None, str | None], int]) -> tuple[str, str]:
    (old, new), _count = item
    return (old or "", new or "")


ENGINES = ("record", "columnar")


def impact(old: AnyPolicy, new: AnyPolicy, records: Iterable[Any], as_of: date | str, *,
           sample_size: int = SAMPLE_SIZE, numbered: bool = False,
           cases: Mapping[str, Sequence[Any]] | None = None,
           on_change: Callable[[ChangedHousehold], None] | None = None,
           on_reject: Callable[[Rejection], None] | None = None,
           on_decided: Callable[[Decided], None] | None = None,
           engine: str = "record", numbered_by: str = "line") -> ImpactReport:
    """Decide every record under `old` and `new` on `as_of` and count what changes.

    `records` are household dicts or `Household`s (or, with `numbered`, the `(line, item)` pairs
    of `read_records` or `numbered_items`: JSONL lines are read by the typed fast reader, and
    `RecordError` items count as rejected). `cases` maps household ids
    to their case records, whose procedure deadlines are then compared too. A record outside the
    data contract, or one a version cannot decide, is rejected and the run goes on: read =
    compared + rejected. `on_decided` sees every compared household (changed or not) with
    both decisions, after `on_change`. Raises DateError when a version does not apply on `as_of`.

    `engine`: "record" decides household by household; "columnar" decides `COLUMNAR_CHUNK`
    households at a time in columns (docs/columnar.md), the same decisions, so the same report;
    a version it cannot express raises ColumnarUnsupported before any record.
    `old` and `new` may both be RegionalPolicy (see module). `numbered_by` names what the
    records' numbers count in the report ("row" for a Parquet file's, 0-based).
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if isinstance(old, RegionalPolicy) != isinstance(new, RegionalPolicy):
        raise ValueError("decide both versions under a region table, or neither")
    when = parse_date(as_of)
    for version in (old, new):  # a date either cannot answer for fails before any record
        version.check_date(when)
    outputs, kinds = compared_outputs(base_of(old), base_of(new))
    uniform = frozenset() if isinstance(old, RegionalPolicy) else frozenset(
        name for name in outputs
        if not (_reads_household(base_of(old), name) or _reads_household(base_of(new), name)))
    report = ImpactReport(when, outputs, kinds, uniform, sample_size, numbered_by=numbered_by)
    for name, kind in kinds.items():
        if kind == "first_match":
            report.transitions[name] = Counter()
        elif kind in ("collect", WARNINGS):
            report.gained[name], report.lost[name] = Counter(), Counter()
    if engine == "columnar":
        pairs = _columnar_pairs(old, new, _numbered(records, numbered), when, cases, report)
    else:
        pairs = _record_pairs(old, new, _numbered(records, numbered), when, cases)
    for line, household, own, before, after, batch in pairs:
        report.read += 1
        if isinstance(before, Rejection):
            rejection = before
            if rejection.line is None:
                rejection = rejection.at_line(line)
            report.rejected += 1
            if len(report.rejections) < REJECTION_SAMPLE:
                report.rejections.append(rejection)
            if on_reject is not None:
                on_reject(rejection)
            continue
        assert after is not None
        report.compared += 1
        changed = _compare(report, household.household_id, before, after)
        if changed:
            report.changed += 1
            if on_change is not None:
                on_change(ChangedHousehold(household.household_id, line, changed,
                                           _without_trace(before), _without_trace(after)))
        if on_decided is not None:
            on_decided(Decided(household, line, own, before, after, changed, uniform, batch))
    return report


# (line, household or None, its cases, the old decision or the rejection, the new decision,
# the columnar batch it was decided in or None)
Pair = tuple[int, Any, Sequence[Any], dict[str, Any] | Rejection, dict[str, Any] | None, Any]


def _record_pairs(old: AnyPolicy, new: AnyPolicy, records: Iterator[tuple[int, Any]],
                  when: date, cases: Mapping[str, Sequence[Any]] | None) -> Iterator[Pair]:
    reader = typed_reader(base_of(old).checked.record_model)
    for line, item in records:
        try:
            household = read_item(base_of(old), reader, line, item)
            own = cases.get(household.household_id, ()) if cases else ()
            before = _decide(old, household, when, own, "old")
            after = _decide(new, household, when, own, "new")
        except RecordError as exc:
            yield line, None, (), exc.rejection, None, None
            continue
        yield line, household, own, before, after, None


def _columnar_pairs(old: AnyPolicy, new: AnyPolicy, records: Iterator[tuple[int, Any]],
                    when: date, cases: Mapping[str, Sequence[Any]] | None,
                    report: ImpactReport) -> Iterator[Pair]:
    """The pairs of `_record_pairs`, each chunk of households decided in columns under both
    versions (and, for attribution, the variants: `ColumnarBatch.decision`)."""
    from fangpin_rules.columnar.engine import columnar_plan
    from fangpin_rules.engine.stream import chunks

    base = base_of(old)
    columnar_plan(old, when)  # a version it cannot express is refused before any record
    columnar_plan(new, when)
    reader = typed_reader(base.checked.record_model)
    for chunk in chunks(records, COLUMNAR_CHUNK):
        read: list[Any] = []
        own_cases: dict[str, list[Any]] = {}
        for line, item in chunk:
            try:
                household = read_item(base, reader, line, item)
                listed = cases.get(household.household_id) if cases else None
                if listed:
                    own_cases[household.household_id] = _checked_cases(old, household, when,
                                                                       listed)
                read.append(household)
            except RecordError as exc:
                read.append(exc.rejection)
        batch = ColumnarBatch(report, old, when, [(line, household) for (line, _), household
                                                  in zip(chunk, read, strict=True)
                                                  if not isinstance(household, Rejection)],
                              own_cases)
        pairs = iter(batch.compare(old, new))
        for (line, _), household in zip(chunk, read, strict=True):
            if isinstance(household, Rejection):
                yield line, None, (), household, None, None
                continue
            pair = next(pairs)
            if isinstance(pair, Rejection):
                yield line, None, (), pair, None, None
                continue
            yield line, household, own_cases.get(household.household_id, ()), pair[0], \
                pair[1], batch


def _checked_cases(old: AnyPolicy, household: Any, when: date, listed: Sequence[Any]
                   ) -> list[Any]:
    """A household's cases checked against the contract; for a bad one, the RecordError the
    record path rejects the household with (the old version's, which it decides first)."""
    from fangpin_rules.engine.records import checked_case

    try:
        return [checked_case(case, household_id=household.household_id) for case in listed]
    except RecordError:
        _decide(old, household, when, listed, "old")  # raises the record path's rejection
        raise


class ColumnarBatch:
    """One chunk of households read for a columnar impact run, as one table (built once)
    that both versions, and attribution's variants, decide in columns.

    The versions' decisions are compared column by column first: a household whose outputs
    that read household fields are written alike by both (most of them) is not turned into
    Python values whole; its `old` and `new` hold what the comparison reads of them, the
    `first_match` outputs and the outputs the same for every household, which count as the
    record path counts them. Every other household gets both decisions whole, as
    `policy.evaluate` makes them, and is compared by `_compare` as on the record path. A variant
    decides only the households the versions decide differently (those attribution asks
    about), once."""

    def __init__(self, report: ImpactReport, old: AnyPolicy, when: date,
                 read: list[tuple[int, Any]], cases: Mapping[str, list[Any]] | None = None
                 ) -> None:
        from fangpin_rules.columnar.engine import ReadRecords

        self.report, self.when = report, when
        self.households = [household for _, household in read]
        self.records = ReadRecords(old, self.households, [line for line, _ in read], cases)
        self.position = {id(household): index for index, household in enumerate(self.households)}
        self.whole: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}  # by position
        self.changed: list[int] | None = None  # the positions the versions decide differently
        self.variants: dict[int, tuple[AnyPolicy, dict[int, dict[str, Any] | None]]] = {}

    def compare(self, old: AnyPolicy, new: AnyPolicy
                ) -> list[tuple[dict[str, Any], dict[str, Any]] | Rejection]:
        """Each household's two decisions (whole, or what the comparison reads), or the
        rejection of the first version that cannot decide it."""
        import polars as pl

        from fangpin_rules.columnar.engine import _number_paths, record_form

        old_table, old_rows, old_failed = self.records.decide_arrow(old, self.when)
        new_table, new_rows, new_failed = self.records.decide_arrow(new, self.when)
        out: list[tuple[dict[str, Any], dict[str, Any]] | Rejection | None] = \
            [None] * len(self.households)
        for failed, version in ((new_failed, "new"), (old_failed, "old")):
            for index, exc in failed.items():
                found = exc.rejection
                out[index] = Rejection(found.line, found.household_id, found.field,
                                       f"{version} policy: {found.reason}")
        both = [index for index in old_rows if out[index] is None]
        if not both:
            return [entry for entry in out if entry is not None]
        old_table = _rows_at(old_table, old_rows, both)
        new_table = _rows_at(new_table, new_rows, both)
        report = self.report
        differs = pl.Series([False] * len(both))
        for name in report.outputs:
            if name in report.uniform:
                continue
            before, after = _column(old_table, name), _column(new_table, name)
            if report.kinds[name] == "collect":  # a set: compared in one order
                before, after = _sorted_lists(before), _sorted_lists(after)
            differs = differs | before.ne_missing(after)
        numbers = (_number_paths(base_of(old)), _number_paths(base_of(new)))
        whole = differs.arg_true().to_list()
        picked = [pl.Series(whole, dtype=pl.Int64).to_arrow()]
        for row, before_row, after_row in zip(
                whole, old_table.take(picked[0]).to_pylist(),
                new_table.take(picked[0]).to_pylist(), strict=True):
            pair = (record_form(numbers[0], before_row), record_form(numbers[1], after_row))
            self.whole[both[row]] = pair
            out[both[row]] = pair
        first = old_table.slice(0, 1).to_pylist(), new_table.slice(0, 1).to_pylist()
        same_old = {name: record_form(numbers[0], first[0][0]).get(name)
                    for name in report.uniform}
        same_new = {name: record_form(numbers[1], first[1][0]).get(name)
                    for name in report.uniform}
        labels = [(name, _column(old_table, name).to_list()) for name in report.outputs
                  if report.kinds[name] == "first_match" and name not in report.uniform]
        for row, index in enumerate(both):
            if out[index] is None:  # both versions write its outputs alike
                read = {name: values[row] for name, values in labels}
                out[index] = ({**same_old, **read}, {**same_new, **read})
        return [entry for entry in out if entry is not None]

    def decision(self, policy: AnyPolicy, household: Any) -> dict[str, Any] | None:
        """`policy`'s decision of a household of the chunk that the versions decide
        differently (None: the policy cannot decide it), as `policy.evaluate` decides it."""
        held = self.variants.get(id(policy))
        if held is None:
            changed = self._changed()
            results = self.records.decide(policy, self.when, changed)
            held = (policy, {index: None if isinstance(result, RecordError) else result
                             for index, result in zip(changed, results, strict=True)})
            self.variants[id(policy)] = held  # the policy held too: its id stays its own
        return held[1][self.position[id(household)]]

    def _changed(self) -> list[int]:
        if self.changed is None:
            report = self.report
            watched = [(name, report.kinds[name]) for name in report.outputs
                       if name not in report.uniform]
            self.changed = [index for index, (old, new) in sorted(self.whole.items())
                            if any(not same_output(kind, old.get(name), new.get(name))
                                   for name, kind in watched)]
        return self.changed


def _rows_at(table: Any, rows: list[int], wanted: list[int]) -> Any:
    """The rows of `table` (row i is the household at position rows[i]) of the positions
    `wanted`, in their order."""
    if rows == wanted:
        return table
    import pyarrow as pa
    row_of = {position: row for row, position in enumerate(rows)}
    return table.take(pa.array([row_of[index] for index in wanted], pa.int64()))


def _sorted_lists(series: Any) -> Any:
    """Each list of `series` sorted. `list.sort()` sorts the lists on Polars' thread pool,
    which with two threads cost 25 times the one-threaded time (69 against 2.8 ms for 5,000
    label sets; 3.2 against 1.1 s wall for a columnar impact over 20,000 households); a
    sort inside `list.eval` does not."""
    import polars as pl
    return series.list.eval(pl.element().sort())


def _column(table: Any, name: str) -> Any:
    """A decision column as a Polars Series (all null when the version does not write it)."""
    import polars as pl
    import pyarrow as pa
    if name not in table.column_names:
        return pl.Series([None] * table.num_rows)
    column = table.column(name)
    series = pl.from_arrow(column.combine_chunks() if isinstance(column, pa.ChunkedArray)
                           else column)
    assert isinstance(series, pl.Series)
    return series


def _numbered(records: Iterable[Any], numbered: bool) -> Iterator[tuple[int, Any]]:
    if numbered:
        yield from records
    else:
        yield from enumerate(records, start=1)


def _decide(policy: AnyPolicy, household: Any, when: date, cases: Sequence[Any],
            version: str) -> dict[str, Any]:
    try:
        return policy.evaluate(household, when, cases=cases)
    except RecordError as exc:  # this version cannot decide it: say which one
        found = exc.rejection
        raise RecordError(Rejection(found.line, found.household_id, found.field,
                                    f"{version} policy: {found.reason}")) from None


def compared_outputs(old: Policy, new: Policy) -> tuple[tuple[str, ...], dict[str, str]]:
    """The decision-record keys both versions write, and how to compare each."""
    kinds: dict[str, str] = {}
    for policy in (new, old):
        checked = policy.checked
        for name in checked.outputs:
            key = checked.output_name(name)
            kinds.setdefault(key, checked.document.decisions[name].kind)
    kinds["deadlines"] = "deadlines"
    kinds[WARNINGS] = WARNINGS
    return tuple(kinds), kinds


def _reads_household(policy: Policy, output: str) -> bool:
    """Whether the decision written as `output` reads a household field, directly or through
    the definitions it uses (deadlines read the household's dates: always)."""
    checked = policy.checked
    names = [n for n in checked.outputs if checked.output_name(n) == output]
    if not names:
        return output in ("deadlines", WARNINGS)
    seen: set[str] = set()
    todo = names
    while todo:
        node = checked.nodes.get(todo.pop())
        if node is None or node.name in seen:
            continue
        seen.add(node.name)
        if node.inputs:
            return True
        todo.extend(node.dependencies)
    return False


def _compare(report: ImpactReport, household_id: str, before: dict[str, Any],
             after: dict[str, Any]) -> tuple[str, ...]:
    changed = []
    for name in report.outputs:
        kind = report.kinds[name]
        old_value, new_value = before.get(name), after.get(name)
        if kind in ("collect", WARNINGS):
            if same_output(kind, old_value, new_value):
                continue
            old_set, new_set = _labels(kind, old_value), _labels(kind, new_value)
            for sign, labels, counter in (("+", new_set - old_set, report.gained[name]),
                                          ("-", old_set - new_set, report.lost[name])):
                for label in labels:
                    counter[label] += 1
                    report.sample(label_key(name, sign, label), household_id)
        else:
            if kind == "first_match":
                report.transitions[name][(old_value, new_value)] += 1
            if old_value == new_value:
                continue
            if kind == "first_match":
                report.sample(transition_key(name, old_value, new_value), household_id)
        report.by_output[name] += 1
        if name not in report.uniform:
            changed.append(name)
            report.sample(name, household_id)
    return tuple(changed)


def _labels(kind: str, value: Any) -> set[str]:
    """What a household gains or loses: a `collect` output's labels, the warnings' codes."""
    if kind == WARNINGS:
        return {code for code, _ in warning_set(value)}
    return set(value or ())


def _without_trace(decision: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in decision.items() if k != "trace"}
